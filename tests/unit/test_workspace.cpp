// scene/workspace + pipeline/runner: project layout, atomic saves, recovery after
// a killed process, stage keys and staleness.
#include <QProcess>
#include <QtTest>
#include <fstream>

#include "io/colmap_model.h"
#include "pipeline/runner.h"
#include "pipeline/stage.h"
#include "test_support.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;

class TestWorkspace : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { registerBuiltinStages(); }

  void createMakesColmapLayout() {
    QTemporaryDir tmp;
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    for (const char* sub : {"sparse", "dense", "exports", "parallax.json"})
      QVERIFY(fs::exists(ws.root() / sub));
    QVERIFY_THROWS_EXCEPTION(Error, Workspace::create(ws.root()));  // already a project
  }

  void saveAndReopenKeepsRootsParamsAndAppState() {
    QTemporaryDir tmp;
    fs::path root = test::tempPath(tmp, "p");
    {
      Workspace ws = Workspace::create(root);
      ws.addPhotoRoot("/photos/a/");
      ws.addPhotoRoot("/photos/a");
      ws.setParamOverride("import", "single_camera", true);
      ws.setAppState({{"selected_stage", "import"}});
      ws.save();
    }
    Workspace ws = Workspace::open(root);
    QCOMPARE(ws.photoRoots().size(), size_t(1));
    QCOMPARE(ws.photoRoots()[0].string(), std::string("/photos/a"));
    QCOMPARE(ws.paramOverrides("import")["single_camera"], json(true));
    QCOMPARE(ws.appState()["selected_stage"], json("import"));
    QVERIFY(ws.recoveryNotes().empty());
  }

  void openNonProjectAndDamagedProject() {
    QTemporaryDir tmp;
    try {
      Workspace::open(test::tempPath(tmp));
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY(QString(e.what()).contains("not a Parallax project"));
    }
    fs::path root = test::tempPath(tmp, "p");
    Workspace::create(root);
    writeFileAtomic(root / "parallax.json", "{\"format\": \"parallax-project\", \"vers");
    try {
      Workspace::open(root);
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("damaged") && QString(e.what()).contains("untouched"),
               e.what());
    }
  }

  void recoversFromAKilledRun() {
    QTemporaryDir tmp;
    fs::path root = test::tempPath(tmp, "p");
    Workspace ws = Workspace::create(root);
    ws.updateStageRecord("import", [](json& r) {
      r["status"] = "running";
      r["pid"] = 999999999;  // no such process
      r["output_key"] = "abc";
    });
    // What a writer killed mid-way leaves: a temporary file, and a folder swap cut in half.
    std::ofstream(root / (std::string(kTempMarker) + "database.db-999999999-0")) << "partial";
    fs::create_directories(root / "sparse" / (std::string(kTempMarker) + "0.old-999999999-1"));
    std::ofstream(root / "sparse" / (std::string(kTempMarker) + "0.old-999999999-1") / "cameras.bin")
        << "old";
    Workspace reopened = Workspace::open(root);
    QString notes;
    for (const auto& n : reopened.recoveryNotes()) notes += QString::fromStdString(n) + "\n";
    QVERIFY2(notes.contains("stage 'import' was interrupted") &&
                 notes.contains("previous outputs are intact"),
             qPrintable(notes));
    QVERIFY2(notes.contains("restored 'sparse/0'"), qPrintable(notes));
    QVERIFY(notes.contains("removed an incomplete file"));
    QVERIFY(fs::exists(root / "sparse" / "0" / "cameras.bin"));
    QCOMPARE(reopened.stageRecord("import")["status"], json("interrupted"));
    QVERIFY(Workspace::open(root).recoveryNotes().empty());  // repaired once, for good
  }

  void openingDuringARunLeavesTheWritersFilesAlone() {
    QTemporaryDir tmp;
    fs::path root = test::tempPath(tmp, "p");
    Workspace::create(root);
    QProcess writer;  // stands in for a worker that is writing right now
    writer.start("sleep", {"30"});
    QVERIFY(writer.waitForStarted());
    const fs::path busy = root / (std::string(kTempMarker) + "database.db-" + std::to_string(writer.processId()) + "-0");
    std::ofstream(busy) << "being written";
    QCOMPARE(tempWriterPid(busy.filename().string()), long(writer.processId()));
    QVERIFY(Workspace::open(root).recoveryNotes().empty());
    QVERIFY(fs::exists(busy));
    writer.kill();
    writer.waitForFinished();
    QCOMPARE(Workspace::open(root).recoveryNotes().size(), size_t(1));
    QVERIFY(!fs::exists(busy));
  }

  void parameterChangeMakesStageAndDownstreamStale() {
    QTemporaryDir tmp;
    fs::path root = test::sampleProject(tmp);
    Workspace ws = Workspace::open(root);
    QVERIFY(!stageState(ws, "import").stale);
    QVERIFY(!stageState(ws, "ground_truth").stale);
    ws.setParamOverride("import", "camera_model", "PINHOLE");
    QVERIFY(stageState(ws, "import").stale);
    QCOMPARE(stageState(ws, "import").reason, std::string("its parameters have changed since it ran"));
    QVERIFY(stageState(ws, "ground_truth").stale);
    QVERIFY(QString::fromStdString(stageState(ws, "ground_truth").reason)
                .contains("upstream stage 'import'"));
    // A downstream-only change leaves upstream alone.
    ws.clearParamOverride("import", "camera_model");
    ws.setParamOverride("ground_truth", "max_points", 10);
    QVERIFY(!stageState(ws, "import").stale);
    QVERIFY(stageState(ws, "ground_truth").stale);
  }

  void rerunRecomputesOnlyStaleStages() {
    QTemporaryDir tmp;
    fs::path root = test::sampleProject(tmp);
    Workspace ws = Workspace::open(root);
    const std::string importFinished = ws.stageRecord("import")["finished"];
    auto dbTime = fs::last_write_time(ws.databasePath());
    ws.setParamOverride("ground_truth", "max_points", 50);
    ws.save();
    auto sink = std::make_shared<CollectingSink>();
    QCOMPARE(int(runPipeline(ws, "", sink)), int(RunResult::kSucceeded));
    QCOMPARE(fs::last_write_time(ws.databasePath()), dbTime);
    bool importUpToDate = false;
    for (const auto& e : sink->events())
      if (e["stage"] == "import" && e["event"] == "up_to_date") importUpToDate = true;
    QVERIFY(importUpToDate);
    QVERIFY(readColmapModel(ws.referenceDir() / "sparse").points3D.size() <= 50);
    QVERIFY(!stageState(ws, "ground_truth").stale);
  }

  void addedPhotoMakesImportStale() {
    QTemporaryDir tmp;
    fs::path photos = test::tempPath(tmp, "photos");
    fs::create_directories(photos);
    fs::copy_file(test::sampleDir() / "images" / "view_000.png", photos / "a.png");
    fs::copy_file(test::sampleDir() / "images" / "view_001.png", photos / "b.png");
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    ws.addPhotoRoot(photos);
    ws.save();
    QCOMPARE(int(runStage(ws, "import", nullptr)), int(RunResult::kSucceeded));
    QVERIFY(!stageState(ws, "import").stale);
    fs::copy_file(test::sampleDir() / "images" / "view_002.png", photos / "c.png");
    QVERIFY(stageState(ws, "import").stale);
    QCOMPARE(stageState(ws, "import").reason, std::string("its inputs have changed since it ran"));
  }

  void runningDownstreamBeforeUpstreamSaysWhatToRun() {
    QTemporaryDir tmp;
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    auto sink = std::make_shared<CollectingSink>();
    QCOMPARE(int(runStage(ws, "ground_truth", sink)), int(RunResult::kFailed));
    QVERIFY(QString::fromStdString(sink->events().back()["reason"])
                .contains("run stage 'import' first"));
    QCOMPARE(int(runStage(ws, "import", sink)), int(RunResult::kFailed));
    QVERIFY(QString::fromStdString(sink->events().back()["reason"]).contains("no photos"));
  }
};

QTEST_GUILESS_MAIN(TestWorkspace)
#include "test_workspace.moc"
