// Dense reconstruction pieces on scenes with exact ground truth: the map files,
// classical PatchMatch against the sample's true depth, fusion of true depth maps
// onto the true surface, Poisson meshing, trimming and outlier removal.
#include <QtTest>
#include <cmath>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "io/colmap_model.h"
#include "io/ply.h"
#include "mvs/dense_scene.h"
#include "mvs/fusion.h"
#include "mvs/geometry_eval.h"
#include "mvs/patch_match.h"
#include "surface/poisson.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace parallax;

namespace {

// The sample's views with their true cameras, images loaded.
std::vector<MvsView> sampleViews(const fs::path& sample, const Reconstruction& gt, int sources) {
  std::vector<MvsView> views;
  for (const auto& [id, im] : gt.images) {
    const Camera& c = gt.cameras.at(im.camera_id);
    MvsView v;
    v.image_id = id;
    v.name = im.name;
    v.width = c.width;
    v.height = c.height;
    v.K << c.focalX(), 0, c.principalX() - 0.5, 0, c.focalY(), c.principalY() - 0.5, 0, 0, 1;
    v.R = im.cam_from_world.rotation.toRotationMatrix();
    v.t = im.cam_from_world.translation;
    views.push_back(std::move(v));
  }
  ViewSelectionOptions o;
  o.max_sources = sources;
  selectSourceViews(gt, views, o);
  for (MvsView& v : views) {
    const cv::Mat bgr = cv::imread((sample / "images" / v.name).string(), cv::IMREAD_COLOR);
    v.rgb.resize(size_t(v.width) * v.height * 3);
    for (int i = 0; i < v.width * v.height; ++i) {
      const cv::Vec3b p = bgr.at<cv::Vec3b>(i / v.width, i % v.width);
      for (int c = 0; c < 3; ++c) v.rgb[size_t(3 * i + c)] = p[2 - c] / 255.0f;
    }
  }
  return views;
}

std::vector<float> trueDepth(const fs::path& sample, const std::string& name) {
  int w = 0, h = 0;
  return readColmapDepthMap(sample / "ground_truth" / "depth_maps" / (name + ".bin"), &w, &h);
}

PointCloud spherePoints(size_t n, double radius, bool hemisphereOnly) {
  PointCloud c;
  for (size_t i = 0; i < n; ++i) {
    const double z = 1 - 2 * (double(i) + 0.5) / double(n), r = std::sqrt(1 - z * z);
    const double phi = double(i) * 2.39996323;
    const Eigen::Vector3f p(float(r * std::cos(phi)), float(r * std::sin(phi)), float(z));
    if (hemisphereOnly && p.z() < 0) continue;
    c.points.push_back(p * float(radius));
    c.normals.push_back(p);
    c.colors.push_back({200, 40, 10});
  }
  return c;
}

}  // namespace

class TestMvs : public QObject {
  Q_OBJECT
 private slots:
  // Mask folders as users have them: COLMAP's NAME.png, the photo's own name, STEM.png,
  // and numbered photos with other zero padding (DTU, NeuS: 000012.png and 012.png).
  void maskFilesAreFoundUnderTheNamingsInUse() {
    QTemporaryDir tmp;
    const fs::path dir = test::tempPath(tmp, "masks");
    fs::create_directories(dir / "sub");
    for (const char* f : {"a.jpg.png", "b.jpg", "c.png", "012.png", "sub/d.png", "7.jpg"})
      std::ofstream(dir / f) << "x";
    auto found = [&](const std::string& photo) {
      const auto file = findMaskFile(dir, photo);
      return file ? fs::relative(*file, dir).string() : std::string("none");
    };
    QCOMPARE(found("a.jpg"), std::string("a.jpg.png"));
    QCOMPARE(found("b.jpg"), std::string("b.jpg"));
    QCOMPARE(found("c.jpg"), std::string("c.png"));
    QCOMPARE(found("000012.png"), std::string("012.png"));
    QCOMPARE(found("12.jpg"), std::string("012.png"));
    QCOMPARE(found("sub/d.jpg"), std::string("sub/d.png"));
    QCOMPARE(found("000013.png"), std::string("none"));  // no mask numbered 13
    QCOMPARE(found("7.png"), std::string("none"));       // masks are PNG
    QCOMPARE(found("x12.png"), std::string("none"));     // not a number
  }

  void mapsRoundTripInColmapFormat() {
    QTemporaryDir tmp;
    DepthMap m;
    m.width = 5;
    m.height = 3;
    for (int i = 0; i < 15; ++i) {
      m.depth.push_back(float(i));
      m.confidence.push_back(float(i) / 15);
      for (int c = 0; c < 3; ++c) m.normals.push_back(float(i * 3 + c));
    }
    const fs::path dense = test::tempPath(tmp, "dense");
    writeDepthMap(dense, "a/b.jpg", "geometric", m);
    const DepthMap r = readDepthMap(dense, "a/b.jpg", "geometric");
    QCOMPARE(r.width, 5);
    QCOMPARE(r.depth, m.depth);
    QCOMPARE(r.normals, m.normals);
    QCOMPARE(r.confidence, m.confidence);
    // COLMAP's layout: channel planes, so the first floats of the normal map are the x plane.
    const std::string raw = readFileForTest(dense / "stereo" / "normal_maps" / "a/b.jpg.geometric.bin");
    QVERIFY(raw.rfind("5&3&3&", 0) == 0);
    float second = 0;
    std::memcpy(&second, raw.data() + 6 + sizeof(float), sizeof(float));
    QCOMPARE(second, 3.0f);  // pixel 1's x
    // A truncated map is named and the stage to rerun is given.
    const fs::path depthFile = dense / "stereo" / "depth_maps" / "a/b.jpg.geometric.bin";
    fs::resize_file(depthFile, 20);
    const QString error = test::errorOf([&] { readDepthMap(dense, "a/b.jpg", "geometric"); });
    QVERIFY2(error.contains("truncated") && error.contains("b.jpg.geometric.bin"), qPrintable(error));
  }

  void viewSelectionPrefersNeighboursAndBracketsTheDepth() {
    const fs::path sample = test::sampleDir();
    const Reconstruction gt = readColmapModel(sample / "ground_truth" / "sparse");
    std::vector<MvsView> views = sampleViews(sample, gt, 4);
    // On a ring the best sources are the nearest cameras, not the one opposite.
    for (const MvsView& v : views) {
      QCOMPARE(int(v.sources.size()), 4);
      for (int s : v.sources) {
        const double angle = std::acos(std::clamp(
            (v.R.row(2).dot(views[size_t(s)].R.row(2))), -1.0, 1.0)) * 180 / M_PI;
        QVERIFY2(angle < 70, qPrintable(QString("%1 -> %2: %3 deg").arg(v.name.c_str())
                                             .arg(views[size_t(s)].name.c_str()).arg(angle)));
      }
      const std::vector<float> depth = trueDepth(sample, v.name);
      std::vector<float> seen;
      for (float d : depth)
        if (d > 0) seen.push_back(d);
      std::sort(seen.begin(), seen.end());
      // The range brackets nearly all it sees, the far ground at grazing angles included
      // (a range cut at the photo's own matches forces wrong depths there).
      QVERIFY2(v.depth_min < seen[seen.size() / 100],
               qPrintable(QString("%1: depth_min %2, 1% of its true depths below %3")
                              .arg(v.name.c_str()).arg(v.depth_min).arg(seen[seen.size() / 100])));
      QVERIFY2(v.depth_max > seen[seen.size() * 99 / 100],
               qPrintable(QString("%1: depth_max %2, 1% of its true depths beyond %3")
                              .arg(v.name.c_str()).arg(v.depth_max).arg(seen[seen.size() * 99 / 100])));
    }
  }

  void depthRangeReachesBeyondAPhotosOwnMatches() {
    // Real photos match little on far ground seen at a grazing angle: drop every photo's
    // matches on its farther 40% of points. The range must still bracket what it sees.
    const fs::path sample = test::sampleDir();
    Reconstruction model = readColmapModel(sample / "ground_truth" / "sparse");
    std::map<uint32_t, double> cut;
    for (const auto& [id, im] : model.images) {
      std::vector<double> z;
      for (const auto& [pid, point] : model.points3D)
        for (const TrackElement& el : point.track)
          if (el.image_id == id) z.push_back((im.cam_from_world * point.xyz).z());
      std::sort(z.begin(), z.end());
      cut[id] = z[z.size() * 6 / 10];
    }
    for (auto& [pid, point] : model.points3D) {
      std::vector<TrackElement> kept;
      for (const TrackElement& el : point.track)
        if ((model.images.at(el.image_id).cam_from_world * point.xyz).z() <= cut[el.image_id])
          kept.push_back(el);
      point.track = kept;
    }
    const std::vector<MvsView> views = sampleViews(sample, model, 4);
    for (const MvsView& v : views) {
      std::vector<float> seen;
      for (float d : trueDepth(sample, v.name))
        if (d > 0) seen.push_back(d);
      std::sort(seen.begin(), seen.end());
      QVERIFY2(v.depth_max > seen[seen.size() * 99 / 100],
               qPrintable(QString("%1: depth_max %2, its own matches end at %3, 1% of its true "
                                  "depths beyond %4")
                              .arg(v.name.c_str()).arg(v.depth_max).arg(cut[v.image_id])
                              .arg(seen[seen.size() * 99 / 100])));
    }
  }

  void classicalPatchMatchRecoversTheTrueDepth() {
    const fs::path sample = test::sampleDir();
    const Reconstruction gt = readColmapModel(sample / "ground_truth" / "sparse");
    std::vector<MvsView> views = sampleViews(sample, gt, 6);
    PatchMatchOptions o;
    o.num_iterations = 3;
    const int ref = 5;
    DepthMap raw;
    const DepthMap map = patchMatchDepth(views, ref, o, nullptr, nullptr, &raw);
    const std::vector<float> truth = trueDepth(sample, views[ref].name);
    size_t surface = 0, estimated = 0, within1 = 0, sky = 0;
    std::vector<double> errors;
    const int w = views[ref].width, h = views[ref].height;
    // Sky pixels far (> 8 px) from any surface: windows there see only sky.
    auto openSky = [&](size_t i) {
      const int x = int(i) % w, y = int(i) / w;
      for (int dy = -8; dy <= 8; ++dy)
        for (int dx = -8; dx <= 8; ++dx) {
          const int u = x + dx, v = y + dy;
          if (u >= 0 && v >= 0 && u < w && v < h && truth[size_t(v * w + u)] > 0) return false;
        }
      return true;
    };
    for (size_t i = 0; i < truth.size(); ++i) {
      if (truth[i] <= 0) {
        sky += map.depth[i] > 0 && openSky(i);
        continue;
      }
      ++surface;
      if (map.depth[i] <= 0) continue;
      ++estimated;
      const double e = std::abs(map.depth[i] - truth[i]) / truth[i];
      errors.push_back(e);
      within1 += e < 0.01;
    }
    std::sort(errors.begin(), errors.end());
    const double median = errors[errors.size() / 2];
    qInfo("estimated %zu of %zu surface pixels, median relative error %.4f, within 1%%: %.3f, "
          "sky pixels kept %zu",
          estimated, surface, median, double(within1) / double(surface), sky);
    QVERIFY(median < 0.005);
    QVERIFY(double(within1) / double(surface) > 0.8);
    QVERIFY(double(sky) < 0.002 * double(truth.size()));  // the open sky is not guessed
    // Normals face the camera and confidences are in [0, 1].
    for (size_t i = 0; i < truth.size(); ++i) {
      if (map.depth[i] <= 0) continue;
      const Eigen::Vector3d ray = views[ref].K.inverse() * Eigen::Vector3d(double(i % size_t(w)), double(i / size_t(w)), 1);
      const Eigen::Vector3d n(map.normals[3 * i], map.normals[3 * i + 1], map.normals[3 * i + 2]);
      QVERIFY(n.dot(ray) < 0 && std::abs(n.norm() - 1) < 1e-3);
      QVERIFY(map.confidence[i] >= 0 && map.confidence[i] <= 1);
    }
  }

  void fusionOfTrueDepthMapsLiesOnTheSurface() {
    const fs::path sample = test::sampleDir();
    const Reconstruction gt = readColmapModel(sample / "ground_truth" / "sparse");
    std::vector<MvsView> views = sampleViews(sample, gt, 4);
    std::vector<DepthMap> maps;
    for (MvsView& v : views) {
      DepthMap m;
      m.width = v.width;
      m.height = v.height;
      m.depth = trueDepth(sample, v.name);
      computeNormalsFromDepth(v, m);
      maps.push_back(std::move(m));
    }
    FusionOptions o;
    o.min_num_views = 3;
    // Without confidence maps no confidence is made up.
    QVERIFY(fuseDepthMaps(views, maps, o).confidence.empty());
    // Each view's pixels get one confidence (0.2, 0.4, ...): a fused point's is the
    // mean over the views that see it.
    for (size_t v = 0; v < maps.size(); ++v) maps[v].confidence.assign(maps[v].depth.size(), 0.2f * float(v + 1));
    const FusedCloud fused = fuseDepthMaps(views, maps, o);
    QVERIFY(fused.cloud.size() > 20000);
    QCOMPARE(fused.visibility.size(), fused.cloud.size());
    for (const auto& vis : fused.visibility) QVERIFY(vis.size() >= 3);
    QCOMPARE(fused.confidence.size(), fused.cloud.size());
    for (size_t i = 0; i < fused.cloud.size(); ++i) {
      double mean = 0;
      for (uint32_t v : fused.visibility[i]) mean += 0.2 * (v + 1);
      mean /= double(fused.visibility[i].size());
      QVERIFY(std::abs(fused.confidence[i] - mean) < 1e-5);
    }
    const TriangleMesh truth = readPly(sample / "ground_truth" / "mesh.ply");
    const SurfaceSamples samples = visibleSurfaceSamples(truth, gt, 20000);
    const GeometryEvaluation e =
        evaluateGeometry(fused.cloud.points, truth, samples, 0.01 * samples.diagonal);
    qInfo("%zu points, median distance %.5f (diagonal %.3f), completeness %.3f", e.points,
          e.median_accuracy, samples.diagonal, e.completeness);
    QVERIFY(e.median_accuracy < 0.0005 * samples.diagonal);
    QVERIFY(e.completeness > 0.9);
    // Colours come from the photos: the sample's sky is blue, its ground is not; no
    // fused point is pure black (unset).
    size_t black = 0;
    for (const auto& c : fused.cloud.colors) black += (c[0] + c[1] + c[2]) == 0;
    QVERIFY(black < fused.cloud.size() / 100);
    // Visibility round trip in COLMAP's format.
    QTemporaryDir tmp;
    writeVisibility(test::tempPath(tmp, "fused.ply.vis"), fused.visibility);
    QCOMPARE(readVisibility(test::tempPath(tmp, "fused.ply.vis")), fused.visibility);
    writeConfidence(test::tempPath(tmp, "fused.ply.conf"), fused.confidence);
    QCOMPARE(readConfidence(test::tempPath(tmp, "fused.ply.conf")), fused.confidence);
  }

  // The automatic depth follows how finely the points cover their octree: the
  // same dense patch gets the coarsest depth alone (about a point per cell below it)
  // and the finest when two far points make the octree 1000x larger; four times the
  // points on a surface are one level finer.
  void automaticPoissonDepthFollowsThePointSpacing() {
    auto patch = [](int side, double size) {
      std::vector<Eigen::Vector3d> pts;
      for (int i = 0; i < side; ++i)
        for (int j = 0; j < side; ++j) pts.emplace_back(size * i / side, size * j / side, 0.1 * size);
      return pts;
    };
    std::vector<Eigen::Vector3d> alone = patch(450, 0.01);
    QCOMPARE(automaticPoissonDepth(alone), 8);
    std::vector<Eigen::Vector3d> far = alone;
    far.emplace_back(10, 10, 10);
    far.emplace_back(-1, -1, -1);
    QCOMPARE(automaticPoissonDepth(far), 12);
    // A unit sphere in an octree four times its size (two corner points): four times
    // the points are one level finer.
    auto sphere = [](size_t n) {
      std::vector<Eigen::Vector3d> pts{{-4, -4, -4}, {4, 4, 4}};
      const double golden = M_PI * (3 - std::sqrt(5.0));
      for (size_t i = 0; i < n; ++i) {
        const double z = 1 - 2 * (double(i) + 0.5) / double(n), r = std::sqrt(1 - z * z);
        pts.emplace_back(r * std::cos(golden * double(i)), r * std::sin(golden * double(i)), z);
      }
      return pts;
    };
    const int d1 = automaticPoissonDepth(sphere(500'000));
    const int d2 = automaticPoissonDepth(sphere(2'000'000));
    qInfo("sphere: 500k points -> depth %d, 2M -> %d", d1, d2);
    QVERIFY(d1 > 8 && d2 < 12);
    QCOMPARE(d2, d1 + 1);
  }

  void poissonMeshesASphereAndTrimsWhatWasNotThere() {
    PoissonOptions o;
    o.depth = 7;
    PoissonReport rep;
    const TriangleMesh closed = poissonMesh(spherePoints(20000, 1.0, false), o, &rep);
    QVERIFY(closed.faces.size() > 5000);
    QCOMPARE(closed.colors.size(), closed.points.size());
    for (const auto& p : closed.points) QVERIFY(std::abs(p.norm() - 1.0f) < 0.03f);
    QVERIFY(closed.colors.front()[0] > 150 && closed.colors.front()[1] < 90);
    // Half a sphere: Poisson closes it; trimming keeps only the half with points.
    const TriangleMesh half = poissonMesh(spherePoints(20000, 1.0, true), o, &rep);
    QVERIFY(rep.untrimmed_faces > half.faces.size());
    // The invented lower half is gone. Open3D's Poisson runs multithreaded and its
    // densities vary a little from run to run, so a boundary triangle may reach below
    // -0.2 now and then (seen once in CI); the closed half held ~40% of the vertices.
    size_t below = 0;
    for (const auto& p : half.points) below += p.z() < -0.2f;
    qInfo("half sphere: %zu of %zu vertices below z = -0.2 after trimming (untrimmed faces %zu)",
          below, half.points.size(), rep.untrimmed_faces);
    QVERIFY(below <= half.points.size() / 200);
    // Decimation to a face budget.
    o.target_faces = 2000;
    QVERIFY(poissonMesh(spherePoints(20000, 1.0, false), o).faces.size() <= 2000);
    // A cloud without normals is refused with a reason.
    PointCloud bare = spherePoints(1000, 1.0, false);
    bare.normals.clear();
    QVERIFY(test::errorOf([&] { poissonMesh(bare, o); }).contains("normals"));
  }

  void outlierRemovalKeepsSparseRegionsAndDropsStrays() {
    std::vector<Eigen::Vector3d> pts;
    for (int y = 0; y < 100; ++y)  // dense patch, 1 cm spacing
      for (int x = 0; x < 100; ++x) pts.emplace_back(x * 0.01, y * 0.01, 0);
    for (int y = 0; y < 30; ++y)  // sparse patch far away, 10 cm spacing
      for (int x = 0; x < 30; ++x) pts.emplace_back(5 + x * 0.1, y * 0.1, 0);
    const size_t strays = pts.size();
    pts.emplace_back(0.5, 0.5, 0.5);  // floaters above the dense patch
    pts.emplace_back(0.2, 0.7, -0.4);
    const std::vector<size_t> kept = localOutlierInliers(pts, 10, 2.0);
    QVERIFY(std::find(kept.begin(), kept.end(), strays) == kept.end());
    QVERIFY(std::find(kept.begin(), kept.end(), strays + 1) == kept.end());
    QVERIFY(kept.size() >= strays - 20);  // the sparse patch stays
  }

  void flatRegionsLoseTheirDepth() {
    MvsView v;
    v.width = 40;
    v.height = 20;
    v.rgb.assign(size_t(v.width) * v.height * 3, 0.5f);
    for (int y = 0; y < v.height; ++y)  // texture on the left half only
      for (int x = 0; x < 20; ++x)
        for (int c = 0; c < 3; ++c) v.rgb[size_t((y * v.width + x) * 3 + c)] = float((x * 7 + y * 13) % 10) / 10;
    DepthMap m;
    m.width = v.width;
    m.height = v.height;
    m.depth.assign(size_t(v.width) * v.height, 2.0f);
    clearTexturelessDepth(v, m);
    QCOMPARE(m.depth[5 * 40 + 5], 2.0f);
    QCOMPARE(m.depth[5 * 40 + 35], 0.0f);
  }

 private:
  static std::string readFileForTest(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
};

QTEST_GUILESS_MAIN(TestMvs)
#include "test_mvs.moc"
