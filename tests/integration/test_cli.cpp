// parallax-cli as a user runs it: help, the headless pipeline, exports, and a
// one-line error with a non-zero exit (never a crash) for every bad input.
#include <QtTest>

#include <map>
#include <set>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/mesh_io.h"
#include "io/ply.h"
#include "scene/labels.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;
using test::runCli;

namespace {
// The whole pipeline, with dense work on small photos so the suite stays quick
// (test_dense measures it at full size).
const char* kSmallDense[] = {"undistort.max_image_size=160", "mvs.geom_consistency=false"};

QString path(const fs::path& p) { return QString::fromStdString(p.string()); }

void expectOneLineError(const test::ProcessResult& r, const QString& needle) {
  QVERIFY2(r.exitCode > 0 && r.exitCode < 128,
           qPrintable(QString("exit %1: %2").arg(r.exitCode).arg(r.err)));
  QString err = r.err.trimmed();
  QVERIFY2(err.contains(needle), qPrintable("expected '" + needle + "' in: " + err));
  QVERIFY2(!err.contains('\n') || err.count('\n') <= 2,
           qPrintable("error should be short: " + err));
}
}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir tmp_;
  fs::path project_;

 private slots:
  void initTestCase() {
    project_ = test::tempPath(tmp_, "project");
    auto r = runCli({"reconstruct", path(test::sampleDir() / "images"), path(project_), "--set",
                     kSmallDense[0], "--set", kSmallDense[1]});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
  }

  void helpListsTheCommands() {
    auto r = runCli({"--help"});
    QCOMPARE(r.exitCode, 0);
    for (const char* cmd : {"new", "add-photos", "set", "status", "params", "run-stage",
                            "reconstruct", "export", "sample", "plugins"})
      QVERIFY2(r.out.contains(cmd), cmd);
  }

  void paramsAreListedFromTheSchema() {
    auto r = runCli({"params", "import"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains(
        "import.default_focal_factor (float, default 1.2, [0.2, 5] x longest side)"));
  }

  // A method is offered (its choice and its parameters, in its stage and the stages it
  // adds to) exactly when its plugin is part of this build (PARALLAX_PLUGINS): every
  // plugin's declaration in the source tree is checked against `params --json`.
  void methodsAreOfferedOnlyWhenTheirPluginIsBuilt() {
    auto r = runCli({"params", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    std::set<std::string> offered, params;  // "stage.method", "stage.param"
    for (const auto& stage : json::parse(r.out.toStdString())) {
      for (const auto& m : stage["methods"]) offered.insert(stage["stage"].get<std::string>() + "." + m["name"].get<std::string>());
      for (const auto& p : stage["params"]) params.insert(stage["stage"].get<std::string>() + "." + p["name"].get<std::string>());
    }
    const std::string configured = PARALLAX_CONFIGURED_PLUGINS;
    int declarations = 0;
    for (const auto& dir : fs::directory_iterator(fs::path(PARALLAX_SOURCE_DIR) / "plugins")) {
      if (!dir.is_directory()) continue;
      const std::string plugin = dir.path().filename().string();
      const bool built = configured.find("," + plugin + ",") != std::string::npos;
      for (const auto& file : fs::directory_iterator(dir.path())) {
        if (file.path().extension() != ".json") continue;
        ++declarations;
        std::ifstream in(file.path());
        for (const auto& m : json::parse(in).at("methods")) {
          const std::string stage = m["stage"], name = stage + "." + m["name"].get<std::string>();
          QVERIFY2(offered.count(name) == (built ? 1u : 0u), qPrintable(QString::fromStdString(name)));
          for (const auto& p : m.value("params", json::array()))
            QVERIFY2(params.count(stage + "." + p["name"].get<std::string>()) == (built ? 1u : 0u),
                     qPrintable(QString::fromStdString(stage + "." + p["name"].get<std::string>())));
          const json others = m.value("stage_params", json::object());
          for (const auto& [other, list] : others.items())
            for (const auto& p : list)
              QVERIFY(params.count(other + "." + p["name"].get<std::string>()) == (built ? 1u : 0u));
          if (!built) {
            // Not offered to set either: the error lists what is.
            const QString assignment = QString::fromStdString(stage + ".method=" + m["name"].get<std::string>());
            const auto set = runCli({"set", path(project_), assignment});
            QVERIFY2(set.exitCode != 0 && set.err.contains("is not a known choice"), qPrintable(set.err));
          }
        }
      }
    }
    QVERIFY(declarations >= 7);
  }

  void reconstructProducesModelAndMesh() {
    QVERIFY(fs::exists(project_ / "sparse" / "0" / "images.bin"));
    QVERIFY(fs::exists(project_ / "reference" / "mesh.ply"));
    auto r = runCli({"status", path(project_)});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("ground_truth  succeeded   up to date"), qPrintable(r.out));
  }

  void reconstructAgainRunsNothing() {
    auto r = runCli({"reconstruct", path(test::sampleDir() / "images"), path(project_), "--json"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("\"up_to_date\""));
    QVERIFY(!r.out.contains("\"started\""));
  }

  void jsonEventsAreOnePerLine() {
    QTemporaryDir tmp;
    auto r = runCli({"reconstruct", path(test::sampleDir() / "images"),
                     path(test::tempPath(tmp, "p")), "--json", "--set", kSmallDense[0], "--set",
                     kSmallDense[1]});
    QCOMPARE(r.exitCode, 0);
    int progress = 0, succeeded = 0;
    for (const QString& line : r.out.split('\n', Qt::SkipEmptyParts)) {
      auto e = nlohmann::json::parse(line.toStdString());
      QVERIFY(e.contains("event") && e.contains("stage"));
      if (e["event"] == "progress") {
        ++progress;
        QVERIFY(e.contains("done") && e.contains("total") && e.contains("message"));
      }
      if (e["event"] == "succeeded") ++succeeded;
    }
    QVERIFY(progress >= 2);
    // import, features, matching, sparse, ground_truth, undistort, mvs, fusion, mesh, texture, segment
    QCOMPARE(succeeded, 11);
  }

  void exportsEveryFormat_data() {
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("format");
    for (const char* f : {"ply", "obj", "glb"}) {
      QTest::newRow((std::string("mesh ") + f).c_str()) << "mesh" << f;
      QTest::newRow((std::string("sparse ") + f).c_str()) << "sparse" << f;
    }
  }
  void exportsEveryFormat() {
    QFETCH(QString, what);
    QFETCH(QString, format);
    QTemporaryDir tmp;
    fs::path out = test::tempPath(tmp, "out." + format.toStdString());
    auto r = runCli({"export", path(project_), "--what", what, "--format", format, path(out)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    TriangleMesh written = format == "ply" ? readPly(out) : readGeometry(out);
    if (what == "mesh") {
      // What the project holds: the reconstructed mesh (dense/meshed-delaunay.ply).
      const fs::path sourceFile = project_ / "dense" / "meshed-delaunay.ply";
      TriangleMesh source = readPly(sourceFile);
      QCOMPARE(written.faces.size(), source.faces.size());
      // With the segment stage's labels, PLY carries them per vertex; OBJ and glTF get one
      // mesh per class, so a vertex on a seam between classes is in each class's mesh.
      const std::vector<int32_t> labels = projectMeshLabels(project_, sourceFile, source.size());
      QVERIFY(!labels.empty());
      size_t vertices = source.points.size();
      if (format == "ply") {
        QVERIFY(written.labels == labels);
      } else {
        std::map<int32_t, std::set<int>> used;
        for (const auto& f : source.faces) used[labels[size_t(f[0])]].insert({f[0], f[1], f[2]});
        vertices = 0;
        for (const auto& [label, v] : used) vertices += v.size();
      }
      QCOMPARE(written.points.size(), vertices);
      QCOMPARE(written.colors.size(), vertices);
    } else if (format != "obj") {
      QVERIFY(written.points.size() > 500);
      QCOMPARE(written.colors.size(), written.points.size());
    }
  }

  // The texture stage ran in the pipeline: its mesh exports as GLB, OBJ and PLY with the
  // atlas, the GLB passes the validator, and it renders the photos better than the same
  // faces with vertex colours.
  void exportsTheTexturedMesh() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    for (const char* f : {"glb", "obj", "ply"}) {
      auto r = runCli({"export", path(project_), "--what", "textured", "--format", f, path(dir / (std::string("t.") + f))});
      QVERIFY2(r.exitCode == 0, qPrintable(r.err));
      QVERIFY2(r.out.contains("texture page"), qPrintable(r.out));
    }
    for (const char* f : {"t.mtl", "t_0.png"}) QVERIFY2(fs::exists(dir / f), f);
    const TriangleMesh obj = readGeometry(dir / "t.obj");
    QVERIFY(obj.faces.size() > 1000);
    QString why;
    if (const auto report = test::validateGltf(dir / "t.glb", &why)) {
      QVERIFY2(report->errors == 0, qPrintable(report->text));
    } else if (test::underCI()) {
      QFAIL(qPrintable(why));
    }
    auto e = runCli({"evaluate-texture", path(project_), "--json"});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    const auto j = nlohmann::json::parse(e.out.toStdString());
    const double textured = j["textured"]["psnr"], light = j["light_vertex_colours"]["psnr"];
    qInfo("PSNR over the photos: textured %.2f dB, same faces with vertex colours %.2f dB, full mesh %.2f dB",
          textured, light, j["full_vertex_colours"]["psnr"].get<double>());
    // At this test's 160-pixel photos the mesh is coarse and the gain small (measured
    // 20.3 against 19.7 dB); test_texture and benchmarks/texture.sh measure the real one.
    QVERIFY(textured > light);
    // Turned off, the stage says so and export says what to run.
    QTemporaryDir tmp2;
    const fs::path other = test::tempPath(tmp2, "p");
    QCOMPARE(runCli({"new", path(other)}).exitCode, 0);
    expectOneLineError(runCli({"export", path(other), "--what", "textured", "--format", "glb", path(dir / "x.glb")}),
                       "run the texture stage");
  }

  void exportColmapModel() {
    QTemporaryDir tmp;
    auto r = runCli({"export", path(project_), "--what", "sparse", "--format", "colmap",
                     path(test::tempPath(tmp, "colmap"))});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    for (const char* f :
         {"cameras.bin", "images.bin", "points3D.bin", "cameras.txt", "images.txt", "points3D.txt"})
      QVERIFY(fs::exists(test::tempPath(tmp, std::string("colmap/") + f)));
  }

  void badInputsGiveOneLineErrors() {
    QTemporaryDir tmp;
    const QString p = path(project_);
    expectOneLineError(runCli({"run-stage", p, "featurs"}), "unknown stage 'featurs'");
    expectOneLineError(runCli({"run-stage", p, "import", "--set", "import.recursiv=true"}),
                       "unknown parameter 'import.recursiv'");
    expectOneLineError(runCli({"set", p, "import.default_focal_factor=99"}),
                       "import.default_focal_factor = 99 is out of range");
    expectOneLineError(runCli({"set", p, "import.single_camera=perhaps"}), "not a boolean");
    expectOneLineError(runCli({"status", path(test::tempPath(tmp, "nowhere"))}),
                       "not a Parallax project");
    expectOneLineError(runCli({"reconstruct", path(test::tempPath(tmp, "no-photos-here")),
                               path(test::tempPath(tmp, "p"))}),
                       "does not exist");
    fs::create_directories(test::tempPath(tmp, "emptyphotos"));
    expectOneLineError(runCli({"reconstruct", path(test::tempPath(tmp, "emptyphotos")),
                               path(test::tempPath(tmp, "p2"))}),
                       "found no JPEG, PNG or TIFF photos");
    auto fresh = test::tempPath(tmp, "fresh");
    QCOMPARE(runCli({"new", path(fresh)}).exitCode, 0);
    expectOneLineError(runCli({"export", path(fresh), "--what", "mesh", "--format", "glb",
                               path(test::tempPath(tmp, "x.glb"))}),
                       "no mesh yet");
    expectOneLineError(runCli({"sample", "dragon", path(test::tempPath(tmp, "s"))}),
                       "unknown sample 'dragon'");
    // The project the errors were aimed at is unharmed.
    QVERIFY(runCli({"status", p}).out.contains("up to date"));
  }

  void unknownCommandLineOptionsAreRejected() {
    auto r = runCli({"export", path(project_), "--what", "everything", "--format", "glb", "x"});
    QVERIFY(r.exitCode != 0);
    QVERIFY(r.err.contains("everything") || r.out.contains("everything"));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
