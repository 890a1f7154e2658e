// Surface reconstruction from an oriented point cloud (DESIGN: surface/, Open3D):
// statistical outlier removal, screened Poisson, trimming of the low-density
// surface Poisson invents where there were no points, and optional quadric
// decimation. Open3D stays inside the .cpp.
#pragma once

#include <cstddef>
#include <vector>

#include "scene/geometry_data.h"

namespace parallax {

struct PoissonOptions {
  int depth = 0;                   // octree depth: detail ~ scene size / 2^depth; 0 = automaticPoissonDepth
  double scale = 1.1;              // reconstruction cube relative to the points' box
  int outlier_neighbors = 20;      // outlier removal: neighbours considered (0 = off)
  double outlier_factor = 2.0;     // see localOutlierInliers
  double trim_quantile = 0.0;      // drop vertices below this quantile of point density
  // Drop vertices farther from the points than this many times the local point
  // spacing (distance of the nearest point to its 4th neighbour); 0 = off.
  double trim_distance = 3.0;
  size_t target_faces = 0;         // quadric decimation to this many faces (0 = off)
  int threads = 0;
};

struct PoissonReport {
  size_t input_points = 0;
  size_t outliers_removed = 0;
  size_t untrimmed_faces = 0;
  size_t faces = 0;
  size_t vertices = 0;
  int depth = 0;  // octree depth used
};

// Needs normals; colours, when present, are carried to the vertices. Throws Error
// for a cloud without normals or with too few points.
TriangleMesh poissonMesh(const PointCloud& cloud, const PoissonOptions& options,
                         PoissonReport* report = nullptr);

// Quadric decimation (Open3D) to at most `targetFaces` faces, vertex colours kept.
TriangleMesh decimateMesh(const TriangleMesh& mesh, size_t targetFaces);

// The automatic octree depth: the finest (8 to 12) at which the occupied cells of
// Poisson's octree still hold kPoissonPointsPerCell points each on average, so the
// mesh is no finer than the fused points resolve (a denser cloud, or one that
// covers less of its bounding cube, gets a finer octree).
constexpr double kPoissonPointsPerCell = 1.4;
int automaticPoissonDepth(const std::vector<Eigen::Vector3d>& points);

// Density-relative statistical outlier removal: a point goes when its mean distance
// to its k nearest neighbours exceeds `factor` times the median of the same measure
// over those neighbours. Unlike a global mean + k * std threshold, it keeps sparse
// but coherent regions (distant ground, seen at grazing angles) and removes
// isolated points. Returns the indices of the points kept.
std::vector<size_t> localOutlierInliers(const std::vector<Eigen::Vector3d>& points, int neighbors,
                                        double factor, int threads = 0);

}  // namespace parallax
