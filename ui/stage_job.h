// One stage run as a worker process (`parallax-cli run-stage PROJECT STAGE --json`),
// read through its newline-delimited JSON events. The GUI never computes in its
// own process: a crash or out-of-memory kill becomes a failed job, and cancel is
// SIGTERM (the worker stops at a safe point, previous outputs untouched).
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QProcess>
#include <QString>

namespace parallax::ui {

class StageJob : public QObject {
  Q_OBJECT
 public:
  enum class State { kQueued, kRunning, kSucceeded, kSkipped, kFailed, kCancelled };

  StageJob(QString project, QString stage, QObject* parent = nullptr);
  ~StageJob() override;

  void start();
  void cancel();  // SIGTERM; SIGKILL if the worker has not stopped 10 s later

  const QString& stage() const { return stage_; }
  State state() const { return state_; }
  static QString stateName(State s);
  bool finished() const { return state_ != State::kQueued && state_ != State::kRunning; }
  double fraction() const { return total_ > 0 ? double(done_) / double(total_) : 0.0; }
  double etaSeconds() const { return eta_; }
  const QString& message() const { return message_; }
  const QString& stderrTail() const { return stderrTail_; }
  qint64 pid() const { return process_.processId(); }

  // The worker executable: $PARALLAX_CLI, else parallax-cli beside this program.
  static QString workerPath();

 signals:
  void changed();
  void logLine(const QString& stage, const QString& level, const QString& text);
  void preview(const QString& what, const QString& path);
  void done(parallax::ui::StageJob* job);

 private:
  void onStdout();
  void onStderr();
  void onFinished(int exitCode, QProcess::ExitStatus status);
  void onError(QProcess::ProcessError error);
  void handleEvent(const QByteArray& line);
  void finish(State state, const QString& message);

  QString project_, stage_;
  QProcess process_;
  QByteArray stdoutBuffer_;
  QString stderrTail_;
  State state_ = State::kQueued;
  size_t done_ = 0, total_ = 0;
  double eta_ = -1;
  QString message_;
  QString finalReason_;
  bool sawOutcome_ = false;
  bool skipped_ = false;
  bool cancelRequested_ = false;
};

}  // namespace parallax::ui
