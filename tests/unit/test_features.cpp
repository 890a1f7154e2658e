// The features stage (SIFT): COLMAP's keypoint and descriptor layout, the
// options, and positions that agree with the synthetic scene's exact geometry.
#include <QtTest>
#include <fstream>

#include "io/colmap_model.h"
#include "io/database.h"
#include "pipeline/runner.h"
#include "pipeline/stage.h"
#include "synthetic/sample_scene.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;

namespace {

double descriptorNorm(const FeatureDescriptors& d, int row) {
  double s = 0;
  for (int c = 0; c < d.cols; ++c) s += std::pow(d.data[size_t(row) * d.cols + c] / 512.0, 2);
  return std::sqrt(s);
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Reruns the features stage of `root` with the given parameter values.
Database rerunFeatures(const fs::path& root, const json& params) {
  Workspace ws = Workspace::open(root);
  for (const auto& [k, v] : params.items()) ws.setParamOverride("features", k, v);
  ws.save();
  if (runStage(ws, "features", nullptr) != RunResult::kSucceeded)
    throw std::runtime_error("features failed");
  return Database(ws.databasePath());
}

}  // namespace

class TestFeatures : public QObject {
  Q_OBJECT
 private slots:
  void everyPhotoGetsKeypointsInColmapLayout() {
    QTemporaryDir tmp;
    Database db(test::sampleProject(tmp) / "database.db");
    for (const auto& im : db.readImages()) {
      auto kps = db.readKeypoints(im.image_id);
      FeatureDescriptors d = db.readDescriptors(im.image_id);
      QVERIFY2(kps.size() > 300, qPrintable(QString("%1 keypoints").arg(kps.size())));
      QCOMPARE(d.rows, int(kps.size()));
      QCOMPARE(d.cols, 128);
      QCOMPARE(db.featureType(im.image_id), std::string("rootsift"));
      for (const auto& k : kps) {
        QVERIFY(k.x >= 0 && k.x <= 320 && k.y >= 0 && k.y <= 240);
        QVERIFY(k.scale() > 0.5f);
      }
    }
  }

  void descriptorsAreNormalisedLikeColmap() {
    QTemporaryDir tmp;
    fs::path root = test::sampleProject(tmp);
    for (bool rootSift : {true, false}) {
      Database db = rerunFeatures(root, {{"root_sift", rootSift}});
      FeatureDescriptors d = db.readDescriptors(db.readImages().front().image_id);
      std::vector<double> norms;
      for (int r = 0; r < d.rows; ++r) norms.push_back(descriptorNorm(d, r));
      QVERIFY2(std::abs(median(norms) - 1.0) < 0.03,
               qPrintable(QString("median norm %1").arg(median(norms))));
    }
  }

  void optionsAreHonoured() {
    QTemporaryDir tmp;
    fs::path root = test::sampleProject(tmp);
    Database full(root / "database.db");
    const uint32_t id = full.readImages().front().image_id;
    const size_t fullCount = full.readKeypoints(id).size();

    Database few = rerunFeatures(root, {{"max_num_features", 50}});
    for (const auto& im : few.readImages()) QVERIFY(few.readKeypoints(im.image_id).size() <= 50);

    Database small = rerunFeatures(root, {{"max_num_features", 8192}, {"max_image_size", 160}});
    auto kps = small.readKeypoints(id);
    QVERIFY(!kps.empty() && kps.size() < fullCount);
    float maxX = 0;
    for (const auto& k : kps) maxX = std::max(maxX, k.x);
    QVERIFY2(maxX > 200 && maxX <= 320, "keypoints must be in full-resolution pixels");

    Database upright = rerunFeatures(root, {{"max_image_size", 3200}, {"upright", true}});
    for (const auto& k : upright.readKeypoints(id)) QVERIFY(k.a12 == 0.f && k.a21 == 0.f);
    QCOMPARE(upright.featureType(id), std::string("rootsift-upright"));
  }

  void matchedKeypointsAgreeWithGroundTruthGeometry() {
    // A denser ring than the shared sample: neighbouring views 15 degrees apart.
    QTemporaryDir tmp;
    const fs::path sample = test::ringSampleDir();
    Database db(test::projectFrom(sample, tmp, "features") / "database.db");
    Reconstruction gt = readColmapModel(sample / "ground_truth" / "sparse");
    auto images = db.readImages();
    const Camera& cam = gt.cameras.begin()->second;
    const Image* gtA = nullptr;
    const Image* gtB = nullptr;
    for (const auto& [id, im] : gt.images) {
      if (im.name == "view_000.png") gtA = &im;
      if (im.name == "view_001.png") gtB = &im;
    }
    QVERIFY(gtA && gtB);
    auto idOf = [&](const std::string& name) {
      for (const auto& im : images)
        if (im.name == name) return im.image_id;
      return 0u;
    };
    auto ka = db.readKeypoints(idOf("view_000.png")), kb = db.readKeypoints(idOf("view_001.png"));
    FeatureDescriptors da = db.readDescriptors(idOf("view_000.png")),
                       db2 = db.readDescriptors(idOf("view_001.png"));
    int w = 0, h = 0;
    std::vector<float> depth =
        readColmapDepthMap(sample / "ground_truth" / "depth_maps" / "view_000.png.bin", &w, &h);
    // Nearest neighbour with Lowe's ratio test, then the ground-truth transfer error of each match.
    std::vector<double> errors;
    for (int i = 0; i < da.rows; ++i) {
      int best = -1;
      double d1 = 1e18, d2 = 1e18;
      for (int j = 0; j < db2.rows; ++j) {
        double dist = 0;
        for (int c = 0; c < 128; ++c) {
          double diff =
              double(da.data[size_t(i) * 128 + c]) - double(db2.data[size_t(j) * 128 + c]);
          dist += diff * diff;
        }
        if (dist < d1)
          d2 = d1, d1 = dist, best = j;
        else if (dist < d2)
          d2 = dist;
      }
      if (best < 0 || d1 > 0.64 * d2) continue;
      const int px = int(ka[i].x), py = int(ka[i].y);  // COLMAP convention: pixel index = floor
      float z = depth[size_t(std::clamp(py, 0, h - 1)) * w + std::clamp(px, 0, w - 1)];
      if (z <= 0) continue;
      Eigen::Vector3d pointA = cam.camFromImg({ka[i].x, ka[i].y}) * z;
      Eigen::Vector3d world = gtA->cam_from_world.inverse() * pointA;
      Eigen::Vector2d inB = cam.imgFromCam(gtB->cam_from_world * world);
      errors.push_back((inB - Eigen::Vector2d(kb[best].x, kb[best].y)).norm());
    }
    QVERIFY2(errors.size() >= 100,
             qPrintable(QString("only %1 ratio-test matches").arg(errors.size())));
    const double inliers =
        double(std::count_if(errors.begin(), errors.end(), [](double e) { return e < 2.0; })) /
        errors.size();
    qInfo("%zu matches, %.0f%% within 2 px of the ground-truth transfer, median error %.2f px",
          errors.size(), 100 * inliers, median(errors));
    QVERIFY(inliers > 0.7);
    QVERIFY(median(errors) < 0.5);  // a half-pixel convention error would show as ~0.7 px
  }

  void unreadablePhotoFailsAndKeepsPreviousFeatures() {
    QTemporaryDir tmp;
    fs::path photos = test::tempPath(tmp, "photos");
    fs::create_directories(photos);
    for (const char* n : {"view_000.png", "view_001.png"})
      fs::copy_file(test::sampleDir() / "images" / n, photos / n);
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    ws.addPhotoRoot(photos);
    ws.save();
    QCOMPARE(int(runPipeline(ws, "features", nullptr)), int(RunResult::kSucceeded));
    const size_t before = Database(ws.databasePath()).numKeypoints();
    QVERIFY(before > 0);
    // Damage the photo in place (same size and time stamp, so the import stays up to date).
    const auto stamp = fs::last_write_time(photos / "view_001.png");
    const auto size = fs::file_size(photos / "view_001.png");
    {
      std::ofstream(photos / "view_001.png", std::ios::binary | std::ios::trunc)
          << std::string(size, '\0');
    }
    fs::last_write_time(photos / "view_001.png", stamp);
    ws.setParamOverride("features", "max_num_features", 100);
    ws.save();
    auto sink = std::make_shared<CollectingSink>();
    QCOMPARE(int(runStage(ws, "features", sink)), int(RunResult::kFailed));
    QVERIFY(QString::fromStdString(sink->events().back()["reason"]).contains("view_001.png"));
    QCOMPARE(Database(ws.databasePath()).numKeypoints(),
             before);  // the transaction was rolled back
  }
};

QTEST_GUILESS_MAIN(TestFeatures)
#include "test_features.moc"
