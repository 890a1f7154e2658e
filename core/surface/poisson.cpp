#include "surface/poisson.h"

#include <unordered_set>

#include <algorithm>
#include <open3d/geometry/KDTreeFlann.h>
#include <open3d/geometry/PointCloud.h>
#include <open3d/geometry/TriangleMesh.h>
#include <open3d/utility/Logging.h>
#include <thread>

#include "util/error.h"
#include "util/parallel.h"

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

std::vector<size_t> localOutlierInliers(const std::vector<Eigen::Vector3d>& points, int neighbors,
                                        double factor, int threads) {
  open3d::geometry::PointCloud pcd;
  pcd.points_ = points;
  open3d::geometry::KDTreeFlann tree(pcd);
  const size_t n = points.size();
  const int k = std::max(1, neighbors);
  std::vector<double> meanDist(n, 0.0);
  std::vector<std::vector<int>> nbrs(n);
  parallelFor(
      n,
      [&](size_t i) {
        std::vector<double> d2;
        const int found = tree.SearchKNN(points[i], k + 1, nbrs[i], d2);  // includes itself
        double sum = 0;
        for (int j = 1; j < found; ++j) sum += std::sqrt(d2[size_t(j)]);
        meanDist[i] = found > 1 ? sum / double(found - 1) : 0.0;
      },
      threads);
  std::vector<char> keep(n, 1);
  parallelFor(
      n,
      [&](size_t i) {
        std::vector<double> local;
        for (size_t j = 1; j < nbrs[i].size(); ++j) local.push_back(meanDist[size_t(nbrs[i][j])]);
        if (local.empty()) return;
        std::nth_element(local.begin(), local.begin() + long(local.size() / 2), local.end());
        keep[i] = meanDist[i] <= factor * local[local.size() / 2];
      },
      threads);
  std::vector<size_t> kept;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) kept.push_back(i);
  return kept;
}

int automaticPoissonDepth(const std::vector<Eigen::Vector3d>& points) {
  if (points.empty()) return 8;
  Eigen::Vector3d lo = points.front(), hi = points.front();
  for (const auto& p : points) lo = lo.cwiseMin(p), hi = hi.cwiseMax(p);
  // Poisson's octree spans the largest extent, enlarged by its scale (1.1).
  const double size = 1.1 * std::max((hi - lo).maxCoeff(), 1e-12);
  int depth = 8;
  for (int d = 9; d <= 12; ++d) {
    const double cell = size / std::ldexp(1.0, d);
    std::unordered_set<uint64_t> occupied;
    occupied.reserve(points.size());
    for (const auto& p : points) {
      const Eigen::Vector3d q = (p - lo) / cell;
      occupied.insert((uint64_t(q.x()) << 42) | (uint64_t(q.y()) << 21) | uint64_t(q.z()));
    }
    if (double(points.size()) < kPoissonPointsPerCell * double(occupied.size())) break;
    depth = d;
  }
  return depth;
}

TriangleMesh poissonMesh(const PointCloud& cloud, const PoissonOptions& o, PoissonReport* report) {
  if (!cloud.hasNormals())
    throw Error("the point cloud has no normals; Poisson meshing needs oriented points");
  if (cloud.size() < 100)
    throw Error("the point cloud has only " + std::to_string(cloud.size()) +
                " points; too few to mesh (check the mvs and fusion results)");
  // Open3D and its PoissonRecon print to stdout, which is the worker's event channel.
  open3d::utility::SetVerbosityLevel(open3d::utility::VerbosityLevel::Error);
  PoissonReport rep;
  rep.input_points = cloud.size();
  auto pcd = toOpen3d(cloud);
  const int threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  if (o.outlier_neighbors > 0) {
    const std::vector<size_t> kept =
        localOutlierInliers(pcd->points_, o.outlier_neighbors, o.outlier_factor, threads);
    rep.outliers_removed = pcd->points_.size() - kept.size();
    pcd = pcd->SelectByIndex(kept);
  }
  const int depth = o.depth > 0 ? o.depth : automaticPoissonDepth(pcd->points_);
  rep.depth = depth;
  auto [mesh, densities] = open3d::geometry::TriangleMesh::CreateFromPointCloudPoisson(
      *pcd, size_t(depth), 0.0f, float(o.scale), false, threads);
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
  if (o.trim_distance > 0 && !mesh->vertices_.empty()) {
    // Poisson closes the surface everywhere; keep only what lies near the points,
    // measured in the local point spacing so sparse regions are not cut away.
    open3d::geometry::KDTreeFlann tree(*pcd);
    const size_t np = pcd->points_.size();
    std::vector<double> spacing(np, 0.0);
    parallelFor(
        np,
        [&](size_t i) {
          std::vector<int> idx;
          std::vector<double> d2;
          const int found = tree.SearchKNN(pcd->points_[i], 5, idx, d2);
          if (found > 1) spacing[i] = std::sqrt(d2[size_t(found - 1)]);
        },
        threads);
    std::vector<bool> remove(mesh->vertices_.size(), false);
    parallelFor(
        mesh->vertices_.size(),
        [&](size_t v) {
          std::vector<int> idx;
          std::vector<double> d2;
          if (tree.SearchKNN(mesh->vertices_[v], 1, idx, d2) < 1) return;
          const double limit = o.trim_distance * std::max(spacing[size_t(idx[0])], 1e-12);
          remove[v] = d2[0] > limit * limit;
        },
        threads);
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

TriangleMesh decimateMesh(const TriangleMesh& in, size_t targetFaces) {
  if (in.faces.size() <= targetFaces || targetFaces == 0) return in;
  open3d::geometry::TriangleMesh mesh;
  for (const auto& p : in.points) mesh.vertices_.push_back(p.cast<double>());
  for (const auto& c : in.colors) mesh.vertex_colors_.emplace_back(c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
  for (const auto& f : in.faces) mesh.triangles_.push_back(f);
  auto simplified = mesh.SimplifyQuadricDecimation(int(targetFaces), std::numeric_limits<double>::infinity(), 1.0);
  simplified->RemoveUnreferencedVertices();
  simplified->ComputeVertexNormals();
  TriangleMesh out;
  for (const auto& v : simplified->vertices_) out.points.push_back(v.cast<float>());
  for (const auto& n : simplified->vertex_normals_) out.normals.push_back(n.cast<float>());
  for (const auto& c : simplified->vertex_colors_) out.colors.push_back({toByte(c.x()), toByte(c.y()), toByte(c.z())});
  for (const auto& f : simplified->triangles_) out.faces.push_back(f);
  return out;
}

}  // namespace parallax
