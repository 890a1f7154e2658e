// Neural fields from the field_nerf plugin: the fused hash-grid and compositing kernels
// give the same numbers and gradients as the same maths in tensor operations; a NeRF
// trained briefly on the NeRF-synthetic lego renders held-out views it never saw; a NeuS
// on a sample project's own cameras keeps a surface near the true one; a NeuS on DTU with
// its masks closes around the object;
// bad poses files and a missing checkpoint are messages naming what to fix.

#include <QProcess>
#include <QtTest>

#include <fstream>

#include "plugin/plugin_manager.h"
#include "stages/builtin_stages.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;

namespace {

QString path(const fs::path& p) { return QString::fromStdString(p.string()); }

// A project on the lego photos with the field's poses set, imported.
fs::path legoProject(const QTemporaryDir& tmp, const fs::path& lego, const QStringList& sets) {
  const fs::path project = test::tempPath(tmp, "lego");
  auto r = test::runCli({"new", path(project), path(lego / "train")});
  if (r.exitCode != 0) return {};
  QStringList args = {"run-stage", path(project), "import"};
  r = test::runCli(args);
  if (r.exitCode != 0) return {};
  args = QStringList{"set", path(project)};
  args << "field.enabled=true" << "field.poses=" + path(lego / "transforms_train.json");
  args << sets;
  r = test::runCli(args);
  return r.exitCode == 0 ? project : fs::path();
}

}  // namespace

class TestFields : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    registerBuiltinStages();
    PARALLAX_REQUIRE_PLUGIN("field_nerf");
  }

  // The encoding the fields train through is exactly instant-ngp's trilinear hash grid:
  // the fused kernel's output and table gradient equal the tensor-op version's.
  void hashGridKernelEqualsTensorOps() {
    const json r = PluginManager::instance().command("hashgrid-benchmark", {{"points", 8192}, {"repeats", 1}});
    qInfo("hash grid: fused %.2f M points/s, tensor ops %.2f M points/s; max difference %g, gradient %g of %g",
          r["fused_points_per_s"].get<double>() / 1e6, r["tensor_ops_points_per_s"].get<double>() / 1e6,
          r["max_abs_difference"].get<double>(), r["max_grad_difference"].get<double>(),
          r["max_grad"].get<double>());
    QVERIFY(r["max_abs_difference"].get<double>() < 1e-6);
    QVERIFY(r["max_grad"].get<double>() > 0.1);  // the comparison is not between zeros
    QVERIFY(r["max_grad_difference"].get<double>() < 1e-5 * r["max_grad"].get<double>());
  }

  // Volume rendering's analytic gradient (density and colour) equals autograd's through
  // the textbook formula, on rays with 0 to 40 samples, thin and nearly opaque.
  void compositingGradientIsExact() {
    const json r = PluginManager::instance().command("composite-check");
    qInfo("%s", r.dump().c_str());
    QVERIFY(r["samples"].get<int>() > 500);
    QVERIFY(r["max_color_difference"].get<double>() < 1e-5);
    QVERIFY(r["max_opacity_difference"].get<double>() < 1e-5);
    QVERIFY(r["max_density_grad"].get<double>() > 1e-3);
    QVERIFY(r["max_density_grad_difference"].get<double>() < 1e-4 * r["max_density_grad"].get<double>());
    QVERIFY(r["max_color_grad_difference"].get<double>() < 1e-5);
  }

  // A short NeRF run (a few hundred iterations at 64 px) already renders the held-out
  // views (every 8th photo, never trained on) far better than the empty white canvas.
  void nerfRendersHeldOutLegoViews() {
    PARALLAX_REQUIRE_DATA(lego, "nerf_synthetic_lego_train");
    QTemporaryDir tmp;
    const fs::path project =
        legoProject(tmp, lego,
                    {"field.max_image_size=64", "field.iterations=300", "field.batch_samples=16384",
                     "field.time_budget_s=3000", "field.curve_interval_s=3000"});
    QVERIFY(!project.empty());
    auto r = test::runCli({"run-stage", path(project), "field"}, 900000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY(fs::exists(project / "fields/nerf/checkpoint.pt"));
    json training = json::parse(std::ifstream(project / "fields/nerf/training.json"));
    QCOMPARE(training["iterations"].get<int>(), 300);
    QCOMPARE(training["held_out_views"].get<int>(), 13);
    QCOMPARE(training["train_views"].get<int>(), 87);

    r = test::runCli({"evaluate-field", path(project), "--json"}, 600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    // The result is the last line (progress events come before it).
    const QStringList lines = r.out.trimmed().split('\n');
    const json e = json::parse(lines.last().toStdString());
    qInfo("lego at 64 px, 300 iterations: held-out PSNR %.2f dB, SSIM %.3f", e["psnr"].get<double>(),
          e["ssim"].get<double>());
    QCOMPARE(e["views"].size(), size_t(13));
    // A white render scores about 11 dB on these views.
    QVERIFY(e["psnr"].get<double>() > 20.0);
    QVERIFY(e["ssim"].get<double>() > 0.75);
    QVERIFY(fs::exists(project / "fields/nerf/renders/r_0.png"));
  }

  // Stopping a training (SIGTERM, as the GUI's Pause and Cancel) checkpoints it; running
  // the stage again resumes there: iterations and training time carry on, the PSNR curve
  // keeps its earlier points. A checkpoint with other settings is not resumed.
  void stoppedTrainingResumesFromItsCheckpoint() {
    PARALLAX_REQUIRE_DATA(lego, "nerf_synthetic_lego_train");
    QTemporaryDir tmp;
    const fs::path project =
        legoProject(tmp, lego,
                    {"field.max_image_size=48", "field.batch_samples=8192", "field.time_budget_s=30",
                     "field.curve_interval_s=2", "field.checkpoint_interval_s=2", "field.mesh_resolution=0"});
    QVERIFY(!project.empty());
    const fs::path progress = project / "fields/nerf/progress.json";
    QProcess worker;
    worker.start(test::cliPath(), {"run-stage", path(project), "field"});
    QVERIFY(worker.waitForStarted());
    // Until the first periodic checkpoint, then a few seconds more.
    QElapsedTimer t;
    t.start();
    while (!fs::exists(progress) && t.elapsed() < 120000 && worker.state() == QProcess::Running)
      QTest::qWait(100);
    QVERIFY2(fs::exists(progress), qPrintable(worker.readAllStandardError()));
    QTest::qWait(3000);
    worker.terminate();
    QVERIFY(worker.waitForFinished(30000));
    QVERIFY(worker.exitCode() != 0);
    const json stopped = json::parse(std::ifstream(progress));
    QCOMPARE(stopped["finished"].get<bool>(), false);
    const int64_t stoppedAt = stopped["iterations"].get<int64_t>();
    const double stoppedSeconds = stopped["train_seconds"].get<double>();
    qInfo("stopped at iteration %lld after %.1f s, %zu curve points", (long long)stoppedAt, stoppedSeconds,
          stopped["psnr_curve"].size());
    QVERIFY(stoppedAt > 0 && stoppedSeconds > 2 && stoppedSeconds < 30);
    QVERIFY(!stopped["psnr_curve"].empty());

    auto r = test::runCli({"run-stage", path(project), "field"}, 600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2((r.out + r.err).contains("resuming the training stopped at iteration " + QString::number(stoppedAt)),
             qPrintable(r.out + r.err));
    const json done = json::parse(std::ifstream(project / "fields/nerf/training.json"));
    QCOMPARE(done["resumed_from_seconds"].get<double>(), stoppedSeconds);
    QVERIFY(done["iterations"].get<int64_t>() > stoppedAt);
    QVERIFY(done["train_seconds"].get<double>() >= 30.0);
    QVERIFY(done["psnr_curve"].size() > stopped["psnr_curve"].size());
    QCOMPARE(done["psnr_curve"][0], stopped["psnr_curve"][0]);
    QVERIFY(json::parse(std::ifstream(progress))["finished"].get<bool>());
    QVERIFY(fs::exists(project / "fields/nerf/preview.png"));
    const json curve = json::parse(std::ifstream(project / "fields/nerf/curve.json"));
    QCOMPARE(curve["view"].get<std::string>(), std::string("r_0"));
    QCOMPARE(curve["held_out"].get<bool>(), true);

    // Stopped again under other settings (a larger hash table): trained from the start.
    json again = json::parse(std::ifstream(progress));
    again["finished"] = false;
    std::ofstream(progress) << again.dump();
    r = test::runCli({"run-stage", path(project), "field", "--set", "field.hash_log2_size=16", "--set",
                      "field.time_budget_s=4"},
                     600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2((r.out + r.err).contains("had other settings; training from the start"), qPrintable(r.out + r.err));
    QCOMPARE(json::parse(std::ifstream(project / "fields/nerf/training.json"))["resumed_from_seconds"].get<double>(),
             0.0);
  }

  // NeuS on a project's own structure from motion, on the statue sample (paved ground out to
  // the cameras, sky above): the sparse points pin the surface, so the field keeps one
  // instead of swelling into a ball with the photos painted on it, and that surface lies on
  // the true one (Chamfer distance in the truth's frame, the project aligned onto it).
  void neusPinnedBySparsePointsFindsTheSurface() {
    PARALLAX_REQUIRE_PLUGIN("field_neus");
    QTemporaryDir tmp;
    const fs::path project = test::projectFrom(test::sampleDir(), tmp, "ground_truth");
    auto r = test::runCli({"set", path(project), "field.enabled=true", "field.method=neus", "field.max_image_size=160",
                           "field.time_budget_s=45", "field.curve_interval_s=15", "field.mesh_resolution=160"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = test::runCli({"run-stage", path(project), "field"}, 600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2((r.out + r.err).contains("sparse points pin the surface"), qPrintable(r.out + r.err));
    const json trained = json::parse(std::ifstream(project / "fields/neus/training.json"));
    QVERIFY2(trained["mesh"]["faces"].get<int64_t>() > 10000, trained.dump().c_str());
    r = test::runCli({"evaluate-field", path(project), "--gt-mesh",
                      path(test::sampleDir() / "ground_truth/mesh.ply"), "--json"},
                     600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    // Progress events, one JSON object a line, then the result.
    const json eval = json::parse(r.out.trimmed().split('\n').last().toStdString());
    const double chamfer = eval["chamfer"]["chamfer_of_diagonal"].get<double>();
    qInfo("NeuS, 45 s at 160 px: %lld iterations, held-out PSNR %.2f dB, Chamfer %.2f%% of the diagonal",
          (long long)trained["iterations"].get<int64_t>(), eval["psnr"].get<double>(), 100 * chamfer);
    QVERIFY(eval["psnr"].get<double>() > 17.0);
    QVERIFY(chamfer < 0.035);  // without the sparse points: 4.5% (the statue, 45 s at 160 px)
  }

  // NeuS on DTU scan24 with its masks (a short run at 160 px): the masks' visual hull
  // shapes the field from the first step, and the extracted surface is one closed piece
  // even though the photos' frames crop the object (it closes inside the field's sphere).
  void neusWithMasksGivesAClosedObject() {
    PARALLAX_REQUIRE_PLUGIN("field_neus");
    PARALLAX_REQUIRE_DATA(dtu, "dtu_scan24");
    QTemporaryDir tmp;
    const fs::path project = test::tempPath(tmp, "dtu");
    auto r = test::runCli({"new", path(project), path(dtu / "images")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = test::runCli({"run-stage", path(project), "import"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = test::runCli({"set", path(project), "field.enabled=true", "field.method=neus",
                      "field.poses=" + path(dtu / "cameras_sphere.npz"), "field.max_image_size=160",
                      "field.time_budget_s=40", "field.curve_interval_s=20", "field.mesh_resolution=96",
                      "field.mesh_seen_only=false"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = test::runCli({"run-stage", path(project), "field"}, 600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2((r.out + r.err).contains("visual hull leaves"), qPrintable(r.out + r.err));
    const json trained = json::parse(std::ifstream(project / "fields/neus/training.json"));
    const json& mesh = trained["mesh"];
    qInfo("NeuS on DTU, 40 s at 160 px: %lld iterations, probe PSNR %.2f dB, %lld faces, %lld component(s), %lld boundary edges",
          (long long)trained["iterations"].get<int64_t>(), trained["psnr_curve"].back()["psnr"].get<double>(),
          (long long)mesh["faces"].get<int64_t>(), (long long)mesh["components"].get<int64_t>(),
          (long long)mesh["boundary_edges"].get<int64_t>());
    QVERIFY2(mesh["closed"].get<bool>(), mesh.dump().c_str());
    QCOMPARE(mesh["components"].get<int64_t>(), int64_t(1));
    QVERIFY2(mesh["faces"].get<int64_t>() > 2000, mesh.dump().c_str());
  }

  void badPosesAndMissingCheckpointAreExplained() {
    PARALLAX_REQUIRE_DATA(lego, "nerf_synthetic_lego_train");
    QTemporaryDir tmp;
    const fs::path project = legoProject(tmp, lego, {});
    QVERIFY(!project.empty());
    // No checkpoint yet.
    auto r = test::runCli({"evaluate-field", path(project)});
    QVERIFY(r.exitCode != 0);
    QVERIFY2(r.err.contains("no NeRF checkpoint") && r.err.contains("run the field stage"), qPrintable(r.err));
    // No poses file and no cameras of its own yet.
    r = test::runCli({"run-stage", path(project), "field", "--set", "field.poses="});
    QVERIFY(r.exitCode != 0);
    QVERIFY2((r.err + r.out).contains("no registered cameras (sparse/0): run the pipeline up to sparse"),
             qPrintable(r.err + r.out));
    // A poses file that is not there, not JSON, or names a photo that is not there.
    const fs::path bad = test::tempPath(tmp, "bad.json"), broken = test::tempPath(tmp, "broken.json");
    std::ofstream(bad) << "{ this is not json";
    std::ofstream(broken) << R"({"camera_angle_x": 0.7, "frames": [{"file_path": "./train/nothere",
      "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4],[0,0,0,1]]}]})";
    const std::vector<std::pair<QString, QString>> cases = {
        {path(project / "missing.json"), "cannot be read"},
        {path(bad), "is not valid JSON"},
        {path(broken), "is missing or not a readable image"}};
    for (const auto& [poses, message] : cases) {
      r = test::runCli({"run-stage", path(project), "field", "--set", "field.poses=" + poses});
      QVERIFY(r.exitCode != 0);
      QVERIFY2((r.err + r.out).contains(message), qPrintable(poses + ": " + r.err + r.out));
    }
  }
};

QTEST_GUILESS_MAIN(TestFields)
#include "test_fields.moc"
