// Import of the real photo sets in ../shared/data (skipped locally when absent,
// a failure under CI=true): counts, sizes, and that the sets are fully usable.
#include <QtTest>

#include "fields/field_data.h"
#include "io/colmap_model.h"
#include "pipeline/runner.h"
#include "sfm/pose_eval.h"
#include "pipeline/stage.h"
#include "test_support.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;

class TestRealData : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { registerBuiltinStages(); }

  void importsEachPhotoSet_data() {
    QTest::addColumn<QString>("folder");
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::newRow("templeSparseRing") << "middlebury_templeSparseRing" << 16 << 640 << 480;
    QTest::newRow("fountain-P11") << "strecha_fountain-P11/images" << 11 << 3072 << 2048;
    QTest::newRow("nerf lego") << "nerf_synthetic_lego_train" << 100 << 800 << 800;
    QTest::newRow("dtu scan24") << "dtu_scan24/images" << 49 << 800 << 600;
  }
  void importsEachPhotoSet() {
    QFETCH(QString, folder);
    QFETCH(int, count);
    QFETCH(int, width);
    QFETCH(int, height);
    PARALLAX_REQUIRE_DATA(data, folder.section('/', 0, 0).toStdString());
    QTemporaryDir tmp;
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    ws.addPhotoRoot(data / folder.section('/', 1).toStdString());
    ws.save();
    auto sink = std::make_shared<CollectingSink>();
    QCOMPARE(int(runStage(ws, "import", sink)), int(RunResult::kSucceeded));
    json photos = json::parse(readFile(ws.root() / "photos.json"));
    QCOMPARE(int(photos["photos"].size()), count);
    QCOMPARE(int(photos["skipped"].size()), 0);
    for (const auto& p : photos["photos"]) {
      QCOMPARE(p["width"].get<int>(), width);
      QCOMPARE(p["height"].get<int>(), height);
    }
  }

  void groundTruthReadersFindEveryView_data() {
    QTest::addColumn<QString>("folder");
    QTest::addColumn<QString>("gt");
    QTest::addColumn<QString>("format");
    QTest::addColumn<int>("count");
    QTest::newRow("middlebury") << "middlebury_templeSparseRing" << "" << "middlebury" << 16;
    QTest::newRow("strecha") << "strecha_fountain-P11" << "" << "strecha" << 11;
    QTest::newRow("nerf") << "nerf_synthetic_lego_train" << "transforms_train.json" << "nerf"
                          << 100;
    QTest::newRow("dtu") << "dtu_scan24" << "cameras_sphere.npz" << "dtu" << 49;
  }
  void groundTruthReadersFindEveryView() {
    QFETCH(QString, folder);
    QFETCH(QString, gt);
    QFETCH(QString, format);
    QFETCH(int, count);
    PARALLAX_REQUIRE_DATA(data, folder.toStdString());
    const PoseSet truth = readGroundTruthPoses(data / gt.toStdString(), format.toStdString());
    QCOMPARE(int(truth.size()), count);
    for (const auto& [name, pose] : truth) {
      QVERIFY(std::abs(pose.rotation.norm() - 1) < 1e-6);
      QVERIFY(pose.translation.allFinite());
    }
  }

  // DTU's cameras (RQ-split projection matrices) and masks as a field trains on them: at
  // 200 px, the object's pixels (mask) all lie inside the sphere scale_mat maps the unit
  // sphere onto, its centre projects into the mask, and the cameras stand outside it.
  void dtuCamerasFrameTheMaskedObject() {
    PARALLAX_REQUIRE_DATA(data, "dtu_scan24");
    FieldLoadOptions o;
    o.maxImageSize = 200;
    const FieldDataset d = loadDtuCameras(data / "cameras_sphere.npz", o);
    QCOMPARE(int(d.views.size()), 49);
    const Eigen::Vector3d centre = 0.5 * (d.boxMin + d.boxMax);
    const double radius = 0.5 * (d.boxMax - d.boxMin).x();
    QVERIFY(radius > 10);  // DTU millimetres
    for (const FieldView& v : d.views) {
      QCOMPARE(v.width, 200);
      QCOMPARE(v.height, 150);
      QVERIFY(v.hasAlpha);
      QVERIFY(std::abs(v.rotation.determinant() - 1) < 1e-6);
      QVERIFY((v.center - centre).norm() > 1.5 * radius);
      const Eigen::Vector3d c = v.rotation.transpose() * (centre - v.center);
      const int u = int(v.fx * c.x() / c.z() + v.cx), w = int(v.fy * c.y() / c.z() + v.cy);
      QVERIFY2(u >= 0 && w >= 0 && u < v.width && w < v.height, qPrintable(QString::fromStdString(v.name)));
      QVERIFY2(v.rgba[(size_t(w) * size_t(v.width) + size_t(u)) * 4 + 3] > 0.5f,
               qPrintable(QString::fromStdString(v.name) + ": the sphere's centre is off the mask"));
      size_t object = 0, outside = 0;
      for (int y = 0; y < v.height; ++y)
        for (int x = 0; x < v.width; ++x) {
          if (v.rgba[(size_t(y) * size_t(v.width) + size_t(x)) * 4 + 3] < 0.99f) continue;
          ++object;
          const Eigen::Vector3d ray =
              (v.rotation * Eigen::Vector3d((x + 0.5 - v.cx) / v.fx, (y + 0.5 - v.cy) / v.fy, 1)).normalized();
          const Eigen::Vector3d off = (centre - v.center) - ray.dot(centre - v.center) * ray;
          if (off.norm() > radius) ++outside;
        }
      QVERIFY2(object > 1000 && outside == 0,
               qPrintable(QString::fromStdString(v.name) + ": " + QString::number(outside) + " of " +
                          QString::number(object) + " object pixels miss the sphere"));
    }
    // Photos and cameras that do not pair up are named.
    QTemporaryDir tmp;
    const fs::path dir = test::tempPath(tmp, "dtu");
    fs::create_directories(dir / "images");
    fs::copy_file(data / "cameras_sphere.npz", dir / "cameras_sphere.npz");
    fs::copy_file(data / "images" / "000000.png", dir / "images" / "000000.png");
    QVERIFY(test::errorOf([&] { loadDtuCameras(dir / "cameras_sphere.npz", o); })
                .contains("has 49 cameras but"));
  }

  // The sparse stage on the hard, low-texture temple ring: every photo in one model
  // (COLMAP 3.8 poses 13 of 16) and AUC@5 of at least 0.60 (COLMAP: 0.37-0.42).
  void templeRingIsPosedBetterThanColmap() {
    PARALLAX_REQUIRE_DATA(data, "middlebury_templeSparseRing");
    QTemporaryDir tmp;
    Workspace ws = Workspace::create(test::tempPath(tmp, "temple"));
    ws.addPhotoRoot(data);
    ws.save();
    QCOMPARE(int(runPipeline(ws, "sparse", nullptr)), int(RunResult::kSucceeded));
    const PoseEvaluation ev =
        evaluatePoses(readColmapModel(ws.sparseDir()), readGroundTruthPoses(data, "middlebury"));
    qInfo("temple: %zu/%zu registered, AUC@1 %.3f AUC@5 %.3f AUC@10 %.3f, median rotation %.3f deg",
          ev.registered, ev.total, ev.auc.at(1), ev.auc.at(5), ev.auc.at(10),
          ev.median_rotation_error_deg);
    QCOMPARE(ev.registered, size_t(16));
    QVERIFY(ev.auc.at(5) >= 0.60);
  }
};

QTEST_GUILESS_MAIN(TestRealData)
#include "test_real_data.moc"
