// Bottom panel: one row per job (stage, state, progress bar, ETA, cancel) and the log.
#pragma once

#include <QPlainTextEdit>
#include <QTableWidget>
#include <QWidget>

#include "ui/stage_job.h"

namespace parallax::ui {

class JobsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit JobsPanel(QWidget* parent = nullptr);
  void addJob(StageJob* job);
  void appendLog(const QString& stage, const QString& level, const QString& text);
  QTableWidget* table() const { return table_; }
  QPlainTextEdit* log() const { return log_; }

 private:
  void refresh(StageJob* job);
  QTableWidget* table_;
  QPlainTextEdit* log_;
  QList<StageJob*> jobs_;
};

}  // namespace parallax::ui
