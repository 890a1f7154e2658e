// Viewport: the tools and region selection (rectangle, lasso, visible only).
#include "ui/viewport_impl.h"

#include "ui/labels_panel.h"
#include "ui/scene_layers.h"
#include "util/parallel.h"

namespace parallax::ui {

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
    const Eigen::Matrix4d m = d_->clipFromWorld(double(width()) / double(height()));
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
      d_->renderer->GetActiveCamera()->GetClippingRange(nearPlane, farPlane);
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
