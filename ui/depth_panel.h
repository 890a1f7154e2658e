// The "Depth" panel: the depth, confidence or normal map of one photo (the one
// selected in the photo browser or the viewport), colour-mapped, with a colour
// bar, the share of pixels with a depth, and the values under the mouse. While
// the mvs stage runs it follows the maps as they are written ("Follow live").
#pragma once

#include <QImage>
#include <QWidget>
#include <filesystem>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;

namespace parallax::ui {

// The colour-mapped map, fitted into the widget, with a colour bar; reports the
// map pixel under the mouse.
class MapView : public QWidget {
  Q_OBJECT
 public:
  explicit MapView(QWidget* parent = nullptr);
  // `low`/`high` label the colour bar (empty: no bar, e.g. for normals).
  void setImage(const QImage& image, const QString& low, const QString& high);
  QSize sizeHint() const override { return {360, 280}; }
  // Map pixel at a widget position; (-1, -1) outside the image.
  QPoint mapPixel(const QPointF& widgetPos) const;

 signals:
  void hovered(QPoint mapPixel);

 protected:
  void paintEvent(QPaintEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;

 private:
  QRectF imageRect() const;
  QImage image_;
  QString low_, high_;
};

class DepthPanel : public QWidget {
  Q_OBJECT
 public:
  enum class Mode { kDepth, kConfidence, kNormals };

  explicit DepthPanel(QWidget* parent = nullptr);
  void setProject(const std::filesystem::path& root);
  // The maps of a photo (by its image name); says so when it has none yet.
  void showPhoto(const QString& name);
  // A depth map the mvs stage just wrote (dense/stereo/depth_maps/NAME.KIND.bin).
  void showLiveMap(const QString& depthMapPath);
  void setMode(Mode mode);
  bool followLive() const;

  QString photo() const { return name_; }
  QString kind() const { return kind_; }  // "photometric" or "geometric"
  const QImage& image() const { return image_; }
  QString info() const;
  int mapWidth() const { return width_; }
  int mapHeight() const { return height_; }
  double validFraction() const;
  // The depth at a map pixel (0: none); confidence likewise (-1 when there is no map).
  float depthAt(int x, int y) const;
  float confidenceAt(int x, int y) const;
  MapView* view() const { return view_; }

 signals:
  void mapShown(const QString& photo);

 private:
  void load(const std::filesystem::path& depthFile, const QString& name, const QString& kind);
  void render();
  void clearMaps(const QString& why);
  void onHover(QPoint p);

  std::filesystem::path root_;
  QString name_, kind_;
  int width_ = 0, height_ = 0;
  std::vector<float> depth_, confidence_, normals_;
  double low_ = 0, high_ = 0;  // depth colour range (2nd and 98th percentiles)
  QImage image_;
  QLabel* title_;
  QLabel* info_;
  QLabel* hover_;
  QComboBox* mode_;
  QCheckBox* follow_;
  MapView* view_;
};

}  // namespace parallax::ui
