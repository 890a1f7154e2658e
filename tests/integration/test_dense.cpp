// Photos to dense cloud and mesh as a user runs it (parallax-cli, worker processes,
// the plugin found through PARALLAX_MODELS), measured against the bundled sample's
// true surface, and the fallback when the PatchmatchNet weights are missing.
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/colmap_model.h"
#include "util/hash.h"
#include "io/mesh_io.h"
#include "io/ply.h"
#include "mvs/dense_scene.h"
#include "mvs/fusion.h"
#include <opencv2/imgcodecs.hpp>
#include "test_support.h"

namespace fs = std::filesystem;
using namespace parallax;
using test::runCli;

namespace {
QString path(const fs::path& p) { return QString::fromStdString(p.string()); }

QString modelsFolder() {
  QString m = qEnvironmentVariable("PARALLAX_MODELS");
  return m.isEmpty() ? qEnvironmentVariable("PARALLAX_MODELS_DEFAULT") : m;
}
}  // namespace

// The PatchmatchNet weights, as a user's run finds them; false (the test skips, or fails
// under CI) when they are absent.
bool usePatchmatchNet(QString* why) {
  const QString models = modelsFolder();
  if (!fs::exists(fs::path(models.toStdString()) / "patchmatchnet" / "patchmatchnet_module.pt")) {
    *why = "PatchmatchNet weights not found under '" + models +
           "' (set PARALLAX_MODELS to the shared models folder)";
    return false;
  }
  qputenv("PARALLAX_MODELS", models.toUtf8());
  return true;
}

// The mesh's coverage of a true surface (completeness within tau of its diagonal) and
// its unsupported area at 1% of the scene, from evaluate-geometry.
struct MeshScore {
  double fused = 0, mesh = 0, unsupported = 1;
};
MeshScore scoreMesh(const fs::path& project, const fs::path& truth, double tau) {
  auto e = runCli({"evaluate-geometry", path(project), "--gt-mesh", path(truth), "--tau",
                   QString::number(tau), "--json"});
  if (e.exitCode != 0) qWarning("%s", qPrintable(e.err));
  const auto j = nlohmann::json::parse(e.out.toStdString());
  return {j["fused"]["completeness"].get<double>(), j["mesh"]["completeness"].get<double>(),
          j["mesh"]["unsupported_area"]["shares"][1].get<double>()};
}

class TestDense : public QObject {
  Q_OBJECT
 private slots:
  // The yardstick: the bundled sample (16 photos, 640x480) with PatchmatchNet.
  void patchmatchNetOnTheBundledSampleIsAccurateAndComplete() {
    QString why;
    if (!usePatchmatchNet(&why)) {
      if (test::underCI()) QFAIL(qPrintable(why));
      QSKIP(qPrintable(why));
    }
    QTemporaryDir tmp;
    const fs::path sample = test::tempPath(tmp, "statue"), project = test::tempPath(tmp, "proj");
    QCOMPARE(runCli({"sample", "statue", path(sample)}).exitCode, 0);
    auto r = runCli({"reconstruct", path(sample / "images"), path(project)}, 900000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("(PatchmatchNet)"), qPrintable(r.err));
    // Without masks the mesh is the visibility mesher's (Poisson's file is not written).
    QVERIFY(!fs::exists(project / "dense" / "meshed-poisson.ply"));
    for (const char* f : {"dense/fused.ply", "dense/fused.ply.vis", "dense/meshed-delaunay.ply",
                          "dense/stereo/patch-match.cfg", "dense/sparse/cameras.bin",
                          "dense/images/view_000.png",
                          "dense/stereo/depth_maps/view_000.png.photometric.bin",
                          "dense/stereo/confidence_maps/view_000.png.photometric.bin",
                          "dense/stereo/normal_maps/view_000.png.photometric.bin"})
      QVERIFY2(fs::exists(project / f), f);
    const TriangleMesh fused = readPly(project / "dense" / "fused.ply");
    QCOMPARE(readVisibility(project / "dense" / "fused.ply.vis").size(), fused.size());
    QVERIFY(fused.hasNormals() && fused.hasColors());

    auto e = runCli({"evaluate-geometry", path(project), "--gt-mesh",
                     path(sample / "ground_truth" / "mesh.ply"), "--json"});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    const auto j = nlohmann::json::parse(e.out.toStdString());
    const double diagonal = j["diagonal"].get<double>();
    const double accuracy = j["fused"]["median_accuracy"].get<double>();
    const double completeness = j["fused"]["completeness"].get<double>();
    qInfo("fused: %zu points, median accuracy %.5f (%.4f%% of the diagonal), completeness %.3f; "
          "mesh: %zu faces, completeness %.3f",
          j["fused"]["points"].get<size_t>(), accuracy, 100 * accuracy / diagonal, completeness,
          j["mesh"]["faces"].get<size_t>(), j["mesh"]["completeness"].get<double>());
    QVERIFY(accuracy <= 0.002 * diagonal);
    QVERIFY(completeness >= 0.90);
    // The bar for the default mesh: accuracy within 0.1% of the diagonal, 95% of
    // the true surface covered (measured 0.06% and 97.5%; 93.7% when fusion wanted
    // normals to agree within 10 degrees and lost the ground seen at grazing angles).
    QVERIFY(j["mesh"]["median_accuracy"].get<double>() <= 0.001 * diagonal);
    QVERIFY(j["mesh"]["completeness"].get<double>() >= 0.95);
    // Only what the points support: at most 3% of the mesh's area farther than 1% of the
    // scene's size from every fused point (Poisson's closed surface had 14% here).
    const double unsupported = j["mesh"]["unsupported_area"]["shares"][1].get<double>();
    qInfo("mesh: %.2f%% of its area unsupported at 1%% of the scene", 100 * unsupported);
    QVERIFY(unsupported <= 0.03);

    // The mesh exports with its colours and the counts survive a read back.
    const fs::path glb = test::tempPath(tmp, "mesh.glb");
    QCOMPARE(runCli({"export", path(project), "--what", "mesh", "--format", "glb", path(glb)}).exitCode, 0);
    const TriangleMesh mesh = readPly(project / "dense" / "meshed-delaunay.ply");
    const TriangleMesh back = readGeometry(glb);
    QCOMPARE(back.faces.size(), mesh.faces.size());
    QVERIFY(back.hasColors());
    // The Khronos glTF validator finds no errors in it.
    const auto report = test::validateGltf(glb, &why);
    if (!report) {
      if (test::underCI()) QFAIL(qPrintable(why));
      qWarning("GLB not validated: %s", qPrintable(why));
    } else {
      qInfo("gltf-validator: %s", qPrintable(report->text.left(400)));
      QCOMPARE(report->errors, 0);
    }

    // Cleaning from the command line: crop to the half x < centre, then outliers;
    // exports hold what is left, undo brings points back, bad boxes are explained.
    const BoundingBox box = boundingBox(fused);
    const Eigen::Vector3f mid = 0.5f * (box.min + box.max);
    auto num = [](float v) { return QString::number(double(v), 'g', 9); };
    auto c = runCli({"clean", path(project), "--layer", "dense", "--layer", "mesh", "--crop",
                     num(box.min.x() - 1), num(box.min.y() - 1), num(box.min.z() - 1),
                     num(mid.x()), num(box.max.y() + 1), num(box.max.z() + 1)});
    QVERIFY2(c.exitCode == 0, qPrintable(c.err));
    size_t inside = 0;
    for (const auto& p : fused.points) inside += p.x() <= mid.x();
    QVERIFY2(c.out.contains("Crop to box") && c.out.contains("dense points removed"), qPrintable(c.out));
    const fs::path cropped = test::tempPath(tmp, "cropped.ply");
    QCOMPARE(runCli({"export", path(project), "--what", "dense", "--format", "ply", path(cropped)}).exitCode, 0);
    QCOMPARE(readPly(cropped).size(), inside);
    for (const auto& p : readPly(cropped).points) QVERIFY(p.x() <= mid.x());
    c = runCli({"clean", path(project), "--layer", "dense", "--outliers", "20", "2"});
    QVERIFY2(c.exitCode == 0, qPrintable(c.err));
    QCOMPARE(runCli({"export", path(project), "--what", "dense", "--format", "ply", path(cropped)}).exitCode, 0);
    const size_t afterOutliers = readPly(cropped).size();
    QVERIFY(afterOutliers < inside);
    c = runCli({"clean", path(project), "--undo", "1", "--history"});
    QVERIFY2(c.out.contains("undo: Statistical outliers") && c.out.contains("(undone"), qPrintable(c.out));
    QCOMPARE(runCli({"export", path(project), "--what", "dense", "--format", "ply", path(cropped)}).exitCode, 0);
    QCOMPARE(readPly(cropped).size(), inside);
    // The crop cleaned the cloud and the mesh in one action: one undo brings both back.
    c = runCli({"clean", path(project), "--undo", "1"});
    QVERIFY2(c.out.count("undo: Crop to box") == 2 && c.out.contains("mesh faces") &&
                 c.out.contains("dense points"),
             qPrintable(c.out));
    QCOMPARE(runCli({"export", path(project), "--what", "dense", "--format", "ply", path(cropped)}).exitCode, 0);
    QCOMPARE(readPly(cropped).size(), fused.size());
    c = runCli({"clean", path(project), "--layer", "dense", "--crop", "1e6", "1e6", "1e6", "2e6", "2e6", "2e6"});
    QVERIFY(c.exitCode != 0);
    QVERIFY2(c.err.contains("the box holds none of the dense points (they span x"), qPrintable(c.err));
    c = runCli({"clean", path(project), "--crop", "1", "0", "0", "0", "1", "1"});
    QVERIFY2(c.exitCode != 0 && c.err.contains("minimum must be below its maximum"), qPrintable(c.err));
  }

  // Thin structures: the poles sample's poles (2.4 cm, 3 to 7 pixels across) and rails,
  // through the whole pipeline, kept by the default (visibility) mesher; screened Poisson
  // on the same points keeps less of them and invents sheets around the scene.
  void thinPolesAreKeptByTheVisibilityMesher() {
    QString why;
    if (!usePatchmatchNet(&why)) {
      if (test::underCI()) QFAIL(qPrintable(why));
      QSKIP(qPrintable(why));
    }
    QTemporaryDir tmp;
    const fs::path sample = test::tempPath(tmp, "poles"), project = test::tempPath(tmp, "proj");
    QCOMPARE(runCli({"sample", "poles", path(sample)}).exitCode, 0);
    const fs::path thin = sample / "ground_truth" / "thin.ply";
    QVERIFY(fs::exists(thin));
    auto r = runCli({"reconstruct", path(sample / "images"), path(project), "--until", "mesh"}, 900000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("16 of 16 photos registered"), qPrintable(r.err));
    QVERIFY(fs::exists(project / "dense" / "meshed-delaunay.ply"));
    const MeshScore delaunay = scoreMesh(project, thin, 0.01);
    QCOMPARE(runCli({"set", path(project), "mesh.method=poisson"}).exitCode, 0);
    r = runCli({"run-stage", path(project), "mesh"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const MeshScore poisson = scoreMesh(project, thin, 0.01);
    qInfo("poles and rails covered within 1%% of their extent: fused cloud %.1f%%, delaunay mesh "
          "%.1f%% (unsupported %.1f%%), Poisson %.1f%% (unsupported %.1f%%)",
          100 * delaunay.fused, 100 * delaunay.mesh, 100 * delaunay.unsupported, 100 * poisson.mesh,
          100 * poisson.unsupported);
    // The bar: 80%. Measured 83.2% (the fused cloud 88.5%; what it misses, the
    // poles' feet against the ground, no mesher keeps); 80.2% with fusion's normals
    // agreeing within 10 degrees, 59% without the weak-support term.
    QVERIFY(delaunay.mesh >= 0.80);
    QVERIFY(delaunay.mesh >= poisson.mesh + 0.05);
    QVERIFY(delaunay.unsupported <= 0.03);
    QVERIFY(poisson.unsupported > 0.03);
  }

  void missingWeightsNameTheFileAndClassicalRuns() {
    QTemporaryDir tmp;
    const fs::path empty = test::tempPath(tmp, "no-models");
    fs::create_directories(empty);
    qputenv("PARALLAX_MODELS", QByteArray::fromStdString(empty.string()));
    const fs::path project = test::tempPath(tmp, "p");
    // Small photos and one sweep: this checks the path, not the accuracy.
    auto r = runCli({"reconstruct", path(test::sampleDir() / "images"), path(project), "--until",
                     "fusion", "--set", "undistort.max_image_size=160", "--set",
                     "mvs.num_iterations=2", "--set", "mvs.geom_consistency=false"},
                    600000);
    qunsetenv("PARALLAX_MODELS");
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("patchmatchnet/patchmatchnet_module.pt") &&
                 r.err.contains("Using classical PatchMatch"),
             qPrintable(r.err));
    QVERIFY2(r.err.contains("(classical PatchMatch)"), qPrintable(r.err));
    QVERIFY(readPly(project / "dense" / "fused.ply").size() > 1000);

    // Cleaning the sparse model reaches the dense stages: a deleted camera makes
    // undistort and what follows stale, the rerun leaves that photo out, and undoing
    // the deletion makes them stale again.
    auto stale = [&](const std::string& stage) {
      const auto st = runCli({"status", path(project), "--json"});
      const nlohmann::json j = nlohmann::json::parse(st.out.toStdString());
      for (const auto& s : j["stages"])
        if (s["stage"] == stage) return s["stale"].get<bool>() ? s["reason"].get<std::string>() : std::string();
      return std::string("no such stage");
    };
    QVERIFY2(stale("undistort").empty(), stale("undistort").c_str());
    const Reconstruction before = readColmapModel(project / "dense" / "sparse");
    const std::string gone = std::next(before.images.begin(), 2)->second.name;
    auto d = runCli({"clean", path(project), "--delete-camera", QString::fromStdString(gone)});
    QVERIFY2(d.exitCode == 0, qPrintable(d.err));
    QCOMPARE(stale("undistort"), std::string("its inputs have changed since it ran"));
    QVERIFY(stale("fusion").find("upstream") != std::string::npos);
    QVERIFY(stale("sparse").empty());  // the mapper's model itself is not rewritten
    r = runCli({"reconstruct", path(test::sampleDir() / "images"), path(project), "--until", "fusion"},
               600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const Reconstruction after = readColmapModel(project / "dense" / "sparse");
    QCOMPARE(after.images.size(), before.images.size() - 1);
    for (const auto& [id, im] : after.images) QVERIFY(im.name != gone);
    QVERIFY(!fs::exists(project / "dense" / "images" / gone));
    for (const auto& vis : readVisibility(project / "dense" / "fused.ply.vis"))
      QVERIFY(vis.size() >= 2);
    QVERIFY(fs::exists(project / "dense" / "fused.ply.conf"));
    QVERIFY2(stale("fusion").empty(), stale("fusion").c_str());
    d = runCli({"clean", path(project), "--undo", "1"});
    QVERIFY2(d.exitCode == 0, qPrintable(d.err));
    QCOMPARE(stale("undistort"), std::string("its inputs have changed since it ran"));
  }

  // Object masks (undistort.mask_path): depth only inside them, each photo's own mask
  // found by name; a folder that is not there, or a mask of the wrong size, is named.
  void masksKeepDepthInsideTheObject() {
    QTemporaryDir tmp;
    const fs::path masks = test::tempPath(tmp, "masks");
    fs::create_directories(masks);
    // The left 40% of each photo is the "object"; COLMAP's naming (NAME.png).
    for (const auto& entry : fs::directory_iterator(test::sampleDir() / "images")) {
      const cv::Mat photo = cv::imread(entry.path().string());
      cv::Mat mask(photo.rows, photo.cols, CV_8U, cv::Scalar(0));
      mask.colRange(0, photo.cols * 2 / 5).setTo(255);
      QVERIFY(cv::imwrite((masks / (entry.path().filename().string() + ".png")).string(), mask));
    }
    const fs::path project = test::tempPath(tmp, "p");
    auto r = runCli({"reconstruct", path(test::sampleDir() / "images"), path(project), "--until",
                     "mvs", "--set", "undistort.max_image_size=160", "--set",
                     "mvs.method=patchmatch", "--set", "mvs.num_iterations=2", "--set",
                     "mvs.geom_consistency=false", "--set", "undistort.mask_path=" + path(masks)},
                    600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    size_t inside = 0, outside = 0, maps = 0;
    for (const auto& entry : fs::directory_iterator(project / "dense" / "images")) {
      const std::string name = entry.path().filename().string();
      const DepthMap map = readDepthMap(project / "dense", name, "photometric");
      ++maps;
      for (int y = 0; y < map.height; ++y)
        for (int x = 0; x < map.width; ++x) {
          if (map.depth[size_t(y) * size_t(map.width) + size_t(x)] <= 0) continue;
          (x < map.width * 2 / 5 + 1 ? inside : outside)++;
        }
    }
    qInfo("%zu maps: %zu pixels with depth inside the masks, %zu outside", maps, inside, outside);
    QCOMPARE(maps, size_t(24));
    QVERIFY(inside > 24 * 1000);
    QCOMPARE(outside, size_t(0));

    // A depth map gone from the disk is computed again by the next run, the others kept;
    // the run is new, so what is made from the maps is out of date.
    const fs::path gone = depthMapFiles(project / "dense", "view_003.png", "photometric").depth;
    QVERIFY(fs::remove(gone));
    r = runCli({"run-stage", path(project), "mvs"}, 600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("23 kept from an earlier run"), qPrintable(r.err));
    QVERIFY(fs::exists(gone));
    r = runCli({"status", path(project)});
    QVERIFY2(r.out.contains("mvs           succeeded   up to date"), qPrintable(r.out));
    // Run again with every map in place: nothing is computed and the run keeps its id,
    // so what fusion made from these maps would stay up to date.
    auto runId = [&] {
      return nlohmann::json::parse(std::ifstream(project / "parallax.json"))["stages"]["mvs"]["run_id"].get<std::string>();
    };
    const std::string before = runId();
    r = runCli({"run-stage", path(project), "mvs"}, 600000);
    QVERIFY2(r.exitCode == 0 && r.err.contains("24 kept from an earlier run"), qPrintable(r.err));
    QCOMPARE(runId(), before);

    // New parameters, and the run is cancelled after its first map: the maps of the last
    // finished run are all still there, unchanged; the next run carries on from the
    // cancelled one's map.
    const fs::path mapDir = project / "dense" / "stereo" / "depth_maps";
    std::map<std::string, std::string> finishedMaps;
    for (const auto& e : fs::directory_iterator(mapDir))
      finishedMaps[e.path().filename().string()] = hashFile(e.path());
    QCOMPARE(runCli({"set", path(project), "mvs.num_iterations=3"}).exitCode, 0);
    QProcess worker;
    worker.start(test::cliPath(), {"run-stage", path(project), "mvs"});
    QVERIFY(worker.waitForStarted());
    const fs::path firstNew = project / "dense" / "stereo" / "depth_maps" / "view_000.png.photometric.bin";
    QElapsedTimer clock;
    clock.start();
    while (!(fs::exists(project / "dense" / "stereo.previous") && fs::exists(firstNew)) &&
           clock.elapsed() < 120000 && worker.state() == QProcess::Running)
      QTest::qWait(20);
    worker.terminate();
    QVERIFY(worker.waitForFinished(30000));
    QVERIFY2(worker.exitCode() != 0, "the run finished before it could be cancelled");
    QVERIFY(!fs::exists(project / "dense" / "stereo.previous"));
    std::map<std::string, std::string> after;
    for (const auto& e : fs::directory_iterator(mapDir))
      after[e.path().filename().string()] = hashFile(e.path());
    QVERIFY(after == finishedMaps);
    QVERIFY(fs::exists(project / "dense" / "stereo.partial"));
    r = runCli({"run-stage", path(project), "mvs"}, 600000);
    QVERIFY2(r.exitCode == 0 && r.err.contains("kept from an earlier run"), qPrintable(r.err));
    QVERIFY(!fs::exists(project / "dense" / "stereo.partial"));

    // A folder that does not exist: the stage says which and where relative paths start.
    r = runCli({"set", path(project), "undistort.mask_path=no-such-masks"});
    QCOMPARE(r.exitCode, 0);
    r = runCli({"run-stage", path(project), "undistort"});
    QVERIFY(r.exitCode != 0);
    QVERIFY2(r.err.contains("'no-such-masks' is not a folder") && r.err.contains("project folder"),
             qPrintable(r.err));
    // A mask of the wrong size names the file and both sizes.
    const fs::path first = masks / "view_000.png.png";
    QVERIFY(cv::imwrite(first.string(), cv::Mat(10, 10, CV_8U, cv::Scalar(255))));
    r = runCli({"set", path(project), "undistort.mask_path=" + path(masks)});
    r = runCli({"run-stage", path(project), "undistort"});
    QVERIFY(r.exitCode != 0);
    QVERIFY2(r.err.contains(path(first)) && r.err.contains("10x10"), qPrintable(r.err));
    // The maps computed before are still there.
    QVERIFY(fs::exists(depthMapFiles(project / "dense", "view_000.png", "photometric").depth));
  }

  void denseStagesExplainWhatIsMissing() {
    QTemporaryDir tmp;
    const fs::path project = test::tempPath(tmp, "p");
    auto r = runCli({"reconstruct", path(test::sampleDir() / "images"), path(project), "--until",
                     "import"});
    QCOMPARE(r.exitCode, 0);
    r = runCli({"run-stage", path(project), "undistort"});
    QVERIFY(r.exitCode != 0);
    QVERIFY2(r.err.contains("sparse"), qPrintable(r.err));
    r = runCli({"set", path(project), "mvs.method=magic"});
    QVERIFY(r.exitCode != 0);
    QVERIFY2(r.err.contains("auto") && r.err.contains("patchmatchnet"), qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestDense)
#include "test_dense.moc"
