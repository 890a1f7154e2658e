#include "ui/selection_panel.h"

#include <QImageReader>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QVBoxLayout>
#include <algorithm>

namespace fs = std::filesystem;

namespace parallax::ui {
namespace {

constexpr int kMaxPhotoSide = 1600;  // decode large photos smaller: the panel is small
constexpr int kCropSide = 96;        // photo pixels around an observation
constexpr int kThumbSide = 64;

// The photo, decoded at most kMaxPhotoSide on its long side; `scale` receives the
// ratio of loaded to original pixels. Null image when it cannot be read.
QImage loadPhoto(const fs::path& path, double* scale) {
  QImageReader reader(QString::fromStdString(path.string()));
  reader.setAutoTransform(false);  // keypoints are in the stored pixel grid, as in COLMAP
  const QSize full = reader.size();
  *scale = 1.0;
  if (full.isValid() && std::max(full.width(), full.height()) > kMaxPhotoSide) {
    *scale = double(kMaxPhotoSide) / std::max(full.width(), full.height());
    reader.setScaledSize(full * *scale);
  }
  return reader.read();
}

QImage crop(const fs::path& path, const Eigen::Vector2d& xy) {
  QImageReader reader(QString::fromStdString(path.string()));
  reader.setAutoTransform(false);
  const QRect rect(int(xy.x()) - kCropSide / 2, int(xy.y()) - kCropSide / 2, kCropSide, kCropSide);
  const QSize full = reader.size();
  const QRect inside = full.isValid() ? rect.intersected(QRect(QPoint(0, 0), full)) : rect;
  if (inside.isEmpty()) return {};
  reader.setClipRect(inside);
  QImage part = reader.read();
  if (part.isNull()) return {};
  // Centre the crop on the observation, padded where it runs off the photo, with a cross.
  QImage out(kCropSide, kCropSide, QImage::Format_RGB32);
  out.fill(Qt::black);
  QPainter painter(&out);
  painter.drawImage(inside.topLeft() - rect.topLeft(), part);
  painter.setPen(QPen(QColor(255, 220, 30), 1.5));
  const QPointF c(xy.x() - rect.left(), xy.y() - rect.top());
  painter.drawLine(c + QPointF(-8, 0), c + QPointF(-3, 0));
  painter.drawLine(c + QPointF(3, 0), c + QPointF(8, 0));
  painter.drawLine(c + QPointF(0, -8), c + QPointF(0, -3));
  painter.drawLine(c + QPointF(0, 3), c + QPointF(0, 8));
  painter.end();
  return out.scaled(kThumbSide, kThumbSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
}

}  // namespace

PhotoView::PhotoView(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(160);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void PhotoView::setPhoto(const QImage& photo, double scale, std::vector<QPointF> withPoint,
                         std::vector<QPointF> without) {
  photo_ = photo;
  scale_ = scale;
  withPoint_ = std::move(withPoint);
  without_ = std::move(without);
  update();
}

void PhotoView::clear() { setPhoto({}, 1, {}, {}); }

void PhotoView::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), QColor(30, 32, 36));
  if (photo_.isNull()) return;
  const QSizeF fitted = QSizeF(photo_.size()).scaled(QSizeF(size()), Qt::KeepAspectRatio);
  const QRectF target(QPointF((width() - fitted.width()) / 2, (height() - fitted.height()) / 2),
                      fitted);
  painter.setRenderHint(QPainter::SmoothPixmapTransform);
  painter.drawImage(target, photo_);
  // Image pixel -> widget: scale to the loaded photo, then to the fitted rectangle.
  const double k = scale_ * fitted.width() / photo_.width();
  auto toWidget = [&](const QPointF& p) { return target.topLeft() + p * k; };
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setPen(Qt::NoPen);
  painter.setBrush(QColor(200, 200, 200, 150));
  for (const QPointF& p : without_) painter.drawEllipse(toWidget(p), 1.2, 1.2);
  painter.setBrush(QColor(60, 230, 90));
  for (const QPointF& p : withPoint_) painter.drawEllipse(toWidget(p), 2.0, 2.0);
}

SelectionPanel::SelectionPanel(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel("Click a camera or a point in the viewport", this);
  title_->setWordWrap(true);
  title_->setObjectName("selectionTitle");
  QFont bold = title_->font();
  bold.setBold(true);
  title_->setFont(bold);
  details_ = new QLabel(this);
  details_->setWordWrap(true);
  details_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  photo_ = new PhotoView(this);
  track_ = new QListWidget(this);
  track_->setObjectName("trackList");
  track_->setIconSize(QSize(kThumbSide, kThumbSide));
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title_);
  layout->addWidget(details_);
  layout->addWidget(photo_, 1);
  layout->addWidget(track_, 1);
  photo_->hide();
  track_->hide();
}

QString SelectionPanel::title() const { return title_->text(); }
int SelectionPanel::trackRows() const { return track_->count(); }
QString SelectionPanel::trackRow(int row) const {
  return row >= 0 && row < track_->count() ? track_->item(row)->text() : QString();
}

void SelectionPanel::showSelection(const Reconstruction* model, const Selection& selection,
                                   const std::map<std::string, fs::path>& photos) {
  photo_->clear();
  track_->clear();
  photo_->hide();
  track_->hide();
  details_->clear();
  if (!model || selection.kind == Selection::kNone) {
    title_->setText("Click a camera or a point in the viewport");
    return;
  }
  auto photoOf = [&](const std::string& name) -> std::optional<fs::path> {
    auto it = photos.find(name);
    if (it == photos.end() || !fs::exists(it->second)) return std::nullopt;
    return it->second;
  };
  if (selection.kind == Selection::kCamera) {
    const Image& im = model->images.at(uint32_t(selection.id));
    const Camera& cam = model->cameras.at(im.camera_id);
    std::vector<QPointF> with, without;
    double errorSum = 0;
    for (size_t k = 0; k < im.points2D.size(); ++k) {
      const Point2D& p2 = im.points2D[k];
      // COLMAP's pixel convention (centre of the top-left pixel at 0.5): shift to Qt's.
      const QPointF at(p2.xy.x() - 0.5, p2.xy.y() - 0.5);
      auto it = p2.point3D_id == kInvalidPoint3DId ? model->points3D.end()
                                                   : model->points3D.find(p2.point3D_id);
      if (it == model->points3D.end()) {
        without.push_back(at);
        continue;
      }
      with.push_back(at);
      errorSum += model->observationError(it->second, {im.image_id, uint32_t(k)});
    }
    title_->setText(QString::fromStdString(im.name));
    const Eigen::Vector3d c = im.projectionCenter();
    details_->setText(
        QString("%1 keypoints, %2 with a 3D point (green); mean reprojection error %3 px\n"
                "camera %4 (%5, focal %6 px); centre (%7, %8, %9)")
            .arg(im.points2D.size())
            .arg(with.size())
            .arg(with.empty() ? 0.0 : errorSum / double(with.size()), 0, 'f', 2)
            .arg(cam.camera_id)
            .arg(QString::fromStdString(cameraModelById(cam.model_id).name))
            .arg(cam.focalX(), 0, 'f', 1)
            .arg(c.x(), 0, 'g', 4)
            .arg(c.y(), 0, 'g', 4)
            .arg(c.z(), 0, 'g', 4));
    if (const auto path = photoOf(im.name)) {
      if (*path != photoPath_) {
        photoCache_ = loadPhoto(*path, &photoScale_);
        photoPath_ = *path;
      }
      if (!photoCache_.isNull()) {
        photo_->setPhoto(photoCache_, photoScale_, std::move(with), std::move(without));
        photo_->show();
        return;
      }
    }
    details_->setText(details_->text() + "\nThe photo file cannot be read (moved or deleted?).");
    return;
  }
  const Point3D& point = model->points3D.at(selection.id);
  title_->setText(QString("Point %1: seen in %2 photos").arg(selection.id).arg(point.track.size()));
  details_->setText(QString("position (%1, %2, %3); mean reprojection error %4 px")
                        .arg(point.xyz.x(), 0, 'g', 5)
                        .arg(point.xyz.y(), 0, 'g', 5)
                        .arg(point.xyz.z(), 0, 'g', 5)
                        .arg(point.error, 0, 'f', 2));
  std::vector<const TrackElement*> track;
  for (const TrackElement& el : point.track)
    if (model->images.count(el.image_id)) track.push_back(&el);
  std::sort(track.begin(), track.end(), [&](const TrackElement* a, const TrackElement* b) {
    return model->images.at(a->image_id).name < model->images.at(b->image_id).name;
  });
  for (const TrackElement* el : track) {
    const Image& im = model->images.at(el->image_id);
    const Eigen::Vector2d xy = im.points2D.at(el->point2D_idx).xy;
    auto* item = new QListWidgetItem(QString("%1  (%2, %3)  error %4 px")
                                         .arg(QString::fromStdString(im.name))
                                         .arg(xy.x(), 0, 'f', 1)
                                         .arg(xy.y(), 0, 'f', 1)
                                         .arg(model->observationError(point, *el), 0, 'f', 2));
    if (const auto path = photoOf(im.name)) {
      const QImage thumb = crop(*path, xy - Eigen::Vector2d(0.5, 0.5));
      if (!thumb.isNull()) item->setIcon(QIcon(QPixmap::fromImage(thumb)));
    }
    track_->addItem(item);
  }
  track_->show();
}

}  // namespace parallax::ui
