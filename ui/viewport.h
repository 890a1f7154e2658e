// The 3D viewport: VTK rendering hosted in a Qt 6 QOpenGLWidget (Debian's VTK Qt
// module is built for Qt 5, so the embedding is done here, see DESIGN §8).
// Layers: cameras as frusta, sparse points, dense cloud, mesh; trackball
// navigation, fit view, point size, RGB colours.
#pragma once

#include <QOpenGLWidget>
#include <functional>
#include <memory>
#include <optional>
#include <QPolygonF>
#include <vector>

#include "surface/clean_workflow.h"
#include "ui/scene_data.h"

namespace parallax::ui {

enum class Layer { kCameras, kSparse, kDense, kMesh };

// What a click in the viewport selected: a registered photo (its camera) or a sparse point.
struct Selection {
  enum Kind { kNone, kCamera, kPoint } kind = kNone;
  uint64_t id = 0;  // image id or 3D point id
  bool operator==(const Selection& o) const { return kind == o.kind && id == o.id; }
};

// Elements selected with the rectangle or lasso tool, as indices into what the
// viewport shows (dense points, mesh faces), sparse point ids and image ids: what a
// cleaning step takes (surface/clean_workflow.h).
using RegionSelection = SceneElements;

enum class Tool { kNavigate, kRectangle, kLasso, kMeasure };
// Point colours: as photographed, or a colour ramp (blue low, red high) over the
// 2nd to 98th percentile of height (along the scene's up), number of photos that
// see the point, or reprojection error (sparse points); depth confidence (dense
// points, 0 blue to 1 red); or a colour per label. A layer without that attribute
// keeps its RGB colours.
enum class ColorMode { kRgb, kHeight, kViews, kError, kLabel, kConfidence };
enum class MeshShading { kTextured, kSmooth, kFlat, kWireframe };  // textured: vertex colours without a texture
enum class SelectMode { kReplace, kAdd, kSubtract };

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
  void setColorMode(ColorMode mode);
  ColorMode colorMode() const;
  void setMeshShading(MeshShading shading);
  // The current view rendered at `size` pixels (screenshots at any resolution).
  QImage renderImage(const QSize& size);
  void fitView();
  // Turns the view about the focal point (degrees; azimuth about the view-up axis).
  void orbit(double azimuthDeg, double elevationDeg);
  // Level of detail: dense clouds above this many points are drawn as an even
  // subsample of at most that many; selection, edits and export use every point.
  void setMaxDisplayedPoints(size_t n);
  size_t displayedDensePoints() const;
  // While the view moves (a button held, the wheel turning) a coarser subsample of
  // at most setMaxInteractivePoints() is drawn, so navigation stays fluid; the
  // full level of detail returns when the motion stops. Also settable (benchmarks).
  void setMaxInteractivePoints(size_t n);
  void setMoving(bool moving);
  // The most recent rendered frame (device pixels).
  QImage lastFrame() const;

  // Selection. A click (press and release without a drag) picks the camera centre or
  // sparse point nearest the cursor within a few pixels, cameras first; a click on
  // empty space clears. The selected camera is drawn highlighted with the points it
  // sees; a selected point with rays to the cameras of its track.
  Selection pick(const QPointF& widgetPos) const;
  void select(const Selection& selection);
  Selection selection() const;
  // The sparse model on show (nullptr when none).
  const Reconstruction* model() const;
  // Where a world point appears in the widget (logical pixels) with the current view;
  // nullopt when it is behind the camera.
  std::optional<QPointF> projectToWidget(const Eigen::Vector3d& world) const;

  // Region selection. With the rectangle or lasso tool, a left drag outlines a region
  // (Shift: add to the selection, Ctrl: take away) and selects every element of the
  // visible layers whose projection falls inside, hidden ones behind included; right
  // and middle buttons and the wheel still move the view.
  void setTool(Tool tool);
  Tool tool() const;
  void selectRegion(const QPolygonF& widgetPolygon, SelectMode mode);
  // Visible only: the region takes only what is in front, not what the drawn surfaces
  // and points hide (read from the depth buffer of the view); off (the default), it
  // selects through the scene.
  void setSelectVisibleOnly(bool on);
  bool selectVisibleOnly() const;
  void setRegionSelection(RegionSelection selection);
  const RegionSelection& regionSelection() const;
  // Everything of the visible layers that is not selected.
  RegionSelection invertedRegionSelection() const;
  RegionSelection allOfVisibleLayers() const;
  // Looks through a registered photo's camera: its centre, orientation and field of
  // view; with `photo`, the photo is drawn over the view (half transparent), fitted
  // as the camera's frame, so the geometry lines up with it. A move of the view
  // (or lookThroughCamera with an unknown id) ends the overlay.
  // With `animate`, the view flies there first (about half a second) and the photo
  // appears on arrival.
  bool lookThroughCamera(uint32_t imageId, const QImage& photo = {}, bool animate = false);
  // Moves the view to a camera position, focal point, view-up and view angle
  // (degrees) over `ms` milliseconds, eased in and out; `done` runs on arrival. A
  // mouse press or another flight ends it where it is.
  void flyTo(const Eigen::Vector3d& position, const Eigen::Vector3d& focalPoint,
             const Eigen::Vector3d& viewUp, double viewAngle, int ms,
             std::function<void()> done = {});
  bool flying() const;
  // Where the view is: camera position, focal point.
  Eigen::Vector3d cameraPosition() const;
  Eigen::Vector3d focalPoint() const;
  // Where the photo's frame lies in the widget while looking through a camera.
  QRectF photoFrame() const;
  bool photoOverlayShown() const;
  // Measuring: with the measure tool, a click picks the point (dense, sparse or mesh
  // vertex) drawn nearest the cursor, in front; two picks make a segment.
  std::optional<Eigen::Vector3d> pickSurfacePoint(const QPointF& widgetPos) const;
  const std::vector<Eigen::Vector3d>& measurement() const;
  void clearMeasurement();
  // Clipping plane: hides everything above `fraction` (0..1) of the scene's height
  // range along its up direction, to look inside or under a model; nullopt: off.
  void setClipHeight(std::optional<double> fraction);
  std::optional<double> clipHeight() const;
  // The clipping plane's axis: the scene's up (nullopt, the default) or any
  // direction; with the view's (toward the eye, viewDirectionAxis()) the plane cuts
  // away the near part of the scene, slice by slice as the fraction falls.
  void setClipAxis(std::optional<Eigen::Vector3d> axis);
  std::optional<Eigen::Vector3d> clipAxis() const;
  // From the scene toward the eye (unit): the axis that clips what is nearest.
  Eigen::Vector3d viewDirectionAxis() const;
  // Crop box: VTK's box widget. Dragging a face's handle moves that face, the centre
  // handle moves the box, a face turns it, the right button scales it; elsewhere the
  // mouse moves the view as usual. Shown first around the bulk of the scene, aligned
  // with its up and the photos' viewing direction; cropBoxChanged() after each drag.
  void showCropBox(bool show);
  bool cropBoxShown() const;
  CropBox cropBox() const;
  void setCropBox(const CropBox& box);
  // Turns the box about its own vertical axis (through its centre), in degrees.
  void turnCropBox(double degrees);
  // Handle i in world coordinates: 0..5 on the faces -x, +x, -y, +y, -z, +z of the
  // box's own axes, 6 the centre.
  Eigen::Vector3d cropBoxHandle(int i) const;
  // What is on show (with the edits applied).
  const SceneData* scene() const;

 signals:
  void frameRendered();
  void selectionChanged(const parallax::ui::Selection& selection);
  void regionSelectionChanged();
  void measurementChanged();
  void cropBoxChanged();

 protected:
  void initializeGL() override;
  void paintGL() override;
  void resizeGL(int w, int h) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  // A double click on a point makes it the centre of the view (flown to).
  void mouseDoubleClickEvent(QMouseEvent* e) override;

 private:
  void rebuildLayers();
  void removeActors();
  void updateRegionHighlight();
  void updateMeasurementActor();
  void drawRegionOutline(QPainter& painter) const;
  CropBox defaultCropBox() const;
  void updateFitBox();
  struct Impl;
  std::unique_ptr<Impl> d_;
};

}  // namespace parallax::ui
