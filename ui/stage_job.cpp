#include "ui/stage_job.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QTimer>
#include <nlohmann/json.hpp>

namespace parallax::ui {

namespace {
constexpr int kStderrTailChars = 4000;
constexpr int kExitCancelled = 130;
}  // namespace

StageJob::StageJob(QString project, QString stage, QObject* parent)
    : QObject(parent), project_(std::move(project)), stage_(std::move(stage)) {
  connect(&process_, &QProcess::readyReadStandardOutput, this, &StageJob::onStdout);
  connect(&process_, &QProcess::readyReadStandardError, this, &StageJob::onStderr);
  connect(&process_, &QProcess::finished, this, &StageJob::onFinished);
  connect(&process_, &QProcess::errorOccurred, this, &StageJob::onError);
}

StageJob::~StageJob() {
  if (process_.state() != QProcess::NotRunning) {
    process_.kill();
    process_.waitForFinished(2000);
  }
}

QString StageJob::workerPath() {
  QByteArray env = qgetenv("PARALLAX_CLI");
  if (!env.isEmpty()) return QString::fromLocal8Bit(env);
  return QCoreApplication::applicationDirPath() + "/parallax-cli";
}

QString StageJob::stateName(State s) {
  switch (s) {
    case State::kQueued:
      return "queued";
    case State::kRunning:
      return "running";
    case State::kSucceeded:
      return "succeeded";
    case State::kSkipped:
      return "skipped";
    case State::kFailed:
      return "failed";
    case State::kCancelled:
      return "cancelled";
  }
  return {};
}

void StageJob::start() {
  state_ = State::kRunning;
  message_ = "starting";
  emit changed();
  process_.start(workerPath(), {"run-stage", project_, stage_, "--json"});
}

void StageJob::cancel() {
  if (state_ == State::kQueued) {
    finish(State::kCancelled, "cancelled before it started");
    return;
  }
  if (state_ != State::kRunning) return;
  cancelRequested_ = true;
  message_ = "cancelling…";
  emit changed();
  process_.terminate();  // SIGTERM: the worker stops at its next safe point
  QTimer::singleShot(10000, this, [this] {
    if (process_.state() != QProcess::NotRunning) process_.kill();
  });
}

void StageJob::onStdout() {
  stdoutBuffer_ += process_.readAllStandardOutput();
  for (int nl; (nl = stdoutBuffer_.indexOf('\n')) >= 0;) {
    QByteArray line = stdoutBuffer_.left(nl);
    stdoutBuffer_.remove(0, nl + 1);
    if (!line.trimmed().isEmpty()) handleEvent(line);
  }
}

void StageJob::onStderr() {
  stderrTail_ += QString::fromLocal8Bit(process_.readAllStandardError());
  if (stderrTail_.size() > kStderrTailChars) stderrTail_ = stderrTail_.right(kStderrTailChars);
}

void StageJob::handleEvent(const QByteArray& line) {
  nlohmann::json e =
      nlohmann::json::parse(line.constData(), line.constData() + line.size(), nullptr, false);
  if (e.is_discarded() || !e.is_object()) {
    emit logLine(stage_, "info", QString::fromUtf8(line));  // plain output from a library
    return;
  }
  const std::string type = e.value("event", "");
  if (type == "progress") {
    done_ = e.value("done", size_t{0});
    total_ = e.value("total", size_t{0});
    eta_ = e.value("eta_s", -1.0);
    message_ = QString::fromStdString(e.value("message", ""));
    emit changed();
  } else if (type == "log") {
    emit logLine(stage_, QString::fromStdString(e.value("level", "info")),
                 QString::fromStdString(e.value("message", "")));
  } else if (type == "preview") {
    emit preview(QString::fromStdString(e.value("what", "")),
                 QString::fromStdString(e.value("path", "")));
  } else if (type == "succeeded" || type == "skipped" || type == "failed" || type == "cancelled") {
    sawOutcome_ = true;
    finalReason_ = QString::fromStdString(type == "succeeded" ? e.value("summary", "")
                                                              : e.value("reason", ""));
    skipped_ = type == "skipped";
  }
}

void StageJob::onFinished(int exitCode, QProcess::ExitStatus status) {
  onStdout();
  onStderr();
  if (status == QProcess::CrashExit) {
    if (cancelRequested_) {
      finish(State::kCancelled, "cancelled (the worker had to be killed)");
      return;
    }
    QString tail = stderrTail_.trimmed();
    finish(State::kFailed,
           "the worker process crashed or was killed (e.g. out of memory); nothing it was writing "
           "replaced earlier outputs." +
               (tail.isEmpty() ? QString() : "\nLast output:\n" + tail.right(1500)));
    return;
  }
  if (exitCode == 0) {
    finish(skipped_ ? State::kSkipped : State::kSucceeded, finalReason_);
  } else if (exitCode == kExitCancelled) {
    finish(State::kCancelled, finalReason_.isEmpty() ? "cancelled" : finalReason_);
  } else {
    QString reason = finalReason_;
    if (reason.isEmpty()) reason = "the worker exited with code " + QString::number(exitCode);
    QString tail = stderrTail_.trimmed();
    if (!sawOutcome_ && !tail.isEmpty()) reason += "\nLast output:\n" + tail.right(1500);
    finish(State::kFailed, reason);
  }
}

void StageJob::onError(QProcess::ProcessError error) {
  if (error == QProcess::FailedToStart)
    finish(State::kFailed, "could not start the worker '" + workerPath() + "': " +
                               process_.errorString() + " (is Parallax installed completely?)");
}

void StageJob::finish(State state, const QString& message) {
  if (finished()) return;
  state_ = state;
  message_ = message;
  emit changed();
  emit done(this);
}

}  // namespace parallax::ui
