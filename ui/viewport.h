// The 3D viewport: VTK rendering hosted in a Qt 6 QOpenGLWidget (Debian's VTK Qt
// module is built for Qt 5, so the embedding is done here, see DESIGN §8).
// Layers: cameras as frusta, sparse points, dense cloud, mesh; trackball
// navigation, fit view, point size, RGB colours.
#pragma once

#include <QOpenGLWidget>
#include <memory>

#include "ui/scene_data.h"

namespace parallax::ui {

enum class Layer { kCameras, kSparse, kDense, kMesh };

class Viewport : public QOpenGLWidget {
  Q_OBJECT
 public:
  explicit Viewport(QWidget* parent = nullptr);
  ~Viewport() override;

  void setScene(const SceneData& data);
  void clearScene();
  void setLayerVisible(Layer layer, bool visible);
  bool layerVisible(Layer layer) const;
  bool hasLayer(Layer layer) const;
  void setPointSize(int pixels);
  void fitView();
  // The most recent rendered frame (device pixels).
  QImage lastFrame() const;

 signals:
  void frameRendered();

 protected:
  void initializeGL() override;
  void paintGL() override;
  void resizeGL(int w, int h) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> d_;
};

}  // namespace parallax::ui
