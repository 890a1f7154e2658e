#include "ui/field_panel.h"

#include "pipeline/schema.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"

namespace fs = std::filesystem;

namespace parallax::ui {

PsnrPlot::PsnrPlot(QWidget* parent) : QWidget(parent) { setMinimumHeight(120); }

void PsnrPlot::setCurve(std::vector<QPointF> secondsAndDb) {
  curve_ = std::move(secondsAndDb);
  update();
}

void PsnrPlot::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), palette().base());
  const QFontMetrics fm(font());
  const QRectF area(fm.horizontalAdvance("00.0 dB") + 8, 6, width() - fm.horizontalAdvance("00.0 dB") - 16,
                    height() - fm.height() - 14);
  p.setPen(palette().text().color());
  p.drawRect(area);
  if (curve_.empty()) {
    p.drawText(area, Qt::AlignCenter, "no PSNR measured yet");
    return;
  }
  double t1 = 0, lo = 1e9, hi = -1e9;
  for (const QPointF& c : curve_) t1 = std::max(t1, c.x()), lo = std::min(lo, c.y()), hi = std::max(hi, c.y());
  // Whole decibels around the range, at least 2 dB tall.
  lo = std::floor(lo - 0.5), hi = std::ceil(hi + 0.5);
  if (hi - lo < 2) hi = lo + 2;
  t1 = std::max(1.0, t1);
  auto at = [&](const QPointF& c) {
    return QPointF(area.left() + area.width() * c.x() / t1, area.bottom() - area.height() * (c.y() - lo) / (hi - lo));
  };
  p.drawText(QRectF(0, area.top() - 2, area.left() - 4, fm.height()), Qt::AlignRight,
             QString::number(hi, 'f', 0) + " dB");
  p.drawText(QRectF(0, area.bottom() - fm.height() + 2, area.left() - 4, fm.height()), Qt::AlignRight,
             QString::number(lo, 'f', 0) + " dB");
  p.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), fm.height()), Qt::AlignLeft, "0 s");
  p.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), fm.height()), Qt::AlignRight,
             QString::number(t1, 'f', 0) + " s");
  QPainterPath path(at(curve_[0]));
  for (size_t i = 1; i < curve_.size(); ++i) path.lineTo(at(curve_[i]));
  p.setPen(QPen(QColor(40, 110, 220), 2));
  p.drawPath(path);
  p.setBrush(QColor(40, 110, 220));
  for (const QPointF& c : curve_) p.drawEllipse(at(c), 2.5, 2.5);
}

FieldPanel::FieldPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  title_ = new QLabel("No neural field trained yet (the field stage, off by default).", this);
  title_->setWordWrap(true);
  picture_ = new QLabel(this);
  picture_->setObjectName("fieldPreview");
  picture_->setAlignment(Qt::AlignCenter);
  picture_->setMinimumSize(200, 150);
  info_ = new QLabel(this);
  info_->setWordWrap(true);
  plot_ = new PsnrPlot(this);
  auto* buttons = new QHBoxLayout;
  pause_ = new QPushButton("Pause", this);
  pause_->setToolTip("Stop the training at a checkpoint; Resume continues from it");
  resume_ = new QPushButton("Resume", this);
  resume_->setToolTip("Run the field stage again: a stopped training continues from its checkpoint");
  buttons->addWidget(pause_);
  buttons->addWidget(resume_);
  buttons->addStretch();
  layout->addWidget(title_);
  layout->addWidget(picture_, 1);
  layout->addWidget(info_);
  layout->addWidget(plot_);
  layout->addLayout(buttons);
  connect(pause_, &QPushButton::clicked, this, &FieldPanel::pauseRequested);
  connect(resume_, &QPushButton::clicked, this, &FieldPanel::resumeRequested);
  setTraining(false, false);
}

void FieldPanel::setTraining(bool running, bool canResume) {
  pause_->setEnabled(running);
  resume_->setEnabled(!running && canResume);
}

void FieldPanel::setProject(const fs::path& root) {
  image_ = QImage();
  picture_->clear();
  plot_->setCurve({});
  info_->clear();
  title_->setText("No neural field trained yet (the field stage, off by default).");
  // The newest of the methods' previews.
  fs::path newest;
  fs::file_time_type newestTime;
  for (const auto& m : Schema::instance().requireStage("field").methods) {
    const std::string& method = m.name;
    std::error_code ec;
    const fs::path curve = root / "fields" / method / "curve.json";
    const auto t = fs::last_write_time(curve, ec);
    if (!ec && (newest.empty() || t > newestTime)) newest = curve.parent_path(), newestTime = t;
  }
  if (!newest.empty()) load(newest);
}

void FieldPanel::showLive(const QString& previewPath) { load(fs::path(previewPath.toStdString()).parent_path()); }

void FieldPanel::load(const fs::path& folder) {
  std::vector<QPointF> points;
  QString view, method;
  bool heldOut = true;
  try {
    const nlohmann::json c = nlohmann::json::parse(readFile(folder / "curve.json"));
    for (const auto& e : c.at("psnr_curve")) points.emplace_back(e.at("seconds").get<double>(), e.at("psnr").get<double>());
    view = QString::fromStdString(c.value("view", ""));
    method = QString::fromStdString(c.value("method", ""));
    heldOut = c.value("held_out", true);
  } catch (const std::exception& e) {
    info_->setText(QString("The field's curve cannot be read: ") + e.what());
    return;
  }
  image_.load(QString::fromStdString((folder / "preview.png").string()));
  if (!image_.isNull())
    picture_->setPixmap(QPixmap::fromImage(image_).scaled(picture_->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation));
  plot_->setCurve(points);
  title_->setText(method + ": " + view + (heldOut ? " (held out, never trained on)" : " (a training view)"));
  if (!points.empty())
    info_->setText(QString("PSNR %1 dB after %2 s of training (%3 measurements)")
                       .arg(points.back().y(), 0, 'f', 2)
                       .arg(points.back().x(), 0, 'f', 0)
                       .arg(points.size()));
}

QString FieldPanel::info() const { return title_->text() + " " + info_->text(); }

}  // namespace parallax::ui
