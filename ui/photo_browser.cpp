#include "ui/photo_browser.h"

#include <QDragEnterEvent>
#include <QImageReader>
#include <QMimeData>
#include <QPainter>
#include <QtConcurrent/QtConcurrent>
#include <nlohmann/json.hpp>
#include <set>

#include "io/colmap_model.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;

namespace parallax::ui {

namespace {
constexpr int kThumb = 120;

QImage loadThumbnail(const QString& path) {
  QImageReader reader(path);
  reader.setAutoTransform(true);
  QSize size = reader.size();
  if (size.isValid()) reader.setScaledSize(size.scaled(kThumb, kThumb, Qt::KeepAspectRatio));
  return reader.read();
}

QIcon placeholder(const QColor& colour) {
  QPixmap pm(kThumb, kThumb * 3 / 4);
  pm.fill(colour);
  return QIcon(pm);
}
}  // namespace

PhotoBrowser::PhotoBrowser(QWidget* parent) : QListWidget(parent) {
  setObjectName("photoBrowser");
  setViewMode(QListView::IconMode);
  setIconSize(QSize(kThumb, kThumb * 3 / 4));
  setResizeMode(QListView::Adjust);
  setUniformItemSizes(true);
  setMovement(QListView::Static);
  setAcceptDrops(true);
  viewport()->setAcceptDrops(true);  // drags are delivered to the viewport, not the scroll area
  setDragDropMode(QAbstractItemView::DropOnly);
  setWordWrap(true);
  // Thumbnails decode on their own low-priority thread, never on the global pool
  // that QtConcurrent callers on the GUI thread may wait on.
  thumbnailPool_.setMaxThreadCount(1);
  thumbnailPool_.setThreadPriority(QThread::LowestPriority);
}

PhotoBrowser::~PhotoBrowser() {
  if (thumbnails_) thumbnails_->cancel();
  thumbnailPool_.waitForDone();
}

void PhotoBrowser::clearPhotos() {
  if (thumbnails_) {
    thumbnails_->cancel();
    thumbnails_->deleteLater();
    thumbnails_ = nullptr;
  }
  clear();
  paths_.clear();
}

void PhotoBrowser::loadProject(const fs::path& root) {
  clearPhotos();
  nlohmann::json photos;
  try {
    photos = nlohmann::json::parse(readFile(root / "photos.json"));
  } catch (const std::exception&) {
    return;  // not imported yet
  }
  std::set<std::string> registered;
  try {
    if (hasColmapModel(root / "sparse" / "0"))
      for (const auto& [id, im] : readColmapModel(root / "sparse" / "0").images)
        registered.insert(im.name);
  } catch (const std::exception&) {
  }
  for (const auto& p : photos.value("photos", nlohmann::json::array())) {
    const std::string name = p.value("name", "");
    const bool isRegistered = registered.count(name) > 0;
    auto* item =
        new QListWidgetItem(placeholder(QColor(60, 60, 60)), QString::fromStdString(name), this);
    QString tip = QString("%1\n%2 x %3 %4\nfocal prior %5 px (%6)")
                      .arg(QString::fromStdString(p.value("path", "")))
                      .arg(p.value("width", 0))
                      .arg(p.value("height", 0))
                      .arg(QString::fromStdString(p.value("format", "")))
                      .arg(p.value("focal_length_px", 0.0), 0, 'f', 1)
                      .arg(QString::fromStdString(p.value("focal_source", "")));
    std::string camera = p.value("camera_make", "") + " " + p.value("camera_model", "");
    if (camera.size() > 1) tip += "\ncamera: " + QString::fromStdString(camera);
    tip += isRegistered ? "\nstatus: imported, registered" : "\nstatus: imported";
    item->setToolTip(tip);
    item->setData(Qt::UserRole, isRegistered ? "registered" : "imported");
    if (isRegistered) item->setForeground(QColor(40, 150, 60));
    paths_ << QString::fromStdString(p.value("path", ""));
  }
  for (const auto& s : photos.value("skipped", nlohmann::json::array())) {
    QString file = QString::fromStdString(s.value("file", ""));
    auto* item = new QListWidgetItem(placeholder(QColor(120, 30, 30)),
                                     QFileInfo(file).fileName() + " (skipped)", this);
    item->setToolTip(file + "\nskipped: " + QString::fromStdString(s.value("reason", "")));
    item->setData(Qt::UserRole, "skipped");
    item->setForeground(QColor(200, 60, 60));
  }
  // Thumbnails load on worker threads and fill in as they arrive.
  thumbnails_ = new QFutureWatcher<QImage>(this);
  connect(thumbnails_, &QFutureWatcher<QImage>::resultReadyAt, this,
          [this, watcher = thumbnails_](int i) {
            if (watcher != thumbnails_ || i >= count()) return;
            QImage img = watcher->resultAt(i);
            if (!img.isNull()) item(i)->setIcon(QIcon(QPixmap::fromImage(img)));
          });
  thumbnails_->setFuture(QtConcurrent::mapped(&thumbnailPool_, paths_, loadThumbnail));
}

void PhotoBrowser::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void PhotoBrowser::dragMoveEvent(QDragMoveEvent* e) {
  if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void PhotoBrowser::dropEvent(QDropEvent* e) {
  QStringList paths;
  for (const QUrl& url : e->mimeData()->urls())
    if (url.isLocalFile()) paths << url.toLocalFile();
  if (!paths.isEmpty()) {
    e->acceptProposedAction();
    emit photosDropped(paths);
  }
}

}  // namespace parallax::ui
