// The matching stage: verified inliers obey the synthetic scene's exact
// epipolar geometry, pairs are chosen as configured, and COLMAP's storage
// conventions (pair id, swapped order) hold; learned float descriptors are stored
// apart from COLMAP's table and matched by mutual nearest neighbours.
#include <QtTest>

#include <numeric>
#include <random>

#include "io/colmap_model.h"
#include "features/feature_extractor.h"
#include "features/matching.h"
#include "pipeline/methods.h"
#include "pipeline/schema.h"
#include "io/database.h"
#include "pipeline/runner.h"
#include "pipeline/stage.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace parallax;

namespace {

Eigen::Matrix3d skew(const Eigen::Vector3d& v) {
  Eigen::Matrix3d m;
  m << 0, -v.z(), v.y(), v.z(), 0, -v.x(), -v.y(), v.x(), 0;
  return m;
}

Eigen::Matrix3d intrinsics(const Camera& c) {
  Eigen::Matrix3d K;
  K << c.focalX(), 0, c.principalX(), 0, c.focalY(), c.principalY(), 0, 0, 1;
  return K;
}

// Distance in pixels from x2 to the epipolar line of x1 (and back), averaged.
double epipolarError(const Eigen::Matrix3d& F, const Eigen::Vector2d& x1,
                     const Eigen::Vector2d& x2) {
  Eigen::Vector3d a(x1.x(), x1.y(), 1), b(x2.x(), x2.y(), 1);
  Eigen::Vector3d l2 = F * a, l1 = F.transpose() * b;
  double e = b.dot(l2);
  return 0.5 * (std::abs(e) / l2.head<2>().norm() + std::abs(e) / l1.head<2>().norm());
}

}  // namespace

class TestMatching : public QObject {
  Q_OBJECT
 private slots:
  void verifiedInliersObeyTheTrueEpipolarGeometry() {
    QTemporaryDir tmp;
    const fs::path sample = test::ringSampleDir();
    Database db(test::projectFrom(sample, tmp, "matching") / "database.db");
    Reconstruction gt = readColmapModel(sample / "ground_truth" / "sparse");
    const Camera& cam = gt.cameras.begin()->second;
    const Eigen::Matrix3d Kinv = intrinsics(cam).inverse();
    std::map<std::string, const Image*> gtByName;
    for (const auto& [id, im] : gt.images) gtByName[im.name] = &im;
    auto images = db.readImages();
    std::vector<double> errors;
    int verified = 0, adjacentVerified = 0;
    for (size_t i = 0; i < images.size(); ++i)
      for (size_t j = i + 1; j < images.size(); ++j) {
        TwoViewGeometry g = db.readTwoViewGeometry(images[i].image_id, images[j].image_id);
        if (g.inliers.empty()) continue;
        ++verified;
        if (j == i + 1) ++adjacentVerified;
        QVERIFY(g.config == kCalibrated || g.config == kUncalibrated ||
                g.config == kPlanarOrPanoramic);
        const Image& a = *gtByName.at(images[i].name);
        const Image& b = *gtByName.at(images[j].name);
        Rigid3d b_from_a = b.cam_from_world * a.cam_from_world.inverse();
        Eigen::Matrix3d F = Kinv.transpose() * skew(b_from_a.translation) *
                            b_from_a.rotation.toRotationMatrix() * Kinv;
        auto ka = db.readKeypoints(images[i].image_id), kb = db.readKeypoints(images[j].image_id);
        for (const auto& [x, y] : g.inliers)
          errors.push_back(epipolarError(F, {ka[x].x, ka[x].y}, {kb[y].x, kb[y].y}));
      }
    std::sort(errors.begin(), errors.end());
    const double median = errors[errors.size() / 2], p95 = errors[errors.size() * 95 / 100];
    qInfo(
        "%d verified pairs (%d of 23 neighbours), %zu inliers: epipolar error median %.2f px, 95%% "
        "%.2f px",
        verified, adjacentVerified, errors.size(), median, p95);
    QCOMPARE(adjacentVerified, 23);
    QVERIFY(median < 0.5);
    QVERIFY(p95 < 4.0);
  }

  void guidedMatchingFindsMoreTrueMatchesOnAWideBaseline() {
    // Photos two and three steps apart on the ring (wide baseline): the plain ratio test loses
    // matches to look-alikes; re-matching within the verified geometry recovers them.
    QTemporaryDir tmp;
    const fs::path sample = test::ringSampleDir();
    Database db(test::projectFrom(sample, tmp, "features") / "database.db");
    Reconstruction gt = readColmapModel(sample / "ground_truth" / "sparse");
    std::map<std::string, const Image*> gtByName;
    for (const auto& [id, im] : gt.images) gtByName[im.name] = &im;
    const Camera& cam = gt.cameras.begin()->second;
    const Eigen::Matrix3d Kinv = intrinsics(cam).inverse();
    const auto images = db.readImages();
    std::map<uint32_t, Camera> cameras;
    for (const Camera& c : db.readCameras()) cameras[c.camera_id] = c;
    size_t plainTotal = 0, guidedTotal = 0;
    std::vector<double> errors;
    for (size_t i = 0, step = 2; i + step < images.size(); step = step == 2 ? 3 : (++i, 2)) {
      const DatabaseImage &ia = images[i], &ib = images[i + step];
      const auto ka = db.readKeypoints(ia.image_id), kb = db.readKeypoints(ib.image_id);
      const auto da = db.readDescriptors(ia.image_id), dbs = db.readDescriptors(ib.image_id);
      const Camera &ca = cameras.at(ia.camera_id), &cb = cameras.at(ib.camera_id);
      const TwoViewGeometry g = verifyPair(ka, ca, kb, cb, matchDescriptors(da, dbs, {}), false, {});
      // Guided matching runs where the matching stage runs it: well-supported general pairs.
      if (g.inliers.size() < 30 || (g.config != kCalibrated && g.config != kUncalibrated))
        continue;
      const FeatureMatches guided = guidedMatch(da, ka, dbs, kb, g, 4.0, {});
      plainTotal += g.inliers.size();
      guidedTotal += guided.size();
      const Rigid3d b_from_a = gtByName.at(ib.name)->cam_from_world *
                               gtByName.at(ia.name)->cam_from_world.inverse();
      const Eigen::Matrix3d F = Kinv.transpose() * skew(b_from_a.translation) *
                                b_from_a.rotation.toRotationMatrix() * Kinv;
      for (const auto& [x, y] : guided)
        errors.push_back(epipolarError(F, {ka[x].x, ka[x].y}, {kb[y].x, kb[y].y}));
    }
    QVERIFY(!errors.empty());
    std::sort(errors.begin(), errors.end());
    const double median = errors[errors.size() / 2], p95 = errors[errors.size() * 95 / 100];
    qInfo("pairs 2-3 apart: %zu verified matches plain, %zu guided; guided epipolar error median "
          "%.2f px, 95%% %.2f px",
          plainTotal, guidedTotal, median, p95);
    QVERIFY(double(guidedTotal) >= 1.2 * double(plainTotal));
    QVERIFY(median < 0.5);
    QVERIFY(p95 < 4.0);
  }

  void sequentialModeMatchesOnlyNeighbours() {
    QTemporaryDir tmp;
    fs::path root = test::sampleProject(tmp);
    Workspace ws = Workspace::open(root);
    ws.setParamOverride("matching", "mode", "sequential");
    ws.setParamOverride("matching", "overlap", 2);
    ws.save();
    QCOMPARE(int(runStage(ws, "matching", nullptr)), int(RunResult::kSucceeded));
    QCOMPARE(ws.stageRecord("matching")["outputs"]["num_pairs"].get<int>(),
             23 + 22);  // 24 photos, overlap 2
    Database db(ws.databasePath());
    auto images = db.readImages();
    QVERIFY(db.readMatches(images[0].image_id, images[3].image_id).empty());
    QVERIFY(!db.readMatches(images[0].image_id, images[1].image_id).empty());
  }

  void storageFollowsColmapPairConventions() {
    QCOMPARE(pairId(3, 7), uint64_t(2147483647) * 3 + 7);
    QCOMPARE(pairId(7, 3), pairId(3, 7));
    QTemporaryDir tmp;
    Database db(test::tempPath(tmp, "db.db"));
    TwoViewGeometry g;
    g.config = kCalibrated;
    g.inliers = {{1, 10}, {2, 20}};
    g.cam2_from_cam1_rotation =
        Eigen::Quaterniond(Eigen::AngleAxisd(0.3, Eigen::Vector3d::UnitY()));
    g.cam2_from_cam1_translation = {1, 0, 0};
    g.F << 0, 1, 2, 3, 4, 5, 6, 7, 8;
    db.writeTwoViewGeometry(7, 3, g);  // written in "reverse" order
    TwoViewGeometry same = db.readTwoViewGeometry(7, 3), flipped = db.readTwoViewGeometry(3, 7);
    QCOMPARE(same.inliers, g.inliers);
    QVERIFY(same.cam2_from_cam1_rotation.isApprox(g.cam2_from_cam1_rotation));
    QVERIFY(same.F.isApprox(g.F));
    QCOMPARE(flipped.inliers, (FeatureMatches{{10, 1}, {20, 2}}));
    Rigid3d forward(g.cam2_from_cam1_rotation, g.cam2_from_cam1_translation);
    Rigid3d back(flipped.cam2_from_cam1_rotation, flipped.cam2_from_cam1_translation);
    QVERIFY((forward * back).translation.norm() < 1e-12);
    QCOMPARE(db.numVerifiedPairs(), size_t(1));
  }

  // Learned float descriptors: kept exactly in parallax_descriptors, never in COLMAP's
  // descriptors table (a SIFT reader there sees nothing to misread), recorded with their
  // type and size; SIFT written again for the same photo takes the COLMAP table back.
  void learnedDescriptorsAreStoredApartFromColmapsTable() {
    QTemporaryDir tmp;
    Database db(test::tempPath(tmp, "db.db"));
    const uint32_t cam = db.addCamera(Camera());
    const uint32_t a = db.addImage("a.png", cam), b = db.addImage("b.png", cam);
    FeatureDescriptors f;
    f.rows = 3, f.cols = 64;
    for (int i = 0; i < f.rows * f.cols; ++i) f.values.push_back(std::sin(0.37f * float(i)));
    std::vector<FeatureKeypoint> kps(3);
    db.writeFeatures(a, kps, f, "learnedfeat");
    FeatureDescriptors sift;
    sift.rows = 3, sift.cols = 128;
    sift.data.assign(3 * 128, 7);
    db.writeFeatures(b, kps, sift, "rootsift");
    const FeatureDescriptors back = db.readDescriptors(a);
    QVERIFY(back.isFloat() && back.data.empty());
    QCOMPARE(back.rows, 3);
    QCOMPARE(back.cols, 64);
    QCOMPARE(back.values, f.values);
    QCOMPARE(db.descriptorType(a), std::string("float32"));
    QCOMPARE(db.featureType(a), std::string("learnedfeat"));
    QCOMPARE(db.descriptorType(b), std::string("uint8"));
    QCOMPARE(db.readDescriptors(b).data, sift.data);
    QCOMPARE(db.readKeypoints(a).size(), size_t(3));
    // Rewritten as SIFT: the float rows go, COLMAP's table has it.
    db.writeFeatures(a, kps, sift, "rootsift");
    QVERIFY(!db.readDescriptors(a).isFloat());
    QCOMPARE(db.readDescriptors(a).data, sift.data);
    db.writeFeatures(a, kps, f, "learnedfeat");
    db.clearFeatures();
    QCOMPARE(db.readDescriptors(a).rows, 0);
    QCOMPARE(db.descriptorType(a), std::string(""));
  }

  // Mutual nearest neighbours on cosine similarity for unit float descriptors: every
  // feature finds its noisy copy, a similarity floor drops the dissimilar ones, the
  // optional ratio test drops ambiguous ones, and SIFT never matches learned features.
  void learnedDescriptorsMatchByMutualNearestNeighbours() {
    std::mt19937 rng(5);
    std::normal_distribution<float> gauss;
    const int n = 300, dims = 64;
    auto unit = [&](std::vector<float> v) {
      float s = 0;
      for (float x : v) s += x * x;
      for (float& x : v) x /= std::sqrt(s);
      return v;
    };
    FeatureDescriptors a, b;
    a.rows = b.rows = n, a.cols = b.cols = dims;
    std::vector<int> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<std::vector<float>> rowsA(n);
    for (int i = 0; i < n; ++i) {
      std::vector<float> v(dims);
      for (float& x : v) x = gauss(rng);
      rowsA[size_t(i)] = unit(v);
    }
    std::vector<std::vector<float>> rowsB(n);
    for (int i = 0; i < n; ++i) {
      // b[perm[i]] is a[i] with noise: cosine about 0.9 for i < 200, unrelated after.
      std::vector<float> v = rowsA[size_t(i)];
      const float noise = i < 200 ? 0.06f : 10.f;
      for (float& x : v) x += noise * gauss(rng);
      rowsB[size_t(perm[size_t(i)])] = unit(v);
    }
    for (auto& r : rowsA) a.values.insert(a.values.end(), r.begin(), r.end());
    for (auto& r : rowsB) b.values.insert(b.values.end(), r.begin(), r.end());
    // The options for a learned type come from its method: its ratio test, the stage's
    // similarity floor. A stand-in method registered as a plugin would.
    FeatureExtractor standIn, strictStandIn;
    standIn.matchRatio = [](const nlohmann::json&) { return 1.0; };
    strictStandIn.matchRatio = [](const nlohmann::json&) { return 0.5; };
    MethodRegistry::instance().add("features", "standin", standIn);
    MethodRegistry::instance().add("features", "strictin", strictStandIn);
    nlohmann::json params = Schema::instance().requireStage("matching").defaults();
    params["learned_min_similarity"] = 0.75;
    const MatchOptions learned = matchOptionsFor("standin-v1", params);
    QCOMPARE(learned.max_ratio, 1.0);
    QVERIFY(std::abs(learned.max_distance - distanceForSimilarity(0.75)) < 1e-12);
    const FeatureMatches m = matchDescriptors(a, b, learned);
    int right = 0;
    for (const auto& [i, j] : m) right += perm[i] == int(j) && i < 200;
    QCOMPARE(right, 200);
    QCOMPARE(int(m.size()), 200);  // the unrelated ones fall below the similarity floor
    MatchOptions open = learned;
    open.max_distance = distanceForSimilarity(-1.0);
    QVERIFY(matchDescriptors(a, b, open).size() > 200);
    // A ratio test keeps only clear winners: fewer matches, all right.
    const MatchOptions ratio = matchOptionsFor("strictin", params);
    QCOMPARE(ratio.max_ratio, 0.5);
    const FeatureMatches strict = matchDescriptors(a, b, ratio);
    QVERIFY(!strict.empty() && strict.size() < 200);
    for (const auto& [i, j] : strict) QCOMPARE(perm[i], int(j));
    // SIFT descriptors and learned ones never match each other.
    FeatureDescriptors sift;
    sift.rows = n, sift.cols = dims;
    sift.data.assign(size_t(n * dims), 40);
    QVERIFY(matchDescriptors(a, sift, MatchOptions()).empty());
    QCOMPARE(distanceForSimilarity(1.0), 0.0);
    // SIFT types take the stage's own options; a learned type whose method is not
    // installed is an error that says so, not SIFT's thresholds on float descriptors.
    QCOMPARE(matchOptionsFor("rootsift-upright", params).max_ratio, params["max_ratio"].get<double>());
    const QString why = test::errorOf([&] { matchOptionsFor("nosuchnet-x", params); });
    QVERIFY2(why.contains("features.nosuchnet") && why.contains("run the features stage again"), qPrintable(why));
    QVERIFY(std::abs(distanceForSimilarity(0.0) - std::sqrt(2.0)) < 1e-12);
  }
};

QTEST_GUILESS_MAIN(TestMatching)
#include "test_matching.moc"
