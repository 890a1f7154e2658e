// Viewport: the crop-box tool.
#include "ui/viewport_impl.h"

#include "ui/labels_panel.h"
#include "ui/scene_layers.h"
#include "util/parallel.h"

namespace parallax::ui {

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

}  // namespace parallax::ui
