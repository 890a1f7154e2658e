// The synthetic-scene generator: deterministic, textured enough for feature
// matching, and its ground truth (cameras, depth, points, mesh) consistent.
#include <QtTest>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/colmap_model.h"
#include "io/ply.h"
#include "synthetic/sample_scene.h"
#include "test_support.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace parallax;

class TestSynthetic : public QObject {
  Q_OBJECT
 private slots:
  void writesEverythingItPromises() {
    fs::path dir = test::sampleDir();
    for (int i = 0; i < 8; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "view_%03d.png", i);
      QVERIFY(fs::exists(dir / "images" / name));
      QVERIFY(fs::exists(dir / "ground_truth" / "depth_maps" / (std::string(name) + ".bin")));
    }
    QVERIFY(fs::exists(dir / "sample.json"));
    QVERIFY(readPly(dir / "ground_truth" / "mesh.ply").faces.size() > 5000);
  }

  void isDeterministic() {
    QTemporaryDir tmp;
    SampleOptions o = test::smallSampleOptions(2, 200, 160, 120);
    Reporter quiet(nullptr, "sample");
    generateSample(o, test::tempPath(tmp, "a"), quiet);
    generateSample(o, test::tempPath(tmp, "b"), quiet);
    QVERIFY(readFile(test::tempPath(tmp, "a/images/view_001.png")) ==
            readFile(test::tempPath(tmp, "b/images/view_001.png")));
    o.seed = 99;
    generateSample(o, test::tempPath(tmp, "c"), quiet);
    QVERIFY(readFile(test::tempPath(tmp, "a/images/view_001.png")) !=
            readFile(test::tempPath(tmp, "c/images/view_001.png")));
  }

  void photosAreTexturedEnoughForFeatures() {
    cv::Mat img =
        cv::imread((test::sampleDir() / "images" / "view_000.png").string(), cv::IMREAD_GRAYSCALE);
    std::vector<cv::Point2f> corners;
    cv::goodFeaturesToTrack(img, corners, 5000, 0.01, 3);
    QVERIFY2(corners.size() > 400,
             qPrintable(QString("only %1 corners at 320x240").arg(corners.size())));
  }

  void groundTruthPointsProjectOntoTheirObservations() {
    Reconstruction gt = readColmapModel(test::sampleDir() / "ground_truth" / "sparse");
    QCOMPARE(gt.images.size(), size_t(24));
    QVERIFY(gt.points3D.size() > 500);
    const Camera& cam = gt.cameras.begin()->second;
    double worst = 0;
    for (const auto& [id, p] : gt.points3D) {
      QVERIFY(p.track.size() >= 2);
      for (const auto& el : p.track) {
        const Image& im = gt.images.at(el.image_id);
        Eigen::Vector2d px = cam.imgFromCam(im.cam_from_world * p.xyz);
        worst = std::max(worst, (px - im.points2D.at(el.point2D_idx).xy).norm());
      }
    }
    QVERIFY2(worst < 1e-6, qPrintable(QString::number(worst)));
  }

  void depthMapsAgreeWithTheGroundTruthPoints() {
    Reconstruction gt = readColmapModel(test::sampleDir() / "ground_truth" / "sparse");
    const Image& im = gt.images.begin()->second;
    int w = 0, h = 0;
    std::vector<float> depth = readColmapDepthMap(
        test::sampleDir() / "ground_truth" / "depth_maps" / (im.name + ".bin"), &w, &h);
    QCOMPARE(w, 320);
    QCOMPARE(h, 240);
    int checked = 0;
    for (const auto& p2 : im.points2D) {
      if (p2.point3D_id == kInvalidPoint3DId) continue;
      double z = (im.cam_from_world * gt.points3D.at(p2.point3D_id).xyz).z();
      float d = depth[size_t(int(p2.xy.y())) * w + int(p2.xy.x())];
      QVERIFY(std::abs(d - z) < 0.011 * z);
      ++checked;
    }
    QVERIFY(checked > 100);
  }

  void badOptionsAreRejected() {
    SampleOptions o;
    o.views = 1;
    QVERIFY_THROWS_EXCEPTION(Error, o.check());
    o = SampleOptions();
    o.name = "dragon";
    QVERIFY_THROWS_EXCEPTION(Error, o.check());
    QTemporaryDir tmp;
    std::ofstream(test::tempPath(tmp, "taken.txt")) << "x";
    Reporter quiet(nullptr, "sample");
    QVERIFY_THROWS_EXCEPTION(
        Error, generateSample(SampleOptions(), test::tempPath(tmp), quiet));  // not empty
  }
};

QTEST_GUILESS_MAIN(TestSynthetic)
#include "test_synthetic.moc"
