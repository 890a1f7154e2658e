#include "ui/jobs_panel.h"

#include <QHeaderView>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTime>
#include <QVBoxLayout>

namespace parallax::ui {

namespace {
QString formatEta(double s) {
  if (s < 0) return "—";
  if (s < 60) return QString::number(int(s + 0.5)) + " s";
  if (s < 3600) return QString("%1 min %2 s").arg(int(s) / 60).arg(int(s) % 60);
  return QString("%1 h %2 min").arg(int(s) / 3600).arg((int(s) % 3600) / 60);
}
}  // namespace

JobsPanel::JobsPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* split = new QSplitter(Qt::Horizontal, this);
  table_ = new QTableWidget(0, 5, split);
  table_->setObjectName("jobsTable");
  table_->setHorizontalHeaderLabels({"Stage", "State", "Progress", "ETA", ""});
  table_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  log_ = new QPlainTextEdit(split);
  log_->setObjectName("log");
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 1);
  layout->addWidget(split);
}

void JobsPanel::addJob(StageJob* job) {
  const int row = table_->rowCount();
  table_->insertRow(row);
  jobs_.append(job);
  table_->setItem(row, 0, new QTableWidgetItem(job->stage()));
  table_->setItem(row, 1, new QTableWidgetItem(StageJob::stateName(job->state())));
  auto* bar = new QProgressBar;
  bar->setRange(0, 1000);
  table_->setCellWidget(row, 2, bar);
  table_->setItem(row, 3, new QTableWidgetItem("—"));
  auto* cancel = new QPushButton("Cancel");
  cancel->setObjectName("cancel-" + job->stage());
  connect(cancel, &QPushButton::clicked, job, &StageJob::cancel);
  table_->setCellWidget(row, 4, cancel);
  connect(job, &StageJob::changed, this, [this, job] { refresh(job); });
  connect(job, &StageJob::logLine, this, &JobsPanel::appendLog);
  table_->scrollToBottom();
}

void JobsPanel::refresh(StageJob* job) {
  const int row = int(jobs_.indexOf(job));
  if (row < 0) return;
  table_->item(row, 1)->setText(StageJob::stateName(job->state()));
  table_->item(row, 1)->setToolTip(job->message());
  auto* bar = static_cast<QProgressBar*>(table_->cellWidget(row, 2));
  bar->setValue(job->finished() && job->state() == StageJob::State::kSucceeded
                    ? 1000
                    : int(job->fraction() * 1000));
  bar->setFormat(job->message().section('\n', 0, 0).left(80));
  bar->setTextVisible(true);
  table_->item(row, 3)->setText(job->finished() ? "" : formatEta(job->etaSeconds()));
  table_->cellWidget(row, 4)->setEnabled(!job->finished());
  if (job->finished()) {
    QString level = job->state() == StageJob::State::kFailed ? "error" : "info";
    appendLog(job->stage(), level,
              StageJob::stateName(job->state()) +
                  (job->message().isEmpty() ? "" : ": " + job->message()));
  }
}

void JobsPanel::appendLog(const QString& stage, const QString& level, const QString& text) {
  QString prefix = QTime::currentTime().toString("HH:mm:ss") + " " + stage + ": ";
  if (level != "info") prefix += level.toUpper() + ": ";
  log_->appendPlainText(prefix + text);
}

}  // namespace parallax::ui
