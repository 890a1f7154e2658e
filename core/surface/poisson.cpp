#include "surface/poisson.h"

#include <algorithm>
#include <open3d/geometry/PointCloud.h>
#include <open3d/geometry/TriangleMesh.h>
#include <thread>

#include "util/error.h"

namespace parallax {
namespace {

std::shared_ptr<open3d::geometry::PointCloud> toOpen3d(const PointCloud& cloud) {
  auto pcd = std::make_shared<open3d::geometry::PointCloud>();
  pcd->points_.reserve(cloud.size());
  for (const auto& p : cloud.points) pcd->points_.push_back(p.cast<double>());
  for (const auto& n : cloud.normals) pcd->normals_.push_back(n.cast<double>());
  for (const auto& c : cloud.colors)
    pcd->colors_.push_back(Eigen::Vector3d(c[0], c[1], c[2]) / 255.0);
  return pcd;
}

uint8_t toByte(double v) { return uint8_t(std::lround(std::clamp(v * 255.0, 0.0, 255.0))); }

}  // namespace

std::vector<size_t> statisticalInliers(const PointCloud& cloud, int neighbors, double std_ratio) {
  auto pcd = toOpen3d(cloud);
  auto [kept, indices] = pcd->RemoveStatisticalOutliers(size_t(neighbors), std_ratio);
  return indices;
}

TriangleMesh poissonMesh(const PointCloud& cloud, const PoissonOptions& o, PoissonReport* report) {
  if (!cloud.hasNormals())
    throw Error("the point cloud has no normals; Poisson meshing needs oriented points");
  if (cloud.size() < 100)
    throw Error("the point cloud has only " + std::to_string(cloud.size()) +
                " points; too few to mesh (check the mvs and fusion results)");
  PoissonReport rep;
  rep.input_points = cloud.size();
  auto pcd = toOpen3d(cloud);
  if (o.outlier_neighbors > 0) {
    auto [kept, indices] = pcd->RemoveStatisticalOutliers(size_t(o.outlier_neighbors),
                                                          o.outlier_std_ratio);
    rep.outliers_removed = pcd->points_.size() - kept->points_.size();
    pcd = kept;
  }
  const int threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  auto [mesh, densities] = open3d::geometry::TriangleMesh::CreateFromPointCloudPoisson(
      *pcd, size_t(o.depth), 0.0f, float(o.scale), false, threads);
  rep.untrimmed_faces = mesh->triangles_.size();
  if (o.trim_quantile > 0 && !densities.empty()) {
    std::vector<double> sorted = densities;
    const size_t k = std::min(sorted.size() - 1, size_t(o.trim_quantile * double(sorted.size())));
    std::nth_element(sorted.begin(), sorted.begin() + long(k), sorted.end());
    const double threshold = sorted[k];
    std::vector<bool> remove(densities.size());
    for (size_t i = 0; i < densities.size(); ++i) remove[i] = densities[i] < threshold;
    mesh->RemoveVerticesByMask(remove);
  }
  mesh->RemoveUnreferencedVertices();
  if (o.target_faces > 0 && mesh->triangles_.size() > o.target_faces) {
    const bool colored = mesh->HasVertexColors();
    mesh = mesh->SimplifyQuadricDecimation(int(o.target_faces),
                                           std::numeric_limits<double>::infinity(), 1.0);
    if (colored && !mesh->HasVertexColors())
      throw Error("internal: decimation dropped the vertex colours");
  }
  mesh->ComputeVertexNormals();
  TriangleMesh out;
  out.points.reserve(mesh->vertices_.size());
  for (const auto& v : mesh->vertices_) out.points.push_back(v.cast<float>());
  for (const auto& n : mesh->vertex_normals_) out.normals.push_back(n.cast<float>());
  for (const auto& c : mesh->vertex_colors_) out.colors.push_back({toByte(c.x()), toByte(c.y()), toByte(c.z())});
  for (const auto& f : mesh->triangles_) out.faces.push_back(f);
  rep.faces = out.faces.size();
  rep.vertices = out.points.size();
  if (report) *report = rep;
  return out;
}

}  // namespace parallax
