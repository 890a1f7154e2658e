// The "Statistics" panel: how good the sparse model is at a glance: registered
// photos, points, track lengths and reprojection errors, with two histograms.
#pragma once

#include <QWidget>
#include <vector>

#include "scene/reconstruction.h"

class QLabel;

namespace parallax::ui {

// Bars with labels under the first, middle and last; the tallest bar fills the height.
class HistogramView : public QWidget {
  Q_OBJECT
 public:
  explicit HistogramView(const QString& title, QWidget* parent = nullptr);
  void setBins(std::vector<size_t> counts, QStringList labels);
  const std::vector<size_t>& bins() const { return counts_; }
  QSize sizeHint() const override { return {300, 140}; }

 protected:
  void paintEvent(QPaintEvent* e) override;

 private:
  QString title_;
  std::vector<size_t> counts_;
  QStringList labels_;
};

class StatsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit StatsPanel(QWidget* parent = nullptr);
  // `totalPhotos`: photos in the project; `live`: the model is a snapshot of a running mapper.
  void setModel(const Reconstruction* model, size_t totalPhotos, bool live);
  QString summary() const;
  const HistogramView* errorHistogram() const { return errors_; }
  const HistogramView* trackHistogram() const { return tracks_; }
  const HistogramView* pointsPerPhoto() const { return perPhoto_; }

 private:
  QLabel* summary_;
  HistogramView* errors_;
  HistogramView* tracks_;
  HistogramView* perPhoto_;
};

}  // namespace parallax::ui
