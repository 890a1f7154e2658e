// The "Selection" panel: what a click in the viewport picked. A camera shows its
// photo with its keypoints (those with a 3D point in green, the rest grey) and
// counts; a point shows its track: every photo that sees it, with a crop of the
// photo around the observation and its reprojection error.
#pragma once

#include <QImage>
#include <QWidget>
#include <filesystem>
#include <map>
#include <vector>

#include "scene/reconstruction.h"
#include "ui/viewport.h"

class QLabel;
class QListWidget;

namespace parallax::ui {

// A photo scaled to fit, with keypoints drawn over it.
class PhotoView : public QWidget {
  Q_OBJECT
 public:
  explicit PhotoView(QWidget* parent = nullptr);
  // `scale`: photo pixels per image pixel of the keypoints (the photo may be loaded smaller).
  void setPhoto(const QImage& photo, double scale, std::vector<QPointF> withPoint,
                std::vector<QPointF> without);
  void clear();
  QSize sizeHint() const override { return {360, 240}; }

 protected:
  void paintEvent(QPaintEvent* e) override;

 private:
  QImage photo_;
  double scale_ = 1;
  std::vector<QPointF> withPoint_, without_;
};

class SelectionPanel : public QWidget {
  Q_OBJECT
 public:
  explicit SelectionPanel(QWidget* parent = nullptr);
  void showSelection(const Reconstruction* model, const Selection& selection,
                     const std::map<std::string, std::filesystem::path>& photos);
  QString title() const;
  // Rows of the track list (one per observation of the selected point).
  int trackRows() const;
  QString trackRow(int row) const;
  const PhotoView* photoView() const { return photo_; }

 private:
  QLabel* title_;
  QLabel* details_;
  PhotoView* photo_;
  QListWidget* track_;
  // The last photo decoded: a live model reloads several times a second, the photo stays.
  std::filesystem::path photoPath_;
  QImage photoCache_;
  double photoScale_ = 1;
};

}  // namespace parallax::ui
