// Viewport: picking surface points, measuring, clipping.
#include "ui/viewport_impl.h"

#include "ui/labels_panel.h"
#include "ui/scene_layers.h"
#include "util/parallel.h"

namespace parallax::ui {

std::optional<Eigen::Vector3d> Viewport::pickSurfacePoint(const QPointF& pos) const {
  const SceneData* scene = d_->scene.get();
  if (!scene || width() <= 0 || height() <= 0) return std::nullopt;
  const Eigen::Matrix4d m = d_->clipFromWorld(double(width()) / double(height()));
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

}  // namespace parallax::ui
