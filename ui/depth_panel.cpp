#include "ui/depth_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QVBoxLayout>
#include <algorithm>
#include <array>
#include <cmath>

#include "mvs/dense_scene.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax::ui {
namespace {

const QColor kNoDepth(38, 40, 44);

// A rainbow in the manner of Google's Turbo (dark blue -> cyan -> green -> yellow
// -> red), linear between these samples.
QRgb rainbow(double t) {
  static const std::array<std::array<int, 3>, 11> samples = {{{48, 18, 59},
                                                              {65, 69, 171},
                                                              {70, 117, 237},
                                                              {57, 162, 252},
                                                              {27, 207, 212},
                                                              {36, 236, 166},
                                                              {97, 252, 108},
                                                              {164, 252, 60},
                                                              {225, 221, 55},
                                                              {254, 165, 49},
                                                              {200, 50, 14}}};
  t = std::clamp(t, 0.0, 1.0) * double(samples.size() - 1);
  const size_t i = std::min(size_t(t), samples.size() - 2);
  const double f = t - double(i);
  int c[3];
  for (int k = 0; k < 3; ++k)
    c[k] = int(std::lround(samples[i][size_t(k)] * (1 - f) + samples[i + 1][size_t(k)] * f));
  return qRgb(c[0], c[1], c[2]);
}

QString number(double v) { return QString::number(v, 'g', 4); }

}  // namespace

MapView::MapView(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(160);
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void MapView::setImage(const QImage& image, const QString& low, const QString& high) {
  image_ = image;
  low_ = low;
  high_ = high;
  update();
}

QRectF MapView::imageRect() const {
  if (image_.isNull()) return {};
  const double barHeight = low_.isEmpty() ? 0 : 34;
  const QSizeF area(width(), std::max(1.0, height() - barHeight));
  const QSizeF fitted = QSizeF(image_.size()).scaled(area, Qt::KeepAspectRatio);
  return {QPointF((width() - fitted.width()) / 2, (area.height() - fitted.height()) / 2), fitted};
}

QPoint MapView::mapPixel(const QPointF& pos) const {
  const QRectF r = imageRect();
  if (!r.contains(pos)) return {-1, -1};
  const int x = int((pos.x() - r.left()) / r.width() * image_.width());
  const int y = int((pos.y() - r.top()) / r.height() * image_.height());
  return {std::clamp(x, 0, image_.width() - 1), std::clamp(y, 0, image_.height() - 1)};
}

void MapView::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), QColor(30, 32, 36));
  if (image_.isNull()) return;
  const QRectF r = imageRect();
  painter.drawImage(r, image_);  // nearest: every map pixel stays visible as it is
  if (low_.isEmpty()) return;
  // Colour bar under the image: near (left) to far (right), or low to high.
  const QRectF bar(r.left(), r.bottom() + 6, r.width(), 10);
  for (int x = 0; x < int(bar.width()); ++x) {
    painter.setPen(QColor(rainbow(1.0 - double(x) / std::max(1.0, bar.width() - 1))));
    painter.drawLine(QPointF(bar.left() + x, bar.top()), QPointF(bar.left() + x, bar.bottom()));
  }
  painter.setPen(QColor(220, 220, 220));
  const QRectF text(bar.left(), bar.bottom() + 1, bar.width(), 16);
  painter.drawText(text, Qt::AlignLeft | Qt::AlignVCenter, low_);
  painter.drawText(text, Qt::AlignRight | Qt::AlignVCenter, high_);
}

void MapView::mouseMoveEvent(QMouseEvent* e) { emit hovered(mapPixel(e->position())); }

DepthPanel::DepthPanel(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel("Select a photo to see its depth map", this);
  title_->setObjectName("depthTitle");
  title_->setWordWrap(true);
  QFont bold = title_->font();
  bold.setBold(true);
  title_->setFont(bold);
  mode_ = new QComboBox(this);
  mode_->setObjectName("depthMode");
  mode_->addItems({"Depth", "Confidence", "Normals"});
  follow_ = new QCheckBox("Follow live", this);
  follow_->setObjectName("depthFollowLive");
  follow_->setChecked(true);
  follow_->setToolTip("While depth maps are computed, show each one as it is written");
  info_ = new QLabel(this);
  info_->setObjectName("depthInfo");
  info_->setToolTip("Depth range: 2nd to 98th percentile of the map's depths");
  hover_ = new QLabel(" ", this);
  hover_->setObjectName("depthHover");
  view_ = new MapView(this);
  auto* row = new QHBoxLayout;
  row->addWidget(mode_);
  row->addWidget(follow_);
  row->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title_);
  layout->addLayout(row);
  layout->addWidget(view_, 1);
  layout->addWidget(info_);
  layout->addWidget(hover_);
  connect(mode_, &QComboBox::currentIndexChanged, this, [this] { render(); });
  connect(view_, &MapView::hovered, this, &DepthPanel::onHover);
}

void DepthPanel::setProject(const fs::path& root) {
  root_ = root;
  name_.clear();
  clearMaps("Select a photo to see its depth map");
}

bool DepthPanel::followLive() const { return follow_->isChecked(); }

void DepthPanel::setMode(Mode mode) { mode_->setCurrentIndex(int(mode)); }

void DepthPanel::clearMaps(const QString& why) {
  kind_.clear();
  width_ = height_ = 0;
  depth_.clear();
  confidence_.clear();
  normals_.clear();
  image_ = QImage();
  title_->setText(why);
  info_->clear();
  hover_->setText(" ");
  view_->setImage({}, {}, {});
}

void DepthPanel::showPhoto(const QString& name) {
  if (root_.empty()) return;
  const fs::path dense = root_ / "dense";
  for (const char* kind : {"geometric", "photometric"}) {
    const fs::path file = depthMapFiles(dense, name.toStdString(), kind).depth;
    if (fs::exists(file)) {
      load(file, name, kind);
      return;
    }
  }
  name_ = name;
  clearMaps(name + ": no depth map yet (run the mvs stage)");
}

void DepthPanel::showLiveMap(const QString& depthMapPath) {
  if (!followLive()) return;
  // NAME.KIND.bin; NAME may itself contain dots.
  const fs::path file = depthMapPath.toStdString();
  const std::string stem = file.stem().string();  // NAME.KIND
  const size_t dot = stem.rfind('.');
  if (dot == std::string::npos) return;
  load(file, QString::fromStdString(stem.substr(0, dot)),
       QString::fromStdString(stem.substr(dot + 1)));
}

void DepthPanel::load(const fs::path& depthFile, const QString& name, const QString& kind) {
  name_ = name;
  try {
    int w = 0, h = 0, c = 0;
    std::vector<float> depth = readColmapMap(depthFile, &w, &h, &c);
    if (c != 1) throw Error("'" + depthFile.string() + "' is not a depth map (" + std::to_string(c) + " channels)");
    const DepthMapFiles files = depthMapFiles(root_ / "dense", name.toStdString(), kind.toStdString());
    std::vector<float> confidence, normals;
    int w2 = 0, h2 = 0, c2 = 0;
    if (fs::exists(files.confidence)) {
      confidence = readColmapMap(files.confidence, &w2, &h2, &c2);
      if (w2 != w || h2 != h || c2 != 1) confidence.clear();
    }
    if (fs::exists(files.normal)) {
      normals = readColmapMap(files.normal, &w2, &h2, &c2);
      if (w2 != w || h2 != h || c2 != 3) normals.clear();
    }
    width_ = w;
    height_ = h;
    kind_ = kind;
    depth_ = std::move(depth);
    confidence_ = std::move(confidence);
    normals_ = std::move(normals);
  } catch (const std::exception& e) {
    // A map being rewritten, or a damaged file: say so, keep the panel usable.
    clearMaps(name + ": the depth map cannot be read (" + QString::fromUtf8(e.what()) + ")");
    return;
  }
  std::vector<float> valid;
  valid.reserve(depth_.size());
  for (float d : depth_)
    if (d > 0 && std::isfinite(d)) valid.push_back(d);
  low_ = high_ = 0;
  if (!valid.empty()) {
    auto at = [&](double q) {
      auto it = valid.begin() + long(q * double(valid.size() - 1));
      std::nth_element(valid.begin(), it, valid.end());
      return double(*it);
    };
    low_ = at(0.02);
    high_ = at(0.98);
    if (high_ <= low_) high_ = low_ + 1e-6;
  }
  title_->setText(name_ + " — " + kind_ + " depth map");
  render();
  emit mapShown(name_);
}

double DepthPanel::validFraction() const {
  if (depth_.empty()) return 0;
  size_t n = 0;
  for (float d : depth_) n += d > 0;
  return double(n) / double(depth_.size());
}

QString DepthPanel::info() const { return info_->text(); }

float DepthPanel::depthAt(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return 0;
  return depth_[size_t(y) * size_t(width_) + size_t(x)];
}

float DepthPanel::confidenceAt(int x, int y) const {
  if (confidence_.empty() || x < 0 || y < 0 || x >= width_ || y >= height_) return -1;
  return confidence_[size_t(y) * size_t(width_) + size_t(x)];
}

void DepthPanel::render() {
  if (depth_.empty()) return;
  const Mode mode = Mode(mode_->currentIndex());
  QImage img(width_, height_, QImage::Format_RGB32);
  QString low, high;
  for (int y = 0; y < height_; ++y) {
    auto* line = reinterpret_cast<QRgb*>(img.scanLine(y));
    for (int x = 0; x < width_; ++x) {
      const size_t i = size_t(y) * size_t(width_) + size_t(x);
      const float d = depth_[i];
      if (!(d > 0)) {
        line[x] = kNoDepth.rgb();
        continue;
      }
      switch (mode) {
        case Mode::kDepth:  // near warm, far cold
          line[x] = rainbow(1.0 - (double(d) - low_) / (high_ - low_));
          break;
        case Mode::kConfidence:
          line[x] = confidence_.empty() ? kNoDepth.rgb() : rainbow(1.0 - confidence_[i]);
          break;
        case Mode::kNormals: {
          if (normals_.empty()) {
            line[x] = kNoDepth.rgb();
            break;
          }
          // Camera frame (x right, y down, z forward), shown as RGB = (n + 1) / 2.
          auto c = [&](int k) { return int(std::lround(127.5 * (1.0 + normals_[3 * i + size_t(k)]))); };
          line[x] = qRgb(std::clamp(c(0), 0, 255), std::clamp(c(1), 0, 255), std::clamp(c(2), 0, 255));
          break;
        }
      }
    }
  }
  switch (mode) {
    case Mode::kDepth:
      low = "near " + number(low_);
      high = "far " + number(high_);
      break;
    case Mode::kConfidence:
      low = "confidence 1";
      high = "0";
      break;
    case Mode::kNormals:
      break;
  }
  image_ = img;
  view_->setImage(image_, low, high);
  QString text = QString("%1×%2 · %3% with a depth · depth %4 to %5")
                     .arg(width_)
                     .arg(height_)
                     .arg(100.0 * validFraction(), 0, 'f', 1)
                     .arg(number(low_), number(high_));
  if (mode == Mode::kConfidence && confidence_.empty()) text += "; this map has no confidence";
  if (mode == Mode::kNormals && normals_.empty()) text += "; this map has no normals";
  info_->setText(text);
}

void DepthPanel::onHover(QPoint p) {
  if (p.x() < 0 || depth_.empty()) {
    hover_->setText(" ");
    return;
  }
  const float d = depthAt(p.x(), p.y());
  QString text = QString("pixel (%1, %2): ").arg(p.x()).arg(p.y());
  text += d > 0 ? "depth " + number(d) : QString("no depth");
  const float c = confidenceAt(p.x(), p.y());
  if (d > 0 && c >= 0) text += ", confidence " + QString::number(c, 'f', 2);
  hover_->setText(text);
}

}  // namespace parallax::ui
