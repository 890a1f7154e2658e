#include "ui/scene_layers.h"

#include <vtkActor.h>
#include <vtkCellArray.h>
#include <vtkFloatArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyDataMapper.h>
#include <vtkUnsignedCharArray.h>
#include <vtkImageData.h>
#include <vtkProperty.h>
#include <vtkTexture.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>

namespace parallax::ui {

vtkSmartPointer<vtkPolyData> pointsPolyData(const std::vector<Eigen::Vector3f>& pts,
                                            const std::vector<Color3>& colors) {
  auto points = vtkSmartPointer<vtkPoints>::New();
  points->SetDataTypeToFloat();
  points->SetNumberOfPoints(vtkIdType(pts.size()));
  for (size_t i = 0; i < pts.size(); ++i)
    points->SetPoint(vtkIdType(i), pts[i].x(), pts[i].y(), pts[i].z());
  auto verts = vtkSmartPointer<vtkCellArray>::New();
  verts->AllocateExact(vtkIdType(pts.size()), vtkIdType(pts.size()));
  for (size_t i = 0; i < pts.size(); ++i) {
    vtkIdType id = vtkIdType(i);
    verts->InsertNextCell(1, &id);
  }
  auto poly = vtkSmartPointer<vtkPolyData>::New();
  poly->SetPoints(points);
  poly->SetVerts(verts);
  if (colors.size() == pts.size()) {
    auto rgb = vtkSmartPointer<vtkUnsignedCharArray>::New();
    rgb->SetName("Colors");
    rgb->SetNumberOfComponents(3);
    rgb->SetNumberOfTuples(vtkIdType(colors.size()));
    for (size_t i = 0; i < colors.size(); ++i) rgb->SetTypedTuple(vtkIdType(i), colors[i].data());
    poly->GetPointData()->SetScalars(rgb);
  }
  return poly;
}

vtkSmartPointer<vtkPolyData> meshPolyData(const TriangleMesh& mesh) {
  auto poly = pointsPolyData(mesh.points, mesh.colors);
  poly->SetVerts(nullptr);
  auto polys = vtkSmartPointer<vtkCellArray>::New();
  polys->AllocateExact(vtkIdType(mesh.faces.size()), vtkIdType(mesh.faces.size() * 3));
  for (const auto& f : mesh.faces) {
    vtkIdType ids[3] = {f[0], f[1], f[2]};
    polys->InsertNextCell(3, ids);
  }
  poly->SetPolys(polys);
  if (mesh.normals.size() == mesh.points.size()) {
    auto normals = vtkSmartPointer<vtkFloatArray>::New();
    normals->SetNumberOfComponents(3);
    normals->SetNumberOfTuples(vtkIdType(mesh.normals.size()));
    for (size_t i = 0; i < mesh.normals.size(); ++i)
      normals->SetTypedTuple(vtkIdType(i), mesh.normals[i].data());
    poly->GetPointData()->SetNormals(normals);
  }
  return poly;
}

vtkSmartPointer<vtkActor> texturedMeshActor(const TexturedMesh& t, int maxTexture) {
  // Pages stacked top to bottom into one image; VTK's image rows run bottom-up.
  int width = 0, height = 0;
  std::vector<int> top;
  for (const RgbImage& p : t.pages) {
    top.push_back(height);
    width = std::max(width, p.width);
    height += p.height;
  }
  int shrink = 1;
  while ((width + shrink - 1) / shrink > maxTexture || (height + shrink - 1) / shrink > maxTexture) shrink *= 2;
  const int W = (width + shrink - 1) / shrink, H = (height + shrink - 1) / shrink;
  auto image = vtkSmartPointer<vtkImageData>::New();
  image->SetDimensions(W, H, 1);
  image->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
  auto* dst = static_cast<uint8_t*>(image->GetScalarPointer());
  std::fill(dst, dst + size_t(W) * size_t(H) * 3, uint8_t(0));
  for (size_t k = 0; k < t.pages.size(); ++k) {
    const RgbImage& p = t.pages[k];
    for (int y = 0; y < p.height; y += shrink)
      for (int x = 0; x < p.width; x += shrink) {
        const int row = H - 1 - (top[k] + y) / shrink;  // stacked row, flipped
        const uint8_t* src = p.rgb.data() + 3 * (size_t(y) * size_t(p.width) + size_t(x));
        std::copy(src, src + 3, dst + 3 * (size_t(row) * size_t(W) + size_t(x / shrink)));
      }
  }
  auto poly = meshPolyData(t.mesh);
  poly->GetPointData()->SetScalars(nullptr);  // the texture gives the colour
  auto tcoords = vtkSmartPointer<vtkFloatArray>::New();
  tcoords->SetNumberOfComponents(2);
  tcoords->SetNumberOfTuples(vtkIdType(t.mesh.points.size()));
  // A vertex belongs to one chart, so to one page: the page of any face using it.
  std::vector<int> pageOf(t.mesh.points.size(), 0);
  for (size_t f = 0; f < t.mesh.faces.size(); ++f)
    for (int k = 0; k < 3; ++k) pageOf[size_t(t.mesh.faces[f][k])] = t.face_page[f];
  for (size_t i = 0; i < t.mesh.points.size(); ++i) {
    const RgbImage& p = t.pages[size_t(pageOf[i])];
    const float u = t.uv[i].x() * float(p.width) / float(width);
    const float v = (float(top[size_t(pageOf[i])]) + t.uv[i].y() * float(p.height)) / float(height);
    const float tc[2] = {u, 1.f - v};
    tcoords->SetTypedTuple(vtkIdType(i), tc);
  }
  poly->GetPointData()->SetTCoords(tcoords);
  auto mapper = vtkSmartPointer<vtkPolyDataMapper>::New();
  mapper->SetInputData(poly);
  mapper->ScalarVisibilityOff();
  auto texture = vtkSmartPointer<vtkTexture>::New();
  texture->SetInputData(image);
  texture->InterpolateOn();
  texture->SetBlendingMode(vtkTexture::VTK_TEXTURE_BLENDING_MODE_REPLACE);
  auto actor = vtkSmartPointer<vtkActor>::New();
  actor->SetMapper(mapper);
  actor->SetTexture(texture);
  // The photos' own light: no shading over it.
  actor->GetProperty()->SetAmbient(1.0);
  actor->GetProperty()->SetDiffuse(0.0);
  actor->GetProperty()->SetSpecular(0.0);
  return actor;
}

// Each registered image as a pyramid (centre to the four image corners) sized
// relative to the scene, so frusta stay visible at any scale.
vtkSmartPointer<vtkPolyData> frustaPolyData(const Reconstruction& model, double size) {
  auto points = vtkSmartPointer<vtkPoints>::New();
  auto lines = vtkSmartPointer<vtkCellArray>::New();
  for (const auto& [id, image] : model.images) {
    auto cam = model.cameras.find(image.camera_id);
    if (cam == model.cameras.end()) continue;
    const Camera& c = cam->second;
    Rigid3d world_from_cam = image.cam_from_world.inverse();
    Eigen::Vector3d centre = world_from_cam.translation;
    vtkIdType base = points->InsertNextPoint(centre.data());
    const double corners[4][2] = {
        {0, 0}, {double(c.width), 0}, {double(c.width), double(c.height)}, {0, double(c.height)}};
    for (const auto& px : corners) {
      Eigen::Vector3d ray = c.camFromImg({px[0], px[1]});
      Eigen::Vector3d p = world_from_cam * (ray * size);
      points->InsertNextPoint(p.data());
    }
    for (int k = 0; k < 4; ++k) {
      vtkIdType side[2] = {base, base + 1 + k};
      lines->InsertNextCell(2, side);
      vtkIdType rim[2] = {base + 1 + k, base + 1 + (k + 1) % 4};
      lines->InsertNextCell(2, rim);
    }
  }
  auto poly = vtkSmartPointer<vtkPolyData>::New();
  poly->SetPoints(points);
  poly->SetLines(lines);
  return poly;
}

vtkSmartPointer<vtkActor> makeActor(vtkPolyData* poly) {
  vtkNew<vtkPolyDataMapper> mapper;
  mapper->SetInputData(poly);
  mapper->SetColorModeToDirectScalars();
  mapper->SetScalarVisibility(poly->GetPointData()->GetScalars() != nullptr);
  auto actor = vtkSmartPointer<vtkActor>::New();
  actor->SetMapper(mapper);
  return actor;
}

// Blue, cyan, green, yellow, red for t from 0 to 1.
Color3 ramp(double t) {
  static const double stops[5][3] = {{40, 60, 220}, {30, 200, 230}, {60, 200, 60}, {240, 220, 40}, {220, 40, 30}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(3, int(t));
  const double f = t - i;
  Color3 c;
  for (int k = 0; k < 3; ++k) c[size_t(k)] = uint8_t(stops[i][k] + f * (stops[i + 1][k] - stops[i][k]));
  return c;
}

std::vector<Color3> rampColors(const std::vector<double>& values, bool fromZero) {
  if (values.empty()) return {};
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  double lo = fromZero ? std::min(0.0, sorted.front()) : sorted[size_t(0.02 * double(sorted.size() - 1))];
  double hi = sorted[size_t(0.98 * double(sorted.size() - 1))];
  if (hi <= lo) hi = lo + 1;
  std::vector<Color3> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = ramp((values[i] - lo) / (hi - lo));
  return out;
}

std::vector<Color3> heightColors(const std::vector<Eigen::Vector3f>& pts, const Eigen::Vector3d& up) {
  std::vector<double> h(pts.size());
  for (size_t i = 0; i < pts.size(); ++i) h[i] = pts[i].cast<double>().dot(up);
  return rampColors(h);
}

// A view of the scene as the photographer saw it. Photos that face one way (a
// facade, a fountain): up is their mean up, the direction their mean viewing
// direction. Photos around an object (a ring): up is the normal of the plane of
// their centres (photos may be taken sideways), on the side they look down from;
// the direction is the first photo's. Both levelled, then tilted down a little.
void homeViewFromPhotos(const Reconstruction& model, Eigen::Vector3d* direction,
                        Eigen::Vector3d* up, Eigen::Vector3d* sceneUp) {
  if (model.images.empty()) return;
  Eigen::Vector3d sumUp = Eigen::Vector3d::Zero(), sumDir = Eigen::Vector3d::Zero();
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (const auto& [id, im] : model.images) {
    const Eigen::Matrix3d worldFromCam = im.cam_from_world.rotation.toRotationMatrix().transpose();
    sumUp -= worldFromCam.col(1);  // image y points down
    sumDir += worldFromCam.col(2);
    mean += im.projectionCenter();
  }
  const double n = double(model.images.size());
  mean /= n;
  if (sumUp.norm() < 1e-9) return;
  Eigen::Vector3d u = sumUp.normalized();
  Eigen::Vector3d d;
  double tilt = 0.45;  // about 25 degrees down for photos facing one way
  if (sumDir.norm() > 0.5 * n) {
    d = sumDir.normalized();
  } else {
    d = model.images.begin()->second.cam_from_world.rotation.toRotationMatrix().row(2).transpose();
    Eigen::Matrix3d scatter = Eigen::Matrix3d::Zero();
    for (const auto& [id, im] : model.images) {
      const Eigen::Vector3d c = im.projectionCenter() - mean;
      scatter += c * c.transpose();
    }
    const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> eig(scatter);
    const Eigen::Vector3d lambda = eig.eigenvalues();  // ascending
    if (model.images.size() >= 4 && lambda[1] > 0 && lambda[0] < 0.2 * lambda[1]) {
      Eigen::Vector3d normal = eig.eigenvectors().col(0);
      // Photos of an object look down at it, or at least not up.
      const double down = sumDir.dot(normal);
      if (std::abs(down) > 1e-3 * n ? down > 0 : normal.dot(u) < 0) normal = -normal;
      u = normal;
      tilt = 0.8;  // about 39 degrees: over the ring onto the object and its base
    }
  }
  *sceneUp = u;
  d = (d - d.dot(u) * u);  // level, then looking down
  if (d.norm() < 1e-6) return;
  d = (d.normalized() - tilt * u).normalized();
  *direction = d;
  *up = (u - u.dot(d) * d).normalized();
}

}  // namespace parallax::ui
