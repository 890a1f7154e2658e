#include "ui/viewport.h"

#include "ui/viewport_impl.h"

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
  // Near and far planes around everything shown: framing sets them from the framed box
  // alone, which cut off the nearest cameras' frusta (and made them unselectable).
  d_->renderer->ResetCameraClippingRange();
  if (d_->denseCoarse) {
    const bool coarse = d_->moving && d_->visible[Layer::kDense];
    d_->denseCoarse->SetVisibility(coarse);
    if (auto it = d_->actors.find(Layer::kDense); it != d_->actors.end())
      it->second->SetVisibility(d_->visible[Layer::kDense] && !coarse);
  }
  const int w = int(width() * devicePixelRatio()), h = int(height() * devicePixelRatio());
  // VTK 9.1's hidden window keeps the buffer of its first size: grown past it, the
  // frame's top rows stayed black. Start it again at the larger size.
  if (w > d_->bufferSize.width() || h > d_->bufferSize.height()) {
    if (d_->bufferSize.width() > 0) d_->window->Finalize();
    d_->bufferSize = QSize(std::max(w, d_->bufferSize.width()), std::max(h, d_->bufferSize.height()));
  }
  d_->window->SetSize(w, h);
  d_->window->Render();
  unsigned char* rgba = d_->window->GetRGBACharPixelData(0, 0, w - 1, h - 1, 0);
  // Back to the widget's context before the last frame is released: Qt deletes the
  // texture it drew that image with in whichever context is current, and in VTK's the
  // same number names the textured mesh's atlas (which then drew black).
  makeCurrent();
  // VTK's rows start at the bottom; QImage's at the top.
  d_->frame = QImage(rgba, w, h, QImage::Format_RGBA8888)
                  .mirrored(false, true)
                  .convertToFormat(QImage::Format_RGB32);
  delete[] rgba;
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
  if (data.textured && !data.textured->mesh.faces.empty() && d_->meshShading == MeshShading::kTextured &&
      mode == ColorMode::kRgb) {
    // The texture stage's mesh: its own faces, so it is not picked (selection and
    // cleaning act on the mesh stage's faces, shown with the other shadings).
    if (d_->texturedSource != data.textured) {
      d_->texturedActor = texturedMeshActor(*data.textured);
      d_->texturedActor->PickableOff();
      d_->texturedSource = data.textured;
    }
    add(Layer::kMesh, d_->texturedActor);
  } else if (data.mesh && !data.mesh->faces.empty()) {
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
  rebuildLayers();
}

// The layers built anew from the scene shown; the view and the selections stay.
void Viewport::rebuildLayers() {
  if (!d_->scene) return;
  const auto scene = d_->scene;
  const RegionSelection region = d_->region;
  const Selection picked = d_->selection;
  setScene(*scene);
  setRegionSelection(region);
  select(picked);
}

ColorMode Viewport::colorMode() const { return d_->colorMode; }

void Viewport::setMeshShading(MeshShading shading) {
  const bool rebuild = (shading == MeshShading::kTextured) != (d_->meshShading == MeshShading::kTextured) &&
                       d_->scene && d_->scene->textured;
  d_->meshShading = shading;
  if (rebuild) {
    rebuildLayers();  // textured and untextured are different meshes
    return;
  }
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
  makeCurrent();  // see paintGL: no Qt image may be released while VTK's context is current
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

}  // namespace parallax::ui
