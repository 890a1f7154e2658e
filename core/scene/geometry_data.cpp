#include "scene/geometry_data.h"

namespace parallax {

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

}  // namespace parallax
