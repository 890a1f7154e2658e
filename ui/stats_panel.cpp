#include "ui/stats_panel.h"

#include <QLabel>
#include <QPainter>
#include <QVBoxLayout>
#include <algorithm>

namespace parallax::ui {

HistogramView::HistogramView(const QString& title, QWidget* parent)
    : QWidget(parent), title_(title) {
  setMinimumHeight(110);
}

void HistogramView::setBins(std::vector<size_t> counts, QStringList labels) {
  counts_ = std::move(counts);
  labels_ = std::move(labels);
  update();
}

void HistogramView::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().base());
  const QFontMetrics fm = painter.fontMetrics();
  const int top = fm.height() + 4, bottom = height() - fm.height() - 4;
  painter.setPen(palette().text().color());
  painter.drawText(QRect(4, 0, width() - 8, fm.height() + 2), Qt::AlignLeft, title_);
  if (counts_.empty() || bottom <= top) return;
  const size_t tallest = *std::max_element(counts_.begin(), counts_.end());
  const double barWidth = double(width() - 8) / double(counts_.size());
  for (size_t k = 0; k < counts_.size(); ++k) {
    const double h = tallest ? double(bottom - top) * double(counts_[k]) / double(tallest) : 0.0;
    const QRectF bar(4 + double(k) * barWidth + 1, bottom - h, barWidth - 2, h);
    painter.fillRect(bar, QColor(70, 150, 230));
  }
  painter.setPen(palette().text().color());
  for (int k : {0, int(counts_.size()) / 2, int(counts_.size()) - 1}) {
    if (k >= labels_.size()) continue;
    const QRectF cell(4 + k * barWidth - 20, bottom + 2, barWidth + 40, fm.height());
    painter.drawText(cell, Qt::AlignHCenter, labels_[k]);
  }
  painter.drawText(QRect(4, 0, width() - 8, fm.height() + 2), Qt::AlignRight,
                   QString("max %1").arg(tallest));
}

StatsPanel::StatsPanel(QWidget* parent) : QWidget(parent) {
  summary_ = new QLabel("No sparse model yet: run Reconstruct.", this);
  summary_->setWordWrap(true);
  summary_->setObjectName("statsSummary");
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  errors_ = new HistogramView("Reprojection error per observation (px)", this);
  tracks_ = new HistogramView("Track length (photos per point)", this);
  perPhoto_ = new HistogramView("3D points seen by each registered photo", this);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(summary_);
  layout->addWidget(errors_, 1);
  layout->addWidget(tracks_, 1);
  layout->addWidget(perPhoto_, 1);
  layout->addStretch();
}

QString StatsPanel::summary() const { return summary_->text(); }

void StatsPanel::setModel(const Reconstruction* model, size_t totalPhotos, bool live) {
  if (!model) {
    summary_->setText("No sparse model yet: run Reconstruct.");
    errors_->setBins({}, {});
    tracks_->setBins({}, {});
    perPhoto_->setBins({}, {});
    return;
  }
  const ModelStatistics s = modelStatistics(*model);
  QString text = QString("%1 of %2 photos registered%3\n%4 points, %5 observations, mean track "
                         "length %6\nreprojection error: mean %7 px, median %8 px")
                     .arg(s.registered_images)
                     .arg(std::max(totalPhotos, s.registered_images))
                     .arg(live ? " (mapper running)" : "")
                     .arg(s.num_points)
                     .arg(s.num_observations)
                     .arg(s.mean_track_length, 0, 'f', 2)
                     .arg(s.mean_error_px, 0, 'f', 2)
                     .arg(s.median_error_px, 0, 'f', 2);
  summary_->setText(text);
  QStringList errorLabels;
  for (size_t k = 0; k < s.error_histogram.size(); ++k)
    errorLabels << (k + 1 == s.error_histogram.size()
                        ? QString("≥%1").arg(double(k) * s.error_bin_px)
                        : QString::number(double(k) * s.error_bin_px));
  errors_->setBins(s.error_histogram, errorLabels);
  // Track lengths start at 2 (a point needs two photos).
  std::vector<size_t> lengths(s.track_length_histogram.begin() + 2, s.track_length_histogram.end());
  QStringList lengthLabels;
  for (size_t k = 0; k < lengths.size(); ++k)
    lengthLabels << (k + 1 == lengths.size() ? QString("≥%1").arg(k + 2) : QString::number(k + 2));
  tracks_->setBins(lengths, lengthLabels);
  // One bar per registered photo, in name order: a photo that sees few points stands out.
  std::vector<std::pair<std::string, size_t>> photos;
  for (const auto& [id, im] : model->images) {
    size_t seen = 0;
    for (const Point2D& p : im.points2D) seen += p.point3D_id != kInvalidPoint3DId;
    photos.emplace_back(im.name, seen);
  }
  std::sort(photos.begin(), photos.end());
  std::vector<size_t> counts;
  QStringList names;
  for (const auto& [name, seen] : photos) {
    counts.push_back(seen);
    names << QString::fromStdString(name);
  }
  perPhoto_->setBins(counts, names);
}

}  // namespace parallax::ui
