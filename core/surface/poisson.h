// Surface reconstruction from an oriented point cloud (DESIGN: surface/, Open3D):
// statistical outlier removal, screened Poisson, trimming of the low-density
// surface Poisson invents where there were no points, and optional quadric
// decimation. Open3D stays inside the .cpp.
#pragma once

#include <cstddef>

#include "scene/geometry_data.h"

namespace parallax {

struct PoissonOptions {
  int depth = 10;                  // octree depth: resolution ~ scene size / 2^depth
  double scale = 1.1;              // reconstruction cube relative to the points' box
  int outlier_neighbors = 20;      // statistical outlier removal (0 = off)
  double outlier_std_ratio = 2.0;
  double trim_quantile = 0.05;     // drop vertices below this quantile of point density
  size_t target_faces = 0;         // quadric decimation to this many faces (0 = off)
  int threads = 0;
};

struct PoissonReport {
  size_t input_points = 0;
  size_t outliers_removed = 0;
  size_t untrimmed_faces = 0;
  size_t faces = 0;
  size_t vertices = 0;
};

// Needs normals; colours, when present, are carried to the vertices. Throws Error
// for a cloud without normals or with too few points.
TriangleMesh poissonMesh(const PointCloud& cloud, const PoissonOptions& options,
                         PoissonReport* report = nullptr);

// Statistical outlier removal alone (mean distance to k neighbours beyond
// mean + ratio * std): the indices of the points kept.
std::vector<size_t> statisticalInliers(const PointCloud& cloud, int neighbors, double std_ratio);

}  // namespace parallax
