// Bundle adjustment with Ceres: camera poses, intrinsics and 3D points refined
// jointly to minimise reprojection error, as COLMAP's BundleAdjuster, over a
// chosen subset of a Reconstruction (local BA) or all of it (global BA).
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "scene/reconstruction.h"

namespace parallax {

struct BundleOptions {
  bool refine_focal_length = true;
  bool refine_principal_point = false;
  bool refine_extra_params = true;  // radial / tangential distortion
  // Huber loss scale in pixels: observations further off count linearly, so a
  // few bad ones cannot drag the solution.
  double loss_scale_px = 2.0;
  int max_iterations = 50;
  double function_tolerance = 1e-5;  // relative cost change; 1e-6 only crept on
  int num_threads = 0;  // 0: one per core
};

struct BundleConfig {
  // Images whose poses are refined; their observations are all included.
  std::set<uint32_t> variable_images;
  // Poses held fixed (gauge), among the variable images.
  std::set<uint32_t> constant_poses;
  // Image whose translation keeps one coordinate fixed (scale gauge); 0 = none.
  uint32_t scale_gauge_image = 0;
  // Cameras (intrinsics) held fixed whatever the options say.
  std::set<uint32_t> constant_cameras;
  // Cameras whose principal point stays put even when the options refine it.
  std::set<uint32_t> fixed_principal_point_cameras;
  // Points whose positions are held fixed.
  std::set<uint64_t> constant_points;
  // When true, images outside `variable_images` that observe an adjusted point
  // contribute residuals with their poses and intrinsics fixed (local BA).
  bool include_other_observers = true;
};

struct BundleSummary {
  bool usable = false;  // the solver ran and produced a finite solution
  int num_residuals = 0;
  int iterations = 0;
  double initial_rmse_px = 0;
  double final_rmse_px = 0;
  std::string message;
};

BundleSummary bundleAdjust(Reconstruction& reconstruction, const BundleConfig& config,
                           const BundleOptions& options);

// Refines one image's pose (and, with `refine_focal`, its camera's focal
// length) against fixed 3D points. `inliers` indexes image.points2D whose
// point3D_id is valid. Returns false when the solver fails.
bool refineAbsolutePose(Image& image, Camera& camera,
                        const std::vector<std::pair<Eigen::Vector2d, Eigen::Vector3d>>& matches,
                        bool refine_focal, double loss_scale_px);

// Largest difference between bundle adjustment's written-out reprojection
// derivatives and automatic differentiation of the same residual (relative,
// per entry), at the given state: a check for tests.
double reprojectionJacobianError(const Camera& camera, const Rigid3d& cam_from_world,
                                 const Eigen::Vector3d& point, const Eigen::Vector2d& observed);

}  // namespace parallax
