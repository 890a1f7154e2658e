// segment.dgcnn (plugin) on the room sample, scored per class against the labels the
// generator knows; the segment stage end to end on a reconstructed project, its
// files, the export of labels, and the fallback to segment.geometric, named, when
// the weights are missing.

#include <QtTest>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "pipeline/schema.h"
#include "plugin/plugin_manager.h"
#include "segment/geometric.h"
#include "segment/image_segmenter.h"
#include "scene/labels.h"
#include "segment/point_segmenter.h"
#include "stages/builtin_stages.h"
#include "synthetic/sample_scene.h"
#include "pipeline/methods.h"
#include "test_support.h"
#include "util/atomic_file.h"

using namespace parallax;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

QString modelsDir() {
  QString m = qEnvironmentVariable("PARALLAX_MODELS");
  return m.isEmpty() ? qEnvironmentVariable("PARALLAX_MODELS_DEFAULT") : m;
}
QString path(const fs::path& p) { return QString::fromStdString(p.string()); }

}  // namespace

class TestSegmentation : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    const QString models = modelsDir();
    if (!QFile::exists(models + "/dgcnn/dgcnn_semseg_s3dis.pt") ||
        !QFile::exists(models + "/espnetv2/espnetv2_s2.0_cityscapes.pt")) {
      const QString why = "DGCNN or ESPNetv2 weights not found in PARALLAX_MODELS ('" + models + "')";
      if (test::underCI()) QFAIL(qPrintable(why));
      QSKIP(qPrintable(why));
    }
    qputenv("PARALLAX_MODELS", models.toUtf8());
    qputenv("PARALLAX_PLUGIN_PATH", qgetenv("PARALLAX_PLUGIN_DIR"));
    registerBuiltinStages();
    PARALLAX_REQUIRE_PLUGIN("segment_dgcnn");
  }

  // The fast forward pass (batch norms folded, edge convolutions factored) gives what
  // upstream's formulation gives.
  void fastPathEqualsUpstreamFormulation() {
    const json r = PluginManager::instance().command("dgcnn-check", {{"points", 1024}});
    qInfo("dgcnn fast path: max difference %g of scores up to %g", r["max_abs_difference"].get<double>(),
          r["max_abs"].get<double>());
    QVERIFY(r["max_abs"].get<double>() > 1);
    QVERIFY(r["max_abs_difference"].get<double>() < 1e-3 * r["max_abs"].get<double>());
  }

  // S3DIS's network on a synthetic room in metres, z up: the floor, the walls and the
  // table come out as what they are.
  void dgcnnLabelsTheRoom() {
    const PointSegmenter* seg = MethodRegistry::instance().find<PointSegmenter>("segment", "dgcnn");
    QVERIFY(seg);
    MethodRegistry::instance().entry("segment", "dgcnn")->check(Schema::instance().requireStage("segment").defaults());
    SampleOptions o;
    o.name = "room";
    const PointCloud truth = sampleScenePoints(o, 120000, 11);
    json p = Schema::instance().requireStage("segment").defaults();
    const auto t0 = std::chrono::steady_clock::now();
    size_t passes = 0;
    const std::vector<int32_t> labels =
        seg->segment(toMetricZUp(truth, Eigen::Vector3f::UnitZ(), 1.0), p, [&](size_t, size_t total) { passes = total; });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::vector<double> iou = classIoU(labels, truth.labels, 13);
    const LabelTable t = s3disLabelTable();
    QString row;
    for (int c : {0, 1, 2, 7, 8, 10}) row += QString(" %1 %2").arg(QString::fromStdString(t.name(c))).arg(iou[size_t(c)], 0, 'f', 3);
    qInfo("dgcnn on the room (%zu points, %zu passes, %.1f s):%s", truth.size(), passes, seconds, qPrintable(row));
    QVERIFY2(iou[1] >= 0.7, "floor");
    QVERIFY2(iou[2] >= 0.7, "wall");
    QVERIFY2(iou[7] >= 0.4, "table");
  }

  // A reconstructed project: the stage labels the dense cloud and the mesh, and the
  // export carries the labels (PLY property and class comments, one glTF mesh per class).
  void stageLabelsTheProjectAndExportsThem() {
    QTemporaryDir tmp;
    const fs::path project = test::sampleProject(tmp);
    const json table = json::parse(readFile(labelTableFile(project)));
    QCOMPARE(table["method"].get<std::string>(), std::string("geometric"));
    const std::vector<int32_t> dense = readLabels(denseLabelsFile(project));
    QCOMPARE(dense.size(), table["points"].get<size_t>());
    QVERIFY(table.contains("mesh"));
    QCOMPARE(readLabels(meshLabelsFile(project)).size(), table["mesh"]["vertices"].get<size_t>());
    const std::vector<size_t> n = labelCounts(dense, 5);
    qInfo("geometric on the sample project: ground %zu, wall %zu, ceiling %zu, object %zu, noise %zu",
          n[0], n[1], n[2], n[3], n[4]);
    QVERIFY(n[kGround] > dense.size() / 4);  // the paved ground holds most of the sample
    QVERIFY(n[kObject] > dense.size() / 20);  // statue, crate, pillar
    const fs::path out = test::tempPath(tmp, "dense.ply");
    auto r = test::runCli({"export", path(project), "--what", "dense", "--format", "ply", path(out)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const std::string ply = readFile(out);
    const std::string header = ply.substr(0, ply.find("end_header"));
    QVERIFY2(header.find("property int label") != std::string::npos, header.c_str());
    QVERIFY2(header.find("comment label 0 ground") != std::string::npos, header.c_str());
    const fs::path glb = test::tempPath(tmp, "mesh.glb");
    r = test::runCli({"export", path(project), "--what", "mesh", "--format", "glb", path(glb)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const std::string bin = readFile(glb);
    QVERIFY2(bin.find("\"name\":\"ground\"") != std::string::npos && bin.find("\"name\":\"object\"") != std::string::npos,
             "the GLB has a mesh per class");
  }

  // ESPNetv2 (Cityscapes) on a real photo of a building: most of it is building or wall.
  void espnetv2SeesTheFountainsBuilding() {
    PARALLAX_REQUIRE_DATA(fountain, "strecha_fountain-P11");
    PARALLAX_REQUIRE_PLUGIN("segment_espnetv2");
    const ImageSegmenter* seg = MethodRegistry::instance().find<ImageSegmenter>("segment", "image2d");
    QVERIFY(seg);
    const json p = Schema::instance().requireStage("segment").defaults();
    MethodRegistry::instance().entry("segment", "image2d")->check(p);
    const cv::Mat bgr = cv::imread((fountain / "images" / "0005.jpg").string(), cv::IMREAD_COLOR);
    QVERIFY(!bgr.empty());
    RgbImage photo;
    photo.width = bgr.cols;
    photo.height = bgr.rows;
    photo.rgb.resize(size_t(bgr.cols) * bgr.rows * 3);
    for (int y = 0; y < bgr.rows; ++y)
      for (int x = 0; x < bgr.cols; ++x)
        for (int c = 0; c < 3; ++c)
          photo.rgb[(size_t(y) * bgr.cols + x) * 3 + c] = bgr.at<cv::Vec3b>(y, x)[2 - c];
    const auto t0 = std::chrono::steady_clock::now();
    const ImageLabels labels = seg->segment(photo, p);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const LabelTable table = seg->classes(p);
    const std::vector<size_t> n = labelCounts(labels.labels, table.classes.size());
    const double total = double(labels.labels.size());
    QString shares;
    for (size_t c = 0; c < n.size(); ++c)
      if (n[c] > total / 100) shares += QString(" %1 %2%").arg(QString::fromStdString(table.name(int(c)))).arg(100 * n[c] / total, 0, 'f', 1);
    qInfo("espnetv2 on fountain 0005.jpg (%dx%d at %dx%d, %.2f s):%s", photo.width, photo.height, labels.width,
          labels.height, seconds, qPrintable(shares));
    // The label map in the classes' colours, for a look (test output folder).
    cv::Mat shown(labels.height, labels.width, CV_8UC3);
    for (int y = 0; y < labels.height; ++y)
      for (int x = 0; x < labels.width; ++x) {
        const LabelClass* c = table.find(labels.labels[size_t(y) * labels.width + x]);
        shown.at<cv::Vec3b>(y, x) = c ? cv::Vec3b(c->color[2], c->color[1], c->color[0]) : cv::Vec3b(0, 0, 0);
      }
    cv::imwrite((test::outputDir() / "espnetv2_fountain_0005.png").string(), shown);
    QCOMPARE(table.name(2), std::string("building"));
    QVERIFY2((n[2] + n[3]) / total > 0.5, "building and wall");
  }

  // The photos' labels carried to the points of a reconstructed project.
  void image2dLabelsThePointsThePhotosSee() {
    PARALLAX_REQUIRE_PLUGIN("segment_espnetv2");
    QTemporaryDir tmp;
    const fs::path project = test::sampleProject(tmp);
    auto r = test::runCli({"set", path(project), "segment.method=image2d"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = test::runCli({"run-stage", path(project), "segment"}, 600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    for (const QString& line : (r.out + r.err).split('\n'))
      if (line.contains("s a photo")) qInfo("%s", qPrintable(line.trimmed()));
    QVERIFY2((r.out + r.err).contains("s a photo"), qPrintable(r.out + r.err));
    const json table = json::parse(readFile(labelTableFile(project)));
    QCOMPARE(table["method"].get<std::string>(), std::string("image2d"));
    QCOMPARE(table["classes"].size(), size_t(20));
    const double share = table["facts"]["labelled_share"].get<double>();
    QVERIFY2(share > 0.9, qPrintable(QString::number(share)));
  }

  void missingWeightsNameTheFileAndGeometricRuns() {
    QTemporaryDir tmp;
    const fs::path project = test::sampleProject(tmp);
    fs::remove_all(labelsDir(project));
    const fs::path empty = test::tempPath(tmp, "no-models");
    fs::create_directories(empty);
    const QByteArray saved = qgetenv("PARALLAX_MODELS"), home = qgetenv("HOME");
    qputenv("PARALLAX_MODELS", QByteArray::fromStdString(empty.string()));
    qputenv("HOME", QByteArray::fromStdString(empty.string()));
    auto r = test::runCli({"set", path(project), "segment.method=dgcnn"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = test::runCli({"run-stage", path(project), "segment"}, 600000);
    qputenv("PARALLAX_MODELS", saved);
    qputenv("HOME", home);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("dgcnn/dgcnn_semseg_s3dis.pt") && r.err.contains("Using geometric (segment.geometric) instead"),
             qPrintable(r.err));
    QCOMPARE(json::parse(readFile(labelTableFile(project)))["method"].get<std::string>(), std::string("geometric"));
    QVERIFY(!readLabels(denseLabelsFile(project)).empty());
  }
};

QTEST_GUILESS_MAIN(TestSegmentation)
#include "test_segmentation.moc"
