// What the cleaning tools remove: the elements of a layer outside a crop box,
// statistical and radius outliers, sparse points seen by too few photos or with
// too large a reprojection error. Each returns the ids (sparse points) or file
// indices (dense points, mesh faces) to remove, for an Edit (scene/edits.h).
#pragma once

#include <Eigen/Geometry>
#include <cstdint>
#include <vector>

#include "scene/geometry_data.h"
#include "scene/reconstruction.h"

namespace parallax {

// A box of any orientation: the unit cube [-0.5, 0.5]^3 placed by `world_from_box`
// (VTK's box widget gives this transform).
struct CropBox {
  Eigen::Affine3d world_from_box = Eigen::Affine3d::Identity();
  static CropBox axisAligned(const Eigen::Vector3d& min, const Eigen::Vector3d& max);
  bool contains(const Eigen::Vector3d& world) const;
};

// Points shown (`points`, whose file indices are `ids`) outside the box.
std::vector<uint64_t> pointsOutside(const std::vector<Eigen::Vector3f>& points,
                                    const std::vector<uint32_t>& ids, const CropBox& box);
// Faces whose centre lies outside the box (`faceIds`: file index of each face shown).
std::vector<uint64_t> facesOutside(const TriangleMesh& mesh, const std::vector<uint32_t>& faceIds,
                                   const CropBox& box);
// Statistical outliers: mean distance to the `neighbors` nearest points above `factor`
// times the median of that measure among those neighbours (as the mesh stage).
std::vector<uint64_t> statisticalOutliers(const std::vector<Eigen::Vector3f>& points,
                                          const std::vector<uint32_t>& ids, int neighbors,
                                          double factor);
// Radius outliers: fewer than `min_neighbors` other points within `radius`.
std::vector<uint64_t> radiusOutliers(const std::vector<Eigen::Vector3f>& points,
                                     const std::vector<uint32_t>& ids, double radius,
                                     int min_neighbors);
// The typical distance between neighbouring points: the median distance to the
// nearest other point over an even sample of at most `samples` points (0 if fewer
// than two points). Scales the radius of radius outlier removal.
double medianSpacing(const std::vector<Eigen::Vector3f>& points, size_t samples = 2000);
// Sparse points seen by fewer than `min_views` photos.
std::vector<uint64_t> sparsePointsSeenByFewer(const Reconstruction& model, size_t min_views);
// Sparse points whose mean reprojection error is above `max_error_px`.
std::vector<uint64_t> sparsePointsWithErrorAbove(const Reconstruction& model, double max_error_px);
// Sparse points inside/outside a box (ids).
std::vector<uint64_t> sparsePointsOutside(const Reconstruction& model, const CropBox& box);

}  // namespace parallax
