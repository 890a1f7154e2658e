#include "ui/viewport.h"

#include "ui/labels_panel.h"
#include "ui/scene_layers.h"

#include <vtkActor.h>
#include <vtkBoxRepresentation.h>
#include <vtkBoxWidget2.h>
#include <vtkCallbackCommand.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkFloatArray.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPlane.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>
#include <vtkTransform.h>
#include <vtkUnsignedCharArray.h>

#include <Eigen/Eigenvalues>
#include <QElapsedTimer>
#include <QMouseEvent>
#include <QPainter>
#include <QTimer>
#include <QWheelEvent>
#include <cmath>
#include <limits>
#include <map>

#include "util/parallel.h"

namespace parallax::ui {

struct Viewport::Impl {
  vtkNew<vtkRenderWindow> window;
  QImage frame;
  vtkNew<vtkRenderer> renderer;
  vtkNew<vtkGenericRenderWindowInteractor> interactor;
  vtkNew<vtkInteractorStyleTrackballCamera> style;
  std::map<Layer, vtkSmartPointer<vtkActor>> actors;
  std::map<Layer, bool> visible{
      {Layer::kCameras, true}, {Layer::kSparse, true}, {Layer::kDense, true}, {Layer::kMesh, true}};
  int pointSize = 3;
  bool initialized = false;
  bool fitPending = false;
  std::shared_ptr<const Reconstruction> model;
  double frustumSize = 1.0;
  Selection selection;
  vtkSmartPointer<vtkActor> highlightLines, highlightPoints;
  QPointF pressPos;
  bool leftPressed = false;
  bool hasFitBox = false;
  double fitBox[6] = {0, 0, 0, 0, 0, 0};  // xmin, xmax, ymin, ymax, zmin, zmax
  // The home view's direction (eye to scene) and up, from the photos' poses.
  Eigen::Vector3d homeDirection{0, 1, -0.6};
  Eigen::Vector3d homeUp{0, 0, 1};
  Eigen::Vector3d sceneUp{0, 0, 1};  // the scene's vertical (height colouring)
  // Region selection.
  std::shared_ptr<const SceneData> scene;
  Tool tool = Tool::kNavigate;
  RegionSelection region;
  QPolygonF outline;  // being drawn (widget coordinates)
  bool outlining = false;
  SelectMode outlineMode = SelectMode::kReplace;
  vtkSmartPointer<vtkActor> regionPoints, regionFaces, regionCameras;
  ColorMode colorMode = ColorMode::kRgb;
  MeshShading meshShading = MeshShading::kSmooth;
  size_t maxDisplayedPoints = 4'000'000;
  size_t displayedDense = 0;
  size_t maxInteractivePoints = 250'000;
  std::vector<Eigen::Vector3d> measure;
  std::optional<double> clip;  // clipping plane height (share of the height range)
  std::optional<Eigen::Vector3d> clipAxis;  // along which; nullopt: the scene's up
  bool visibleOnly = false;  // region selection of what is in front only
  vtkNew<vtkPlane> clipPlane;
  QImage overlay;        // the photo looked through, drawn over the view
  double overlayAspect = 0;  // its camera's width / height
  vtkSmartPointer<vtkActor> measureActor;
  vtkSmartPointer<vtkActor> denseCoarse;  // drawn instead of the dense layer while moving
  bool moving = false;
  int buttonsDown = 0;
  QTimer wheelStill;  // the wheel counts as motion until it rests
  // Crop box.
  vtkNew<vtkBoxWidget2> boxWidget;
  vtkNew<vtkBoxRepresentation> boxRep;
  vtkNew<vtkCallbackCommand> boxObserver;
  bool boxShown = false, boxPlaced = false;
  // A flight of the view (flyTo): from, to (position, focal point, up), angles.
  QTimer flyTimer;
  QElapsedTimer flyClock;
  int flyMs = 0;
  Eigen::Vector3d flyFrom[3], flyTarget[3];
  double flyAngle[2] = {30, 30};
  std::function<void()> flyDone;
};

Viewport::Viewport(QWidget* parent) : QOpenGLWidget(parent), d_(std::make_unique<Impl>()) {
  setMinimumSize(320, 240);
  setFocusPolicy(Qt::StrongFocus);
  // VTK renders with its own off-screen OpenGL context and the frame is painted
  // into this widget. Sharing Qt 6's widget context with Debian's VTK 9.1 left
  // VTK's framebuffers without attachments and broke Qt's (see README, Known issues).
  d_->window->SetOffScreenRendering(1);
  // VTK defaults to 8x multisampling, which Mesa's software renderer rejects.
  d_->window->SetMultiSamples(0);
  d_->window->AddRenderer(d_->renderer);
  d_->renderer->GradientBackgroundOn();
  d_->renderer->SetBackground(0.10, 0.11, 0.13);
  d_->renderer->SetBackground2(0.30, 0.33, 0.37);
  d_->interactor->SetRenderWindow(d_->window);
  d_->interactor->SetInteractorStyle(d_->style);
  d_->interactor->EnableRenderOff();  // renders happen in paintGL only
  d_->wheelStill.setSingleShot(true);
  d_->wheelStill.setInterval(300);
  connect(&d_->wheelStill, &QTimer::timeout, this, [this] { setMoving(d_->buttonsDown > 0); });
  // The crop box: faces and centre moved by their handles with the left button; the
  // box keeps its axes (the scene's), so a left drag on it turns the view as usual.
  d_->boxRep->SetPlaceFactor(1.0);
  d_->boxRep->SetHandleSize(9);  // pixels: easier to grab than VTK's 5
  d_->boxRep->GetOutlineProperty()->SetColor(1.0, 0.85, 0.2);
  d_->boxRep->GetOutlineProperty()->SetLineWidth(2.f);
  d_->boxRep->GetHandleProperty()->SetColor(1.0, 0.85, 0.2);
  d_->boxWidget->SetInteractor(d_->interactor);
  d_->boxWidget->SetRepresentation(d_->boxRep);
  d_->boxWidget->SetCurrentRenderer(d_->renderer);
  d_->boxWidget->RotationEnabledOff();
  d_->boxWidget->ScalingEnabledOff();
  d_->boxObserver->SetClientData(this);
  d_->boxObserver->SetCallback([](vtkObject*, unsigned long, void* client, void*) {
    emit static_cast<Viewport*>(client)->cropBoxChanged();
  });
  d_->boxWidget->AddObserver(vtkCommand::EndInteractionEvent, d_->boxObserver);
  d_->flyTimer.setInterval(15);
  connect(&d_->flyTimer, &QTimer::timeout, this, [this] {
    const double t = std::min(1.0, double(d_->flyClock.elapsed()) / std::max(1, d_->flyMs));
    const double s = t * t * (3 - 2 * t);  // eased in and out
    vtkCamera* cam = d_->renderer->GetActiveCamera();
    Eigen::Vector3d v[3];
    for (int k = 0; k < 3; ++k) v[k] = (1 - s) * d_->flyFrom[k] + s * d_->flyTarget[k];
    if (v[2].norm() < 1e-9) v[2] = d_->flyTarget[2];
    cam->SetPosition(v[0].data());
    cam->SetFocalPoint(v[1].data());
    cam->SetViewUp(v[2].normalized().data());
    cam->SetViewAngle((1 - s) * d_->flyAngle[0] + s * d_->flyAngle[1]);
    cam->OrthogonalizeViewUp();
    d_->renderer->ResetCameraClippingRange();
    if (t >= 1) {
      d_->flyTimer.stop();
      setMoving(d_->buttonsDown > 0);
      if (auto done = std::move(d_->flyDone)) {
        d_->flyDone = nullptr;
        done();
      }
    }
    update();
  });
}

void Viewport::setMaxInteractivePoints(size_t n) { d_->maxInteractivePoints = std::max<size_t>(1, n); }

void Viewport::setMoving(bool moving) {
  if (d_->moving == moving) return;
  d_->moving = moving;
  update();
}

Viewport::~Viewport() {
  d_->boxWidget->Off();
  d_->window->Finalize();
}

void Viewport::initializeGL() {}

void Viewport::resizeGL(int w, int h) {
  const int pw = int(w * devicePixelRatio()), ph = int(h * devicePixelRatio());
  d_->window->SetSize(pw, ph);
  d_->interactor->SetSize(pw, ph);
}

void Viewport::paintGL() {
  if (d_->fitPending) {
    if (d_->hasFitBox)
      d_->renderer->ResetCamera(d_->fitBox);
    else
      d_->renderer->ResetCamera();
    d_->fitPending = false;
  }
  if (d_->denseCoarse) {
    const bool coarse = d_->moving && d_->visible[Layer::kDense];
    d_->denseCoarse->SetVisibility(coarse);
    if (auto it = d_->actors.find(Layer::kDense); it != d_->actors.end())
      it->second->SetVisibility(d_->visible[Layer::kDense] && !coarse);
  }
  const int w = int(width() * devicePixelRatio()), h = int(height() * devicePixelRatio());
  d_->window->SetSize(w, h);
  d_->window->Render();
  unsigned char* rgba = d_->window->GetRGBACharPixelData(0, 0, w - 1, h - 1, 0);
  // VTK's rows start at the bottom; QImage's at the top.
  d_->frame = QImage(rgba, w, h, QImage::Format_RGBA8888)
                  .mirrored(false, true)
                  .convertToFormat(QImage::Format_RGB32);
  delete[] rgba;
  makeCurrent();  // VTK's render switched to its own context
  QPainter painter(this);
  painter.drawImage(rect(), d_->frame);
  if (!d_->overlay.isNull()) {
    painter.setOpacity(0.5);
    painter.drawImage(photoFrame(), d_->overlay);
    painter.setOpacity(1);
  }
  drawRegionOutline(painter);
  painter.end();
  emit frameRendered();
}

QImage Viewport::lastFrame() const { return d_->frame; }

void Viewport::removeActors() {
  for (auto& [layer, actor] : d_->actors) d_->renderer->RemoveActor(actor);
  d_->actors.clear();
  for (auto* a : {&d_->highlightLines, &d_->highlightPoints, &d_->regionPoints, &d_->regionFaces,
                  &d_->regionCameras, &d_->denseCoarse, &d_->measureActor})
    if (*a) d_->renderer->RemoveActor(*a), *a = nullptr;
  d_->model.reset();
  d_->scene.reset();
}

void Viewport::clearScene() {
  removeActors();
  select(Selection{});
  update();
}

const Reconstruction* Viewport::model() const { return d_->model.get(); }
Selection Viewport::selection() const { return d_->selection; }

std::optional<QPointF> Viewport::projectToWidget(const Eigen::Vector3d& world) const {
  if (width() <= 0 || height() <= 0) return std::nullopt;
  vtkCamera* cam = d_->renderer->GetActiveCamera();
  vtkMatrix4x4* m =
      cam->GetCompositeProjectionTransformMatrix(double(width()) / double(height()), -1, 1);
  const double in[4] = {world.x(), world.y(), world.z(), 1.0};
  double clip[4];
  m->MultiplyPoint(in, clip);
  if (clip[3] <= 1e-12) return std::nullopt;
  const double x = clip[0] / clip[3], y = clip[1] / clip[3];
  return QPointF((x + 1) * 0.5 * width(), (1 - y) * 0.5 * height());
}

Selection Viewport::pick(const QPointF& pos) const {
  Selection best;
  if (!d_->model) return best;
  auto distanceTo = [&](const Eigen::Vector3d& world) {
    const auto p = projectToWidget(world);
    return p ? std::hypot(p->x() - pos.x(), p->y() - pos.y())
             : std::numeric_limits<double>::infinity();
  };
  constexpr double kCameraRadius = 10, kPointRadius = 6;  // logical pixels
  double bestDistance = kCameraRadius;
  if (d_->visible[Layer::kCameras])
    for (const auto& [id, im] : d_->model->images) {
      const double dist = distanceTo(im.projectionCenter());
      if (dist <= bestDistance) bestDistance = dist, best = {Selection::kCamera, id};
    }
  if (best.kind != Selection::kNone || !d_->visible[Layer::kSparse]) return best;
  bestDistance = kPointRadius;
  for (const auto& [id, point] : d_->model->points3D) {
    const double dist = distanceTo(point.xyz);
    if (dist <= bestDistance) bestDistance = dist, best = {Selection::kPoint, id};
  }
  return best;
}

void Viewport::select(const Selection& selection) {
  for (auto* a : {&d_->highlightLines, &d_->highlightPoints})
    if (*a) d_->renderer->RemoveActor(*a), *a = nullptr;
  Selection valid = selection;
  const Reconstruction* model = d_->model.get();
  if (!model || (selection.kind == Selection::kCamera && !model->images.count(uint32_t(selection.id))) ||
      (selection.kind == Selection::kPoint && !model->points3D.count(selection.id)))
    valid = Selection{};
  std::vector<Eigen::Vector3f> marked;
  Reconstruction frusta;  // the highlighted cameras
  auto addFrustum = [&](uint32_t imageId) {
    const Image& im = model->images.at(imageId);
    frusta.images[imageId] = im;
    frusta.cameras[im.camera_id] = model->cameras.at(im.camera_id);
  };
  vtkSmartPointer<vtkPolyData> lines;
  if (valid.kind == Selection::kCamera) {
    addFrustum(uint32_t(valid.id));
    for (const Point2D& p2 : model->images.at(uint32_t(valid.id)).points2D)
      if (p2.point3D_id != kInvalidPoint3DId && model->points3D.count(p2.point3D_id))
        marked.push_back(model->points3D.at(p2.point3D_id).xyz.cast<float>());
    lines = frustaPolyData(frusta, d_->frustumSize);
  } else if (valid.kind == Selection::kPoint) {
    const Point3D& point = model->points3D.at(valid.id);
    marked.push_back(point.xyz.cast<float>());
    for (const TrackElement& el : point.track)
      if (model->images.count(el.image_id)) addFrustum(el.image_id);
    lines = frustaPolyData(frusta, d_->frustumSize);
    // Rays from the point to each camera that sees it.
    vtkPoints* pts = lines->GetPoints();
    vtkCellArray* cells = lines->GetLines();
    const vtkIdType origin = pts->InsertNextPoint(point.xyz.data());
    for (const auto& [id, im] : frusta.images) {
      const Eigen::Vector3d c = im.projectionCenter();
      const vtkIdType end = pts->InsertNextPoint(c.data());
      const vtkIdType seg[2] = {origin, end};
      cells->InsertNextCell(2, seg);
    }
  }
  if (lines) {
    d_->highlightLines = makeActor(lines);
    d_->highlightLines->GetProperty()->SetColor(0.2, 0.9, 1.0);
    d_->highlightLines->GetProperty()->SetLineWidth(3.f);
    d_->highlightLines->GetProperty()->LightingOff();
    d_->renderer->AddActor(d_->highlightLines);
  }
  if (!marked.empty()) {
    d_->highlightPoints = makeActor(pointsPolyData(marked, {}));
    d_->highlightPoints->GetProperty()->SetColor(1.0, 0.9, 0.1);
    d_->highlightPoints->GetProperty()->SetPointSize(float(d_->pointSize + 3));
    d_->highlightPoints->GetProperty()->LightingOff();
    d_->renderer->AddActor(d_->highlightPoints);
  }
  const bool changed = !(valid == d_->selection);
  d_->selection = valid;
  if (changed) emit selectionChanged(valid);
  update();
}

void Viewport::setScene(const SceneData& data) {
  const bool hadScene = !d_->actors.empty();
  removeActors();
  d_->scene = std::make_shared<const SceneData>(data);
  if (data.sparse) homeViewFromPhotos(*data.sparse, &d_->homeDirection, &d_->homeUp, &d_->sceneUp);
  // Indices of the old scene mean nothing in the new one.
  const bool hadRegion = !d_->region.empty();
  d_->region = RegionSelection();
  if (hadRegion) emit regionSelectionChanged();
  auto add = [&](Layer layer, vtkSmartPointer<vtkActor> actor) {
    actor->SetVisibility(d_->visible[layer]);
    d_->renderer->AddActor(actor);
    d_->actors[layer] = actor;
  };
  // Framing and frustum size follow the bulk of the points and every camera: a few
  // far-off sparse points must not shrink the subject to a dot.
  std::vector<Eigen::Vector3f> all;
  if (data.mesh) all.insert(all.end(), data.mesh->points.begin(), data.mesh->points.end());
  if (data.dense) all.insert(all.end(), data.dense->points.begin(), data.dense->points.end());
  if (data.sparse)
    for (const auto& [id, p] : data.sparse->points3D) all.push_back(p.xyz.cast<float>());
  BoundingBox box = robustBoundingBox(std::move(all));
  // Every camera stays in view: they ring the subject, so trimming would cut them off.
  if (data.sparse)
    for (const auto& [id, im] : data.sparse->images) box.extend(im.projectionCenter().cast<float>());
  const bool haveBox = box.min.x() <= box.max.x();
  const double diagonal = haveBox && box.diagonal() > 0 ? box.diagonal() : 1.0;
  d_->hasFitBox = haveBox && box.diagonal() > 0;
  for (int k = 0; k < 3; ++k) {
    d_->fitBox[2 * k] = box.min[k];
    d_->fitBox[2 * k + 1] = box.max[k];
  }
  bool allShown = true;
  for (const auto& [layer, shown] : d_->visible) allShown &= shown;
  if (!allShown) updateFitBox();  // what is visible of it
  const ColorMode mode = d_->colorMode;
  if (data.mesh && !data.mesh->faces.empty()) {
    vtkSmartPointer<vtkActor> actor;
    if (mode == ColorMode::kHeight || (mode == ColorMode::kLabel && data.mesh->hasLabels())) {
      TriangleMesh coloured = *data.mesh;
      if (mode == ColorMode::kHeight) {
        coloured.colors = heightColors(coloured.points, d_->sceneUp);
      } else {
        coloured.colors.resize(coloured.size());
        for (size_t i = 0; i < coloured.size(); ++i) coloured.colors[i] = labelColour(&data.labels, coloured.labels[i]);
      }
      actor = makeActor(meshPolyData(coloured));
    } else {
      actor = makeActor(meshPolyData(*data.mesh));
    }
    if (d_->meshShading == MeshShading::kFlat) actor->GetProperty()->SetInterpolationToFlat();
    else actor->GetProperty()->SetInterpolationToGouraud();
    if (d_->meshShading == MeshShading::kWireframe) actor->GetProperty()->SetRepresentationToWireframe();
    add(Layer::kMesh, actor);
  }
  d_->displayedDense = 0;
  if (data.dense && data.dense->size()) {
    // Level of detail: every k-th point of a very large cloud (fused clouds are in
    // photo order, so the subsample covers the whole scene evenly).
    const size_t n = data.dense->size();
    std::vector<Color3> modeColors;
    if (mode == ColorMode::kHeight) {
      modeColors = heightColors(data.dense->points, d_->sceneUp);
    } else if (mode == ColorMode::kViews && data.denseViews.size() == n) {
      modeColors = rampColors(std::vector<double>(data.denseViews.begin(), data.denseViews.end()));
    } else if (mode == ColorMode::kConfidence && data.denseConfidence.size() == n) {
      modeColors.resize(n);
      for (size_t i = 0; i < n; ++i) modeColors[i] = ramp(data.denseConfidence[i]);
    } else if (mode == ColorMode::kLabel && data.dense->hasLabels()) {
      modeColors.resize(n);
      for (size_t i = 0; i < n; ++i) modeColors[i] = labelColour(&data.labels, data.dense->labels[i]);
    }
    const std::vector<Color3>& baseColors = modeColors.empty() ? data.dense->colors : modeColors;
    const size_t stride = (n + d_->maxDisplayedPoints - 1) / std::max<size_t>(1, d_->maxDisplayedPoints);
    std::vector<Eigen::Vector3f> shownPoints;
    std::vector<Color3> shownColors;
    if (stride > 1) {
      for (size_t i = 0; i < n; i += stride) {
        shownPoints.push_back(data.dense->points[i]);
        if (!baseColors.empty()) shownColors.push_back(baseColors[i]);
      }
    }
    const auto& pts = stride > 1 ? shownPoints : data.dense->points;
    const auto& cols = stride > 1 ? shownColors : baseColors;
    d_->displayedDense = pts.size();
    auto actor = makeActor(pointsPolyData(pts, cols));
    actor->GetProperty()->SetPointSize(float(d_->pointSize));
    add(Layer::kDense, actor);
    if (pts.size() > d_->maxInteractivePoints) {
      const size_t k = (pts.size() + d_->maxInteractivePoints - 1) / d_->maxInteractivePoints;
      std::vector<Eigen::Vector3f> coarsePoints;
      std::vector<Color3> coarseColors;
      for (size_t i = 0; i < pts.size(); i += k) {
        coarsePoints.push_back(pts[i]);
        if (!cols.empty()) coarseColors.push_back(cols[i]);
      }
      d_->denseCoarse = makeActor(pointsPolyData(coarsePoints, coarseColors));
      d_->denseCoarse->GetProperty()->SetPointSize(float(d_->pointSize + 1));
      d_->denseCoarse->SetVisibility(false);
      d_->renderer->AddActor(d_->denseCoarse);
    }
  }
  d_->frustumSize = 0.04 * diagonal;
  d_->model = data.sparse ? std::make_shared<const Reconstruction>(*data.sparse) : nullptr;
  if (data.sparse) {
    std::vector<Eigen::Vector3f> pts;
    std::vector<Color3> colors;
    std::vector<double> values;
    for (const auto& [id, p] : data.sparse->points3D) {
      pts.push_back(p.xyz.cast<float>());
      colors.push_back(p.color);
      values.push_back(mode == ColorMode::kViews ? double(p.track.size()) : p.error);
    }
    if (mode == ColorMode::kHeight) colors = heightColors(pts, d_->sceneUp);
    if (mode == ColorMode::kViews || mode == ColorMode::kError)
      colors = rampColors(values, mode == ColorMode::kError);
    if (!pts.empty()) {
      auto actor = makeActor(pointsPolyData(pts, colors));
      actor->GetProperty()->SetPointSize(float(d_->pointSize));
      add(Layer::kSparse, actor);
    }
    if (!data.sparse->images.empty()) {
      auto actor = makeActor(frustaPolyData(*data.sparse, d_->frustumSize));
      actor->GetProperty()->SetColor(1.0, 0.45, 0.1);
      actor->GetProperty()->SetLineWidth(1.5f);
      actor->GetProperty()->LightingOff();
      add(Layer::kCameras, actor);
    }
  }
  if (!hadScene) fitView();
  updateMeasurementActor();
  setClipHeight(d_->clip);
  // Keep the selection across reloads (a live model growing) while it still exists.
  const Selection previous = d_->selection;
  const bool stillThere =
      d_->model && ((previous.kind == Selection::kCamera &&
                     d_->model->images.count(uint32_t(previous.id))) ||
                    (previous.kind == Selection::kPoint && d_->model->points3D.count(previous.id)));
  select(stillThere ? previous : Selection{});
  update();
}

void Viewport::setLayerVisible(Layer layer, bool visible) {
  d_->visible[layer] = visible;
  if (auto it = d_->actors.find(layer); it != d_->actors.end()) it->second->SetVisibility(visible);
  update();
}

bool Viewport::layerVisible(Layer layer) const { return d_->visible.at(layer); }
bool Viewport::hasLayer(Layer layer) const { return d_->actors.count(layer) > 0; }

void Viewport::setPointSize(int pixels) {
  d_->pointSize = pixels;
  for (Layer l : {Layer::kSparse, Layer::kDense})
    if (auto it = d_->actors.find(l); it != d_->actors.end())
      it->second->GetProperty()->SetPointSize(float(pixels));
  if (d_->denseCoarse) d_->denseCoarse->GetProperty()->SetPointSize(float(pixels + 1));
  if (d_->regionPoints) d_->regionPoints->GetProperty()->SetPointSize(float(pixels + 1));
  update();
}

// The framing box: the bulk of the visible layers' points, and the cameras when they
// are shown (they ring the subject, so trimming would cut them off). With nothing
// visible, the box of everything (set in setScene) stays.
void Viewport::updateFitBox() {
  const SceneData* data = d_->scene.get();
  if (!data) return;
  std::vector<Eigen::Vector3f> all;
  if (data->mesh && d_->visible[Layer::kMesh])
    all.insert(all.end(), data->mesh->points.begin(), data->mesh->points.end());
  if (data->dense && d_->visible[Layer::kDense])
    all.insert(all.end(), data->dense->points.begin(), data->dense->points.end());
  if (data->sparse && d_->visible[Layer::kSparse])
    for (const auto& [id, p] : data->sparse->points3D) all.push_back(p.xyz.cast<float>());
  BoundingBox box;
  if (!all.empty()) box = robustBoundingBox(std::move(all));
  if (data->sparse && d_->visible[Layer::kCameras])
    for (const auto& [id, im] : data->sparse->images) box.extend(im.projectionCenter().cast<float>());
  if (!(box.min.x() <= box.max.x()) || !(box.diagonal() > 0)) return;
  d_->hasFitBox = true;
  for (int k = 0; k < 3; ++k) {
    d_->fitBox[2 * k] = box.min[k];
    d_->fitBox[2 * k + 1] = box.max[k];
  }
}

void Viewport::fitView() {
  updateFitBox();
  // The home view (as the photos look at the scene), then frame what is shown.
  vtkCamera* cam = d_->renderer->GetActiveCamera();
  const Eigen::Vector3d& d = d_->homeDirection;
  const Eigen::Vector3d& u = d_->homeUp;
  d_->overlay = QImage();
  cam->SetViewAngle(30);  // VTK's default (looking through a camera narrows it)
  cam->SetFocalPoint(0, 0, 0);
  cam->SetPosition(-d.x(), -d.y(), -d.z());
  cam->SetViewUp(u.x(), u.y(), u.z());
  d_->fitPending = true;
  update();
}

static int vtkButtonEvent(Qt::MouseButton b, bool press) {
  switch (b) {
    case Qt::LeftButton:
      return press ? vtkCommand::LeftButtonPressEvent : vtkCommand::LeftButtonReleaseEvent;
    case Qt::RightButton:
      return press ? vtkCommand::RightButtonPressEvent : vtkCommand::RightButtonReleaseEvent;
    case Qt::MiddleButton:
      return press ? vtkCommand::MiddleButtonPressEvent : vtkCommand::MiddleButtonReleaseEvent;
    default:
      return -1;
  }
}

static void setEventInfo(vtkGenericRenderWindowInteractor* i, const QPointF& pos,
                         Qt::KeyboardModifiers m, qreal dpr) {
  i->SetEventInformationFlipY(int(pos.x() * dpr), int(pos.y() * dpr),
                              (m & Qt::ControlModifier) ? 1 : 0, (m & Qt::ShiftModifier) ? 1 : 0);
}

void Viewport::mousePressEvent(QMouseEvent* e) {
  if (e->button() == Qt::LeftButton &&
      (d_->tool == Tool::kRectangle || d_->tool == Tool::kLasso)) {
    d_->outlining = true;
    d_->outline = QPolygonF({e->position()});
    d_->outlineMode = (e->modifiers() & Qt::ShiftModifier)     ? SelectMode::kAdd
                      : (e->modifiers() & Qt::ControlModifier) ? SelectMode::kSubtract
                                                               : SelectMode::kReplace;
    update();
    return;
  }
  if (e->button() == Qt::LeftButton) d_->pressPos = e->position(), d_->leftPressed = true;
  if (d_->flyTimer.isActive()) d_->flyTimer.stop(), d_->flyDone = nullptr;
  // Only the left button works the crop box; the others always move the view.
  if (d_->boxShown && d_->buttonsDown == 0)
    d_->boxWidget->SetProcessEvents(e->button() == Qt::LeftButton);
  setEventInfo(d_->interactor, e->position(), e->modifiers(), devicePixelRatio());
  if (int ev = vtkButtonEvent(e->button(), true); ev >= 0) {
    d_->overlay = QImage();
    d_->interactor->InvokeEvent(ev);
    ++d_->buttonsDown;
    setMoving(true);
  }
  update();
}

void Viewport::mouseReleaseEvent(QMouseEvent* e) {
  if (e->button() == Qt::LeftButton && d_->outlining) {
    d_->outlining = false;
    QPolygonF region = d_->outline;
    if (d_->tool == Tool::kRectangle) {
      const QRectF r = QRectF(region.first(), e->position()).normalized();
      region = QPolygonF(r);
    } else {
      region << e->position();
    }
    d_->outline.clear();
    selectRegion(region, d_->outlineMode);
    return;
  }
  setEventInfo(d_->interactor, e->position(), e->modifiers(), devicePixelRatio());
  if (int ev = vtkButtonEvent(e->button(), false); ev >= 0) {
    d_->interactor->InvokeEvent(ev);
    d_->buttonsDown = std::max(0, d_->buttonsDown - 1);
    if (d_->buttonsDown == 0 && !d_->wheelStill.isActive()) setMoving(false);
  }
  // A click, not the end of a drag: select (or, measuring, pick) what is under the cursor.
  if (e->button() == Qt::LeftButton && d_->leftPressed &&
      (e->position() - d_->pressPos).manhattanLength() < 4) {
    if (d_->tool == Tool::kMeasure) {
      if (const auto p = pickSurfacePoint(e->position())) {
        if (d_->measure.size() >= 2) d_->measure.clear();
        d_->measure.push_back(*p);
        updateMeasurementActor();
        emit measurementChanged();
      }
    } else {
      select(pick(e->position()));
    }
  }
  d_->leftPressed = false;
  update();
}

void Viewport::mouseMoveEvent(QMouseEvent* e) {
  if (d_->outlining) {
    if (d_->tool == Tool::kRectangle)
      d_->outline = QPolygonF({d_->outline.first(), e->position()});
    else if ((e->position() - d_->outline.last()).manhattanLength() >= 2)
      d_->outline << e->position();
    update();
    return;
  }
  setEventInfo(d_->interactor, e->position(), e->modifiers(), devicePixelRatio());
  d_->interactor->InvokeEvent(vtkCommand::MouseMoveEvent);
  update();
}

void Viewport::wheelEvent(QWheelEvent* e) {
  setEventInfo(d_->interactor, e->position(), e->modifiers(), devicePixelRatio());
  d_->interactor->InvokeEvent(e->angleDelta().y() > 0 ? vtkCommand::MouseWheelForwardEvent
                                                      : vtkCommand::MouseWheelBackwardEvent);
  setMoving(true);
  d_->wheelStill.start();
  d_->overlay = QImage();
  update();
}

void Viewport::orbit(double azimuthDeg, double elevationDeg) {
  vtkCamera* cam = d_->renderer->GetActiveCamera();
  cam->Azimuth(azimuthDeg);
  cam->Elevation(elevationDeg);
  cam->OrthogonalizeViewUp();
  d_->renderer->ResetCameraClippingRange();
  update();
}

void Viewport::setColorMode(ColorMode mode) {
  if (d_->colorMode == mode) return;
  d_->colorMode = mode;
  if (!d_->scene) return;
  // Rebuild the layers; the view and the selections stay.
  const auto scene = d_->scene;
  const RegionSelection region = d_->region;
  const Selection picked = d_->selection;
  setScene(*scene);
  setRegionSelection(region);
  select(picked);
}

ColorMode Viewport::colorMode() const { return d_->colorMode; }

void Viewport::setMeshShading(MeshShading shading) {
  d_->meshShading = shading;
  if (auto it = d_->actors.find(Layer::kMesh); it != d_->actors.end()) {
    vtkProperty* p = it->second->GetProperty();
    if (shading == MeshShading::kFlat) p->SetInterpolationToFlat();
    else p->SetInterpolationToGouraud();
    if (shading == MeshShading::kWireframe) p->SetRepresentationToWireframe();
    else p->SetRepresentationToSurface();
  }
  update();
}

QImage Viewport::renderImage(const QSize& size) {
  makeCurrent();
  d_->window->SetSize(size.width(), size.height());
  d_->window->Render();
  unsigned char* rgba =
      d_->window->GetRGBACharPixelData(0, 0, size.width() - 1, size.height() - 1, 0);
  QImage image = QImage(rgba, size.width(), size.height(), QImage::Format_RGBA8888)
                     .mirrored(false, true)
                     .convertToFormat(QImage::Format_RGB32);
  delete[] rgba;
  doneCurrent();
  update();  // the next paint restores the widget's size
  return image;
}

void Viewport::setMaxDisplayedPoints(size_t n) { d_->maxDisplayedPoints = std::max<size_t>(1, n); }
size_t Viewport::displayedDensePoints() const { return d_->displayedDense; }

// ---- region selection --------------------------------------------------------

bool Viewport::lookThroughCamera(uint32_t imageId, const QImage& photo, bool animate) {
  d_->overlay = QImage();
  const Reconstruction* model = d_->model.get();
  if (!model || !model->images.count(imageId)) return false;
  const Image& im = model->images.at(imageId);
  const Camera& c = model->cameras.at(im.camera_id);
  const Eigen::Matrix3d worldFromCam = im.cam_from_world.rotation.toRotationMatrix().transpose();
  const Eigen::Vector3d centre = im.projectionCenter();
  const Eigen::Vector3d ahead = centre + worldFromCam.col(2) * d_->frustumSize * 10;
  const Eigen::Vector3d up = -worldFromCam.col(1);
  const double aspect = double(c.width) / double(c.height);
  // VTK's view angle is vertical, over the widget's height; the photo is fitted into
  // the widget, so its height spans the widget's unless the photo is wider.
  const double widgetAspect = double(width()) / std::max(1, height());
  const double photoHeightShare = aspect > widgetAspect ? widgetAspect / aspect : 1.0;
  const double halfAngle = std::atan(0.5 * c.height / c.focalY() / photoHeightShare);
  const double angle = 2 * halfAngle * 180 / M_PI;
  auto arrive = [this, centre, ahead, up, angle, aspect, photo] {
    vtkCamera* cam = d_->renderer->GetActiveCamera();
    cam->SetPosition(centre.data());
    cam->SetFocalPoint(ahead.data());
    cam->SetViewUp(up.data());
    cam->SetViewAngle(angle);
    cam->SetWindowCenter(0, 0);
    d_->renderer->ResetCameraClippingRange();
    d_->overlayAspect = aspect;
    d_->overlay = photo;
    update();
  };
  if (animate)
    flyTo(centre, ahead, up, angle, 600, arrive);
  else
    arrive();
  return true;
}

void Viewport::flyTo(const Eigen::Vector3d& position, const Eigen::Vector3d& focalPoint,
                     const Eigen::Vector3d& viewUp, double viewAngle, int ms,
                     std::function<void()> done) {
  d_->flyTimer.stop();
  d_->overlay = QImage();
  vtkCamera* cam = d_->renderer->GetActiveCamera();
  d_->flyFrom[0] = Eigen::Vector3d(cam->GetPosition());
  d_->flyFrom[1] = Eigen::Vector3d(cam->GetFocalPoint());
  d_->flyFrom[2] = Eigen::Vector3d(cam->GetViewUp());
  d_->flyTarget[0] = position;
  d_->flyTarget[1] = focalPoint;
  d_->flyTarget[2] = viewUp.normalized();
  d_->flyAngle[0] = cam->GetViewAngle();
  d_->flyAngle[1] = viewAngle;
  d_->flyMs = std::max(0, ms);
  d_->flyDone = std::move(done);
  d_->flyClock.start();
  setMoving(true);  // the coarse level of detail while flying
  d_->flyTimer.start();
}

bool Viewport::flying() const { return d_->flyTimer.isActive(); }

Eigen::Vector3d Viewport::cameraPosition() const {
  return Eigen::Vector3d(d_->renderer->GetActiveCamera()->GetPosition());
}

Eigen::Vector3d Viewport::focalPoint() const {
  return Eigen::Vector3d(d_->renderer->GetActiveCamera()->GetFocalPoint());
}

void Viewport::mouseDoubleClickEvent(QMouseEvent* e) {
  if (e->button() != Qt::LeftButton || d_->tool != Tool::kNavigate) return;
  const auto p = pickSurfacePoint(e->position());
  if (!p) return;
  // The point becomes the centre of the view (and of rotation), at the same distance.
  vtkCamera* cam = d_->renderer->GetActiveCamera();
  const Eigen::Vector3d shift = *p - focalPoint();
  flyTo(cameraPosition() + shift, *p, Eigen::Vector3d(cam->GetViewUp()), cam->GetViewAngle(), 350);
}

// ---- crop box ------------------------------------------------------------------

CropBox Viewport::defaultCropBox() const {
  // Axes: the scene's up and the photos' horizontal viewing direction.
  const Eigen::Vector3d up = d_->sceneUp.normalized();
  Eigen::Vector3d x = d_->homeDirection - d_->homeDirection.dot(up) * up;
  x = x.norm() < 1e-6 ? up.unitOrthogonal() : x.normalized();
  Eigen::Matrix3d axes;
  axes << x, up.cross(x), up;
  // The dense cloud, else the mesh's vertices, else the sparse points (copied: few).
  std::vector<Eigen::Vector3f> sparsePts;
  const std::vector<Eigen::Vector3f>* source = &sparsePts;
  if (const SceneData* sc = d_->scene.get()) {
    if (sc->dense && sc->dense->size()) source = &sc->dense->points;
    else if (sc->mesh && sc->mesh->size()) source = &sc->mesh->points;
    else if (sc->sparse)
      for (const auto& [id, p] : sc->sparse->points3D) sparsePts.push_back(p.xyz.cast<float>());
  }
  const std::vector<Eigen::Vector3f>& pts = *source;
  if (pts.size() < 4) {
    const Eigen::Vector3d lo(d_->fitBox[0], d_->fitBox[2], d_->fitBox[4]);
    const Eigen::Vector3d hi(d_->fitBox[1], d_->fitBox[3], d_->fitBox[5]);
    return CropBox::axisAligned(lo, hi);
  }
  // The bulk of the points (1st to 99th percentile along each axis) and a margin.
  const size_t stride = std::max<size_t>(1, pts.size() / 200000);
  std::vector<double> along[3];
  for (size_t i = 0; i < pts.size(); i += stride) {
    const Eigen::Vector3d q = axes.transpose() * pts[i].cast<double>();
    for (int k = 0; k < 3; ++k) along[k].push_back(q[k]);
  }
  Eigen::Vector3d lo, hi;
  for (int k = 0; k < 3; ++k) {
    auto& v = along[k];
    std::sort(v.begin(), v.end());
    lo[k] = v[size_t(0.01 * double(v.size() - 1))];
    hi[k] = v[size_t(0.99 * double(v.size() - 1))];
  }
  const Eigen::Vector3d margin = 0.05 * (hi - lo).cwiseMax(1e-9);
  lo -= margin;
  hi += margin;
  CropBox box;
  box.world_from_box.linear() = axes * (hi - lo).asDiagonal();
  box.world_from_box.translation() = axes * (0.5 * (lo + hi));
  return box;
}

void Viewport::showCropBox(bool show) {
  if (show == d_->boxShown) return;
  d_->boxShown = show;
  if (show) {
    if (!d_->boxPlaced) setCropBox(defaultCropBox());
    d_->boxWidget->On();
    d_->boxWidget->SetProcessEvents(1);
  } else {
    d_->boxWidget->Off();
  }
  update();
  if (show) emit cropBoxChanged();
}

bool Viewport::cropBoxShown() const { return d_->boxShown; }

void Viewport::setCropBox(const CropBox& box) {
  double unit[6] = {-0.5, 0.5, -0.5, 0.5, -0.5, 0.5};
  d_->boxRep->PlaceWidget(unit);
  vtkNew<vtkMatrix4x4> m;
  const Eigen::Matrix4d& a = box.world_from_box.matrix();
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) m->SetElement(r, c, a(r, c));
  vtkNew<vtkTransform> t;
  t->SetMatrix(m);
  d_->boxRep->SetTransform(t);
  d_->boxPlaced = true;
  update();
  if (d_->boxShown) emit cropBoxChanged();
}

void Viewport::turnCropBox(double degrees) {
  CropBox box = cropBox();
  const Eigen::Vector3d axis = box.world_from_box.linear().col(2).normalized();
  const Eigen::Vector3d centre = box.world_from_box.translation();
  box.world_from_box = Eigen::Translation3d(centre) *
                       Eigen::AngleAxisd(degrees * M_PI / 180, axis) *
                       Eigen::Translation3d(-centre) * box.world_from_box;
  setCropBox(box);
}

CropBox Viewport::cropBox() const {
  vtkNew<vtkPolyData> pd;
  d_->boxRep->GetPolyData(pd);
  auto at = [&](int i) {
    double v[3];
    pd->GetPoint(i, v);
    return Eigen::Vector3d(v[0], v[1], v[2]);
  };
  // Corners 0, 1, 3, 4 span the box's axes from its minimum corner; point 14 is the centre.
  CropBox box;
  box.world_from_box.linear().col(0) = at(1) - at(0);
  box.world_from_box.linear().col(1) = at(3) - at(0);
  box.world_from_box.linear().col(2) = at(4) - at(0);
  box.world_from_box.translation() = at(14);
  return box;
}

Eigen::Vector3d Viewport::cropBoxHandle(int i) const {
  vtkNew<vtkPolyData> pd;
  d_->boxRep->GetPolyData(pd);
  double v[3];
  pd->GetPoint(8 + std::clamp(i, 0, 6), v);
  return {v[0], v[1], v[2]};
}

QRectF Viewport::photoFrame() const {
  if (d_->overlayAspect <= 0) return {};
  const double w = width(), h = height();
  if (d_->overlayAspect > w / h) {
    const double fh = w / d_->overlayAspect;
    return QRectF(0, (h - fh) / 2, w, fh);
  }
  const double fw = h * d_->overlayAspect;
  return QRectF((w - fw) / 2, 0, fw, h);
}

bool Viewport::photoOverlayShown() const { return !d_->overlay.isNull(); }

std::optional<Eigen::Vector3d> Viewport::pickSurfacePoint(const QPointF& pos) const {
  const SceneData* scene = d_->scene.get();
  if (!scene || width() <= 0 || height() <= 0) return std::nullopt;
  vtkCamera* cam = d_->renderer->GetActiveCamera();
  vtkMatrix4x4* vm =
      cam->GetCompositeProjectionTransformMatrix(double(width()) / double(height()), -1, 1);
  Eigen::Matrix4d m;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) m(r, c) = vm->GetElement(r, c);
  constexpr double kRadius = 6;  // logical pixels
  std::optional<Eigen::Vector3d> best;
  double bestDepth = std::numeric_limits<double>::infinity();
  auto consider = [&](const Eigen::Vector3d& p) {
    const Eigen::Vector4d clip = m * p.homogeneous();
    if (clip.w() <= 1e-12) return;
    const double z = clip.z() / clip.w();
    if (z < -1 || z > 1 || z >= bestDepth) return;
    const double x = (clip.x() / clip.w() + 1) * 0.5 * width();
    const double y = (1 - clip.y() / clip.w()) * 0.5 * height();
    if (std::hypot(x - pos.x(), y - pos.y()) > kRadius) return;
    bestDepth = z;  // the front-most point under the cursor
    best = p;
  };
  if (scene->dense && layerVisible(Layer::kDense))
    for (const auto& p : scene->dense->points) consider(p.cast<double>());
  if (scene->mesh && layerVisible(Layer::kMesh))
    for (const auto& p : scene->mesh->points) consider(p.cast<double>());
  if (scene->sparse && layerVisible(Layer::kSparse))
    for (const auto& [id, p] : scene->sparse->points3D) consider(p.xyz);
  return best;
}

void Viewport::setClipHeight(std::optional<double> fraction) {
  d_->clip = fraction;
  std::vector<vtkActor*> actors;
  for (auto& [layer, actor] : d_->actors) actors.push_back(actor);
  for (auto* a : {&d_->denseCoarse, &d_->regionPoints, &d_->regionFaces})
    if (*a) actors.push_back(*a);
  for (vtkActor* a : actors) a->GetMapper()->RemoveAllClippingPlanes();
  if (fraction && *fraction < 1 && d_->scene) {  // at 1 (the top) nothing is cut
    // The height range of the bulk of what is shown (2nd to 98th percentile along the
    // axis, the scene's up unless set): a few stray points must not stretch it.
    const Eigen::Vector3d up = d_->clipAxis ? d_->clipAxis->normalized() : d_->sceneUp;
    std::vector<double> heights;
    const SceneData& sc = *d_->scene;
    if (sc.dense) for (const auto& p : sc.dense->points) heights.push_back(p.cast<double>().dot(up));
    if (sc.mesh) for (const auto& p : sc.mesh->points) heights.push_back(p.cast<double>().dot(up));
    if (sc.sparse) for (const auto& [id, p] : sc.sparse->points3D) heights.push_back(p.xyz.dot(up));
    double lo = 0, hi = 0;
    if (!heights.empty()) {
      const auto at = [&](double q) {
        auto it = heights.begin() + long(q * double(heights.size() - 1));
        std::nth_element(heights.begin(), it, heights.end());
        return *it;
      };
      lo = at(0.02);
      hi = at(0.98);
    }
    if (lo < hi) {
      const Eigen::Vector3d origin = up * (lo + std::clamp(*fraction, 0.0, 1.0) * (hi - lo));
      d_->clipPlane->SetOrigin(origin.data());
      // VTK keeps the side the normal points to: below the plane.
      const Eigen::Vector3d normal = -up;
      d_->clipPlane->SetNormal(normal.data());
      const auto cameras = d_->actors.find(Layer::kCameras);
      for (vtkActor* a : actors)
        if (cameras == d_->actors.end() || a != cameras->second.Get())
          a->GetMapper()->AddClippingPlane(d_->clipPlane);
    }
  }
  update();
}

std::optional<double> Viewport::clipHeight() const { return d_->clip; }

void Viewport::setClipAxis(std::optional<Eigen::Vector3d> axis) {
  d_->clipAxis = axis;
  setClipHeight(d_->clip);
}

std::optional<Eigen::Vector3d> Viewport::clipAxis() const { return d_->clipAxis; }

Eigen::Vector3d Viewport::viewDirectionAxis() const {
  return (cameraPosition() - focalPoint()).normalized();
}

const std::vector<Eigen::Vector3d>& Viewport::measurement() const { return d_->measure; }

void Viewport::clearMeasurement() {
  d_->measure.clear();
  updateMeasurementActor();
  emit measurementChanged();
}

// The picked points in yellow and the segment between them.
void Viewport::updateMeasurementActor() {
  if (d_->measureActor) d_->renderer->RemoveActor(d_->measureActor), d_->measureActor = nullptr;
  if (d_->measure.empty()) return update();
  auto points = vtkSmartPointer<vtkPoints>::New();
  auto verts = vtkSmartPointer<vtkCellArray>::New();
  auto lines = vtkSmartPointer<vtkCellArray>::New();
  for (const auto& p : d_->measure) {
    const vtkIdType id = points->InsertNextPoint(p.data());
    verts->InsertNextCell(1, &id);
  }
  if (d_->measure.size() == 2) {
    const vtkIdType seg[2] = {0, 1};
    lines->InsertNextCell(2, seg);
  }
  auto poly = vtkSmartPointer<vtkPolyData>::New();
  poly->SetPoints(points);
  poly->SetVerts(verts);
  poly->SetLines(lines);
  d_->measureActor = makeActor(poly);
  d_->measureActor->GetProperty()->SetColor(1.0, 0.9, 0.1);
  d_->measureActor->GetProperty()->SetPointSize(float(d_->pointSize + 6));
  d_->measureActor->GetProperty()->SetLineWidth(3.f);
  d_->measureActor->GetProperty()->LightingOff();
  d_->renderer->AddActor(d_->measureActor);
  update();
}

void Viewport::setTool(Tool tool) {
  d_->tool = tool;
  d_->outlining = false;
  d_->outline.clear();
  setCursor(tool == Tool::kNavigate ? Qt::ArrowCursor : Qt::CrossCursor);
  if (tool != Tool::kMeasure && !d_->measure.empty()) clearMeasurement();
  update();
}

Tool Viewport::tool() const { return d_->tool; }
const RegionSelection& Viewport::regionSelection() const { return d_->region; }
const SceneData* Viewport::scene() const { return d_->scene.get(); }

void Viewport::drawRegionOutline(QPainter& painter) const {
  if (!d_->outlining || d_->outline.isEmpty()) return;
  painter.setRenderHint(QPainter::Antialiasing);
  QPen pen(QColor(255, 220, 40), 1.5, Qt::DashLine);
  painter.setPen(pen);
  painter.setBrush(QColor(255, 220, 40, 40));
  if (d_->tool == Tool::kRectangle && d_->outline.size() >= 2)
    painter.drawRect(QRectF(d_->outline[0], d_->outline[1]).normalized());
  else
    painter.drawPolygon(d_->outline);
}

namespace {

// Sorted-set operations for the selection modes.
template <typename T>
std::vector<T> combine(const std::vector<T>& current, std::vector<T> picked, SelectMode mode) {
  std::sort(picked.begin(), picked.end());
  if (mode == SelectMode::kReplace) return picked;
  std::vector<T> out;
  if (mode == SelectMode::kAdd)
    std::set_union(current.begin(), current.end(), picked.begin(), picked.end(),
                   std::back_inserter(out));
  else
    std::set_difference(current.begin(), current.end(), picked.begin(), picked.end(),
                        std::back_inserter(out));
  return out;
}

template <typename T>
std::vector<T> complement(const std::vector<T>& selected, const std::vector<T>& all) {
  std::vector<T> out;
  std::set_difference(all.begin(), all.end(), selected.begin(), selected.end(),
                      std::back_inserter(out));
  return out;
}

std::vector<uint32_t> iota(size_t n) {
  std::vector<uint32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint32_t(i);
  return v;
}

}  // namespace

void Viewport::selectRegion(const QPolygonF& polygon, SelectMode mode) {
  RegionSelection picked;
  const SceneData* scene = d_->scene.get();
  if (scene && polygon.size() >= 3 && width() > 0 && height() > 0) {
    vtkCamera* cam = d_->renderer->GetActiveCamera();
    vtkMatrix4x4* vm =
        cam->GetCompositeProjectionTransformMatrix(double(width()) / double(height()), -1, 1);
    Eigen::Matrix4d m;
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) m(r, c) = vm->GetElement(r, c);
    const QRectF bounds = polygon.boundingRect();
    const bool isRect = polygon.size() == 5 && QPolygonF(bounds) == polygon;
    const double w = width(), h = height();
    // Visible only: the depth buffer of the view as drawn (rows from the bottom).
    std::vector<float> zbuf;
    const int zw = int(w * devicePixelRatio()), zh = int(h * devicePixelRatio());
    double nearPlane = 0, farPlane = 1;
    if (d_->visibleOnly) {
      d_->window->SetSize(zw, zh);
      d_->window->Render();
      zbuf.resize(size_t(zw) * size_t(zh));
      d_->window->GetZbufferData(0, 0, zw - 1, zh - 1, zbuf.data());
      cam->GetClippingRange(nearPlane, farPlane);
    }
    // Distance along the view from a depth in normalised device coordinates (-1..1).
    auto eyeDepth = [&](double ndc) {
      return 2 * nearPlane * farPlane / (farPlane + nearPlane - ndc * (farPlane - nearPlane));
    };
    // A point is hidden when every pixel around it holds something clearly nearer.
    auto hidden = [&](double x, double y, double z) {
      const int px = int((x + 1) * 0.5 * zw), py = int((y + 1) * 0.5 * zh);
      float farthest = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int u = std::clamp(px + dx, 0, zw - 1), v = std::clamp(py + dy, 0, zh - 1);
          farthest = std::max(farthest, zbuf[size_t(v) * size_t(zw) + size_t(u)]);
        }
      if (farthest >= 1.0f) return false;  // background
      return eyeDepth(z) > 1.01 * eyeDepth(2.0 * farthest - 1.0);
    };
    auto inside = [&](const Eigen::Vector3d& p) {
      const Eigen::Vector4d clip = m * p.homogeneous();
      if (clip.w() <= 1e-12) return false;
      const double x = clip.x() / clip.w(), y = clip.y() / clip.w(), z = clip.z() / clip.w();
      if (z < -1 || z > 1) return false;  // outside the near and far planes
      const QPointF q((x + 1) * 0.5 * w, (1 - y) * 0.5 * h);
      if (!bounds.contains(q)) return false;
      if (!isRect && !polygon.containsPoint(q, Qt::OddEvenFill)) return false;
      return zbuf.empty() || !hidden(x, y, z);
    };
    // Many points: test them in parallel into flags, then gather.
    auto pickAll = [&](size_t n, auto&& position) {
      std::vector<char> in(n, 0);
      parallelFor((n + 4095) / 4096, [&](size_t block) {
        for (size_t i = block * 4096; i < std::min(n, (block + 1) * 4096); ++i)
          in[i] = inside(position(i));
      });
      std::vector<uint32_t> out;
      for (size_t i = 0; i < n; ++i)
        if (in[i]) out.push_back(uint32_t(i));
      return out;
    };
    if (scene->dense && layerVisible(Layer::kDense))
      picked.dense = pickAll(scene->dense->size(),
                             [&](size_t i) { return scene->dense->points[i].cast<double>(); });
    if (scene->mesh && layerVisible(Layer::kMesh)) {
      const TriangleMesh& mesh = *scene->mesh;
      picked.faces = pickAll(mesh.faces.size(), [&](size_t i) {
        const auto& f = mesh.faces[i];
        return ((mesh.points[size_t(f[0])] + mesh.points[size_t(f[1])] + mesh.points[size_t(f[2])]) /
                3.0f)
            .cast<double>();
      });
    }
    if (scene->sparse && layerVisible(Layer::kSparse))
      for (const auto& [id, p] : scene->sparse->points3D)
        if (inside(p.xyz)) picked.sparse.push_back(id);
    if (scene->sparse && layerVisible(Layer::kCameras))
      for (const auto& [id, im] : scene->sparse->images)
        if (inside(im.projectionCenter())) picked.cameras.push_back(id);
  }
  RegionSelection out;
  out.dense = combine(d_->region.dense, std::move(picked.dense), mode);
  out.faces = combine(d_->region.faces, std::move(picked.faces), mode);
  out.sparse = combine(d_->region.sparse, std::move(picked.sparse), mode);
  out.cameras = combine(d_->region.cameras, std::move(picked.cameras), mode);
  setRegionSelection(std::move(out));
}

void Viewport::setSelectVisibleOnly(bool on) { d_->visibleOnly = on; }
bool Viewport::selectVisibleOnly() const { return d_->visibleOnly; }

RegionSelection Viewport::allOfVisibleLayers() const {
  RegionSelection all;
  const SceneData* scene = d_->scene.get();
  if (!scene) return all;
  if (scene->dense && layerVisible(Layer::kDense)) all.dense = iota(scene->dense->size());
  if (scene->mesh && layerVisible(Layer::kMesh)) all.faces = iota(scene->mesh->faces.size());
  if (scene->sparse && layerVisible(Layer::kSparse))
    for (const auto& [id, p] : scene->sparse->points3D) all.sparse.push_back(id);
  if (scene->sparse && layerVisible(Layer::kCameras))
    for (const auto& [id, im] : scene->sparse->images) all.cameras.push_back(id);
  return all;
}

RegionSelection Viewport::invertedRegionSelection() const {
  const RegionSelection all = allOfVisibleLayers();
  RegionSelection out;
  out.dense = complement(d_->region.dense, all.dense);
  out.faces = complement(d_->region.faces, all.faces);
  out.sparse = complement(d_->region.sparse, all.sparse);
  out.cameras = complement(d_->region.cameras, all.cameras);
  return out;
}

void Viewport::setRegionSelection(RegionSelection selection) {
  for (auto* v : {&selection.dense, &selection.faces, &selection.cameras}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  std::sort(selection.sparse.begin(), selection.sparse.end());
  selection.sparse.erase(std::unique(selection.sparse.begin(), selection.sparse.end()),
                         selection.sparse.end());
  d_->region = std::move(selection);
  updateRegionHighlight();
  emit regionSelectionChanged();
  update();
}

// Selected points drawn larger in red over their layer, selected faces as a red
// overlay, selected cameras as red frusta.
void Viewport::updateRegionHighlight() {
  for (auto* a : {&d_->regionPoints, &d_->regionFaces, &d_->regionCameras})
    if (*a) d_->renderer->RemoveActor(*a), *a = nullptr;
  const SceneData* scene = d_->scene.get();
  if (!scene) return;
  const RegionSelection& r = d_->region;
  std::vector<Eigen::Vector3f> pts;
  if (scene->dense) {
    // As the cloud itself: at most maxDisplayedPoints drawn.
    const size_t stride = (r.dense.size() + d_->maxDisplayedPoints - 1) / d_->maxDisplayedPoints;
    for (size_t k = 0; k < r.dense.size(); k += std::max<size_t>(1, stride))
      if (r.dense[k] < scene->dense->size()) pts.push_back(scene->dense->points[r.dense[k]]);
  }
  if (scene->sparse)
    for (uint64_t id : r.sparse)
      if (auto it = scene->sparse->points3D.find(id); it != scene->sparse->points3D.end())
        pts.push_back(it->second.xyz.cast<float>());
  if (!pts.empty()) {
    d_->regionPoints = makeActor(pointsPolyData(pts, {}));
    d_->regionPoints->GetProperty()->SetColor(1.0, 0.15, 0.1);
    d_->regionPoints->GetProperty()->SetPointSize(float(d_->pointSize + 1));
    d_->regionPoints->GetProperty()->LightingOff();
    d_->renderer->AddActor(d_->regionPoints);
  }
  if (scene->mesh && !r.faces.empty()) {
    TriangleMesh sub;
    sub.points = scene->mesh->points;
    for (uint32_t f : r.faces)
      if (f < scene->mesh->faces.size()) sub.faces.push_back(scene->mesh->faces[f]);
    d_->regionFaces = makeActor(meshPolyData(sub));
    d_->regionFaces->GetMapper()->ScalarVisibilityOff();
    d_->regionFaces->GetMapper()->SetResolveCoincidentTopologyToPolygonOffset();
    d_->regionFaces->GetProperty()->SetColor(1.0, 0.15, 0.1);
    d_->renderer->AddActor(d_->regionFaces);
  }
  if (scene->sparse && !r.cameras.empty()) {
    Reconstruction frusta;
    for (uint32_t id : r.cameras)
      if (auto it = scene->sparse->images.find(id); it != scene->sparse->images.end()) {
        frusta.images[id] = it->second;
        frusta.cameras[it->second.camera_id] = scene->sparse->cameras.at(it->second.camera_id);
      }
    d_->regionCameras = makeActor(frustaPolyData(frusta, d_->frustumSize));
    d_->regionCameras->GetProperty()->SetColor(1.0, 0.15, 0.1);
    d_->regionCameras->GetProperty()->SetLineWidth(3.f);
    d_->regionCameras->GetProperty()->LightingOff();
    d_->renderer->AddActor(d_->regionCameras);
  }
}

}  // namespace parallax::ui
