// The "Field" panel: while a neural field (NeRF, NeuS) trains, the latest render of its
// probe view and the PSNR curve over training time, as the field stage writes them
// (fields/<method>/preview.png and curve.json). Pause stops the training at a checkpoint;
// Resume runs the field stage again, which continues from it.
#pragma once

#include <QImage>
#include <QPointF>
#include <QWidget>
#include <filesystem>
#include <vector>

class QLabel;
class QPushButton;

namespace parallax::ui {

// PSNR (dB) over training time (s), with its axes' ranges as labels.
class PsnrPlot : public QWidget {
  Q_OBJECT
 public:
  explicit PsnrPlot(QWidget* parent = nullptr);
  void setCurve(std::vector<QPointF> secondsAndDb);
  const std::vector<QPointF>& curve() const { return curve_; }
  QSize sizeHint() const override { return {360, 160}; }

 protected:
  void paintEvent(QPaintEvent* e) override;

 private:
  std::vector<QPointF> curve_;
};

class FieldPanel : public QWidget {
  Q_OBJECT
 public:
  explicit FieldPanel(QWidget* parent = nullptr);
  // Shows the project's newest field preview, if any (a finished or stopped training).
  void setProject(const std::filesystem::path& root);
  // The field stage just rendered its probe view: `previewPath` is fields/<method>/preview.png.
  void showLive(const QString& previewPath);
  // Whether a field training runs now: Pause while it does, Resume otherwise.
  void setTraining(bool running, bool canResume);

  const QImage& image() const { return image_; }
  QString info() const;
  PsnrPlot* plot() const { return plot_; }
  QPushButton* pauseButton() const { return pause_; }
  QPushButton* resumeButton() const { return resume_; }

 signals:
  void pauseRequested();
  void resumeRequested();

 private:
  void load(const std::filesystem::path& folder);

  QImage image_;
  QLabel* title_;
  QLabel* picture_;
  QLabel* info_;
  PsnrPlot* plot_;
  QPushButton* pause_;
  QPushButton* resume_;
};

}  // namespace parallax::ui
