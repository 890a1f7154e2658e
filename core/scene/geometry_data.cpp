#include "scene/geometry_data.h"

#include <algorithm>

namespace parallax {

void TriangleMesh::dropUnusedVertices() {
  std::vector<int> remap(points.size(), -1);
  TriangleMesh out;
  auto keep = [](const auto& from, auto& to, size_t i) {
    if (!from.empty()) to.push_back(from[i]);
  };
  for (auto& f : faces)
    for (int k = 0; k < 3; ++k) {
      int& r = remap[size_t(f[k])];
      if (r < 0) {
        r = int(out.points.size());
        const size_t i = size_t(f[k]);
        out.points.push_back(points[i]);
        keep(normals, out.normals, i);
        keep(colors, out.colors, i);
        keep(labels, out.labels, i);
      }
      f[k] = r;
    }
  points = std::move(out.points);
  normals = std::move(out.normals);
  colors = std::move(out.colors);
  labels = std::move(out.labels);
}

void TriangleMesh::computeVertexNormals() {
  normals.assign(points.size(), Eigen::Vector3f::Zero());
  for (const auto& f : faces) {
    Eigen::Vector3f n = (points[f[1]] - points[f[0]]).cross(points[f[2]] - points[f[0]]);
    for (int k = 0; k < 3; ++k) normals[f[k]] += n;
  }
  for (auto& n : normals) {
    float len = n.norm();
    if (len > 0) n /= len;
  }
}

BoundingBox boundingBox(const PointCloud& cloud) {
  BoundingBox box;
  for (const auto& p : cloud.points) box.extend(p);
  return box;
}

BoundingBox robustBoundingBox(std::vector<Eigen::Vector3f> points, float trim, float margin) {
  BoundingBox box;
  if (points.empty()) return box;
  const size_t n = points.size();
  const size_t lo = std::min(n - 1, size_t(double(trim) * double(n)));
  const size_t hi = std::max(lo, std::min(n - 1, size_t(double(1.f - trim) * double(n))));
  for (int axis = 0; axis < 3; ++axis) {
    auto less = [axis](const Eigen::Vector3f& a, const Eigen::Vector3f& b) {
      return a[axis] < b[axis];
    };
    std::nth_element(points.begin(), points.begin() + long(lo), points.end(), less);
    box.min[axis] = points[lo][axis];
    std::nth_element(points.begin(), points.begin() + long(hi), points.end(), less);
    box.max[axis] = points[hi][axis];
  }
  const Eigen::Vector3f pad = margin * (box.max - box.min);
  box.min -= pad;
  box.max += pad;
  return box;
}

}  // namespace parallax
