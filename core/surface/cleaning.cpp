#include "surface/cleaning.h"

#include <open3d/geometry/KDTreeFlann.h>
#include <open3d/geometry/PointCloud.h>

#include "surface/poisson.h"
#include "util/parallel.h"

namespace parallax {

CropBox CropBox::axisAligned(const Eigen::Vector3d& min, const Eigen::Vector3d& max) {
  CropBox box;
  box.world_from_box = Eigen::Translation3d(0.5 * (min + max)) *
                       Eigen::Scaling(Eigen::Vector3d((max - min).cwiseMax(1e-12)));
  return box;
}

bool CropBox::contains(const Eigen::Vector3d& world) const {
  const Eigen::Vector3d p = world_from_box.inverse() * world;
  return p.cwiseAbs().maxCoeff() <= 0.5;
}

namespace {

std::vector<uint64_t> fileIds(const std::vector<uint32_t>& ids, const std::vector<char>& pick) {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < pick.size(); ++i)
    if (pick[i]) out.push_back(ids.empty() ? i : ids[i]);
  return out;
}

}  // namespace

std::vector<uint64_t> pointsOutside(const std::vector<Eigen::Vector3f>& points,
                                    const std::vector<uint32_t>& ids, const CropBox& box) {
  const Eigen::Affine3d boxFromWorld = box.world_from_box.inverse();
  std::vector<char> out(points.size());
  for (size_t i = 0; i < points.size(); ++i)
    out[i] = (boxFromWorld * points[i].cast<double>()).cwiseAbs().maxCoeff() > 0.5;
  return fileIds(ids, out);
}

std::vector<uint64_t> facesOutside(const TriangleMesh& mesh, const std::vector<uint32_t>& faceIds,
                                   const CropBox& box) {
  const Eigen::Affine3d boxFromWorld = box.world_from_box.inverse();
  std::vector<char> out(mesh.faces.size());
  for (size_t i = 0; i < mesh.faces.size(); ++i) {
    const auto& f = mesh.faces[i];
    const Eigen::Vector3f c = (mesh.points[size_t(f[0])] + mesh.points[size_t(f[1])] +
                               mesh.points[size_t(f[2])]) / 3.0f;
    out[i] = (boxFromWorld * c.cast<double>()).cwiseAbs().maxCoeff() > 0.5;
  }
  return fileIds(faceIds, out);
}

std::vector<uint64_t> statisticalOutliers(const std::vector<Eigen::Vector3f>& points,
                                          const std::vector<uint32_t>& ids, int neighbors,
                                          double factor) {
  std::vector<Eigen::Vector3d> p(points.size());
  for (size_t i = 0; i < points.size(); ++i) p[i] = points[i].cast<double>();
  std::vector<char> out(points.size(), 1);
  for (size_t k : localOutlierInliers(p, neighbors, factor)) out[k] = 0;
  return fileIds(ids, out);
}

std::vector<uint64_t> radiusOutliers(const std::vector<Eigen::Vector3f>& points,
                                     const std::vector<uint32_t>& ids, double radius,
                                     int min_neighbors) {
  open3d::geometry::PointCloud pcd;
  pcd.points_.resize(points.size());
  for (size_t i = 0; i < points.size(); ++i) pcd.points_[i] = points[i].cast<double>();
  open3d::geometry::KDTreeFlann tree(pcd);
  std::vector<char> out(points.size(), 0);
  parallelFor(points.size(), [&](size_t i) {
    std::vector<int> nbrs;
    std::vector<double> d2;
    // The point itself is found too; stop counting once enough are in.
    const int found = tree.SearchHybrid(pcd.points_[i], radius, min_neighbors + 1, nbrs, d2);
    out[i] = found < min_neighbors + 1;
  });
  return fileIds(ids, out);
}

double medianSpacing(const std::vector<Eigen::Vector3f>& points, size_t samples) {
  if (points.size() < 2) return 0;
  open3d::geometry::PointCloud pcd;
  pcd.points_.resize(points.size());
  for (size_t i = 0; i < points.size(); ++i) pcd.points_[i] = points[i].cast<double>();
  open3d::geometry::KDTreeFlann tree(pcd);
  const size_t stride = std::max<size_t>(1, points.size() / std::max<size_t>(1, samples));
  std::vector<double> d;
  for (size_t i = 0; i < points.size(); i += stride) {
    std::vector<int> nbrs;
    std::vector<double> d2;
    // The nearest is the point itself (or a duplicate at distance 0).
    if (tree.SearchKNN(pcd.points_[i], 2, nbrs, d2) == 2) d.push_back(std::sqrt(d2[1]));
  }
  if (d.empty()) return 0;
  std::nth_element(d.begin(), d.begin() + long(d.size() / 2), d.end());
  return d[d.size() / 2];
}

std::vector<uint64_t> sparsePointsSeenByFewer(const Reconstruction& model, size_t min_views) {
  std::vector<uint64_t> out;
  for (const auto& [id, p] : model.points3D)
    if (p.track.size() < min_views) out.push_back(id);
  return out;
}

std::vector<uint64_t> sparsePointsWithErrorAbove(const Reconstruction& model,
                                                 double max_error_px) {
  std::vector<uint64_t> out;
  for (const auto& [id, p] : model.points3D) {
    double sum = 0;
    for (const TrackElement& el : p.track) sum += model.observationError(p, el);
    if (!p.track.empty() && sum / double(p.track.size()) > max_error_px) out.push_back(id);
  }
  return out;
}

std::vector<uint64_t> sparsePointsOutside(const Reconstruction& model, const CropBox& box) {
  std::vector<uint64_t> out;
  for (const auto& [id, p] : model.points3D)
    if (!box.contains(p.xyz)) out.push_back(id);
  return out;
}

}  // namespace parallax
