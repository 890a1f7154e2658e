// Left panel: the project's photos as thumbnails with their status (imported,
// skipped and why, registered) and EXIF summary; accepts dropped files and folders.
#pragma once

#include <QFutureWatcher>
#include <QImage>
#include <QListWidget>
#include <QThreadPool>
#include <filesystem>

namespace parallax::ui {

class PhotoBrowser : public QListWidget {
  Q_OBJECT
 public:
  explicit PhotoBrowser(QWidget* parent = nullptr);
  ~PhotoBrowser() override;
  // Reloads from the project's photos.json and sparse model.
  void loadProject(const std::filesystem::path& projectRoot);
  void clearPhotos();

 signals:
  void photosDropped(const QStringList& paths);

 protected:
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dragMoveEvent(QDragMoveEvent* e) override;
  void dropEvent(QDropEvent* e) override;

 private:
  QFutureWatcher<QImage>* thumbnails_ = nullptr;
  QStringList paths_;
  QThreadPool thumbnailPool_;
};

}  // namespace parallax::ui
