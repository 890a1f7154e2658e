// Dense geometry: coloured point clouds and triangle meshes with optional
// normals and per-vertex labels. Plain arrays, so that I/O and viewers can share them.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <array>
#include <cstdint>
#include <vector>

namespace parallax {

using Color3 = std::array<uint8_t, 3>;

struct PointCloud {
  std::vector<Eigen::Vector3f> points;
  std::vector<Eigen::Vector3f> normals;  // empty or one per point
  std::vector<Color3> colors;            // empty or one per point
  std::vector<int32_t> labels;           // empty or one per point

  size_t size() const { return points.size(); }
  bool hasNormals() const { return !normals.empty(); }
  bool hasColors() const { return !colors.empty(); }
  bool hasLabels() const { return !labels.empty(); }
};

struct TriangleMesh : PointCloud {  // vertices with their attributes, plus faces
  std::vector<Eigen::Vector3i> faces;
  // Fills `normals` with area-weighted vertex normals.
  void computeVertexNormals();
  // Drops the vertices no face uses (their attributes with them); faces renumbered.
  void dropUnusedVertices();
};

struct BoundingBox {
  Eigen::Vector3f min = Eigen::Vector3f::Constant(std::numeric_limits<float>::max());
  Eigen::Vector3f max = Eigen::Vector3f::Constant(-std::numeric_limits<float>::max());
  void extend(const Eigen::Vector3f& p) {
    min = min.cwiseMin(p);
    max = max.cwiseMax(p);
  }
  float diagonal() const { return (max - min).norm(); }
};

BoundingBox boundingBox(const PointCloud& cloud);

// The box holding the bulk of the points: per axis, from the `trim` to the
// 1 - `trim` quantile, widened by `margin` of its size on each side. A few stray
// points (a sparse model's far-off triangulations) do not stretch it, so a view
// framed on it shows the subject, not a dot. Empty input: an empty box.
BoundingBox robustBoundingBox(std::vector<Eigen::Vector3f> points, float trim = 0.02f,
                              float margin = 0.1f);

}  // namespace parallax
