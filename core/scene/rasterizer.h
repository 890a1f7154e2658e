// A small z-buffer rasterizer for the synthetic scenes (no display, no GPU):
// perspective-correct interpolation of world position and normal per pixel.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "geometry/camera.h"
#include "geometry/rigid3d.h"
#include "scene/geometry_data.h"

namespace parallax {

struct RasterSample {
  float depth = 0.f;  // z in camera coordinates; 0 where nothing was hit
  int face = -1;
  Eigen::Vector3f world = Eigen::Vector3f::Zero();
  Eigen::Vector3f normal = Eigen::Vector3f::Zero();
};

// Renders `mesh` (with vertex normals) into a width x height buffer, row-major.
// The camera must be undistorted (PINHOLE); faces closer than `near` are dropped.
std::vector<RasterSample> rasterize(const TriangleMesh& mesh, const Camera& camera,
                                    const Rigid3d& cam_from_world, float near = 0.05f);

}  // namespace parallax
