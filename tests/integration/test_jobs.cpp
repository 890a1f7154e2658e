// The worker protocol (DESIGN §5) from outside, as the GUI sees it: a running
// `parallax-cli run-stage --json` that is cancelled (SIGTERM) or killed (-9)
// leaves the workspace intact, and the project reopens saying what happened.
#include <QtTest>
#include <csignal>

#include "pipeline/runner.h"
#include "pipeline/stage.h"
#include "test_support.h"
#include "util/atomic_file.h"
#include "util/hash.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;

namespace {

// Starts the worker and returns once it reported progress on at least one photo.
bool startAndWaitForProgress(QProcess& worker, const fs::path& project) {
  worker.start(test::cliPath(),
               {"run-stage", QString::fromStdString(project.string()), "import", "--json"});
  QElapsedTimer timer;
  timer.start();
  QByteArray out;
  while (timer.elapsed() < 30000) {
    if (!worker.waitForReadyRead(200)) {
      if (worker.state() == QProcess::NotRunning) return false;
      continue;
    }
    out += worker.readAllStandardOutput();
    for (const QByteArray& line : out.split('\n')) {
      auto e = json::parse(line.toStdString(), nullptr, false);
      if (!e.is_discarded() && e.value("event", "") == "progress" && e.value("done", 0) >= 1)
        return true;
    }
  }
  return false;
}

}  // namespace

class TestJobs : public QObject {
  Q_OBJECT
 private slots:
  void cancelStopsAtASafePointAndKeepsOutputs() {
    test::SlowImportProject f;
    QProcess worker;
    QVERIFY2(startAndWaitForProgress(worker, f.project), "worker never reported progress");
    ::kill(pid_t(worker.processId()), SIGTERM);
    QVERIFY(worker.waitForFinished(15000));
    QCOMPARE(worker.exitStatus(), QProcess::NormalExit);
    QCOMPARE(worker.exitCode(), 130);
    QString out = QString::fromUtf8(worker.readAllStandardOutput());
    QVERIFY2(out.contains("\"event\":\"cancelled\""), qPrintable(out.right(500)));
    QCOMPARE(hashFile(f.project / "database.db"), f.databaseHash);
    QCOMPARE(hashFile(f.project / "photos.json"), f.photosHash);
    Workspace ws = Workspace::open(f.project);
    QVERIFY(ws.recoveryNotes().empty());  // a cancel is clean: nothing to repair
    QCOMPARE(ws.stageRecord("import")["status"], json("cancelled"));
    QVERIFY(!ws.stageRecord("import").value("output_key", "").empty());
    QVERIFY(stageState(ws, "import").stale);  // the new photos still wait to be imported
  }

  void killMinus9LeavesAProjectThatReopensAndSaysWhat() {
    test::SlowImportProject f;
    QProcess worker;
    QVERIFY2(startAndWaitForProgress(worker, f.project), "worker never reported progress");
    ::kill(pid_t(worker.processId()), SIGKILL);
    QVERIFY(worker.waitForFinished(15000));
    QCOMPARE(worker.exitStatus(), QProcess::CrashExit);
    QCOMPARE(hashFile(f.project / "database.db"), f.databaseHash);
    Workspace ws = Workspace::open(f.project);
    QString notes;
    for (const auto& n : ws.recoveryNotes()) notes += QString::fromStdString(n);
    QVERIFY2(notes.contains("stage 'import' was interrupted") &&
                 notes.contains("previous outputs are intact"),
             qPrintable(notes));
    QCOMPARE(ws.stageRecord("import")["status"], json("interrupted"));
    // Running it again completes and imports everything.
    QCOMPARE(int(runStage(ws, "import", nullptr)), int(RunResult::kSucceeded));
    QCOMPARE(ws.stageRecord("import")["outputs"]["num_images"].get<int>(), 24 + 40);
  }
};

QTEST_GUILESS_MAIN(TestJobs)
#include "test_jobs.moc"
