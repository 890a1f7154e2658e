// Incremental structure from motion (COLMAP's IncrementalMapper, written anew):
// feature tracks from the verified matches, a two-view initialisation, image
// registration by PnP + RANSAC, triangulation, local and global bundle
// adjustment, outlier filtering, retriangulation, and further models when the
// view graph falls apart.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <string>
#include <vector>

#include "io/database.h"
#include "scene/reconstruction.h"
#include "sfm/bundle_adjustment.h"

namespace parallax {

// What the mapper reads from database.db: cameras, images, keypoint positions
// and the inlier matches of the verified pairs.
struct SfmInput {
  struct Pair {
    size_t a = 0, b = 0;  // indices into `images`
    int config = kUndefined;
    FeatureMatches inliers;
  };
  std::map<uint32_t, Camera> cameras;
  std::vector<DatabaseImage> images;
  std::vector<std::vector<Eigen::Vector2d>> keypoints;  // per image, COLMAP pixel convention
  std::vector<Pair> pairs;
};

SfmInput loadSfmInput(const Database& db);

struct MapperOptions {
  // Initial pair: enough inliers and a wide enough median triangulation angle.
  int init_min_num_inliers = 100;
  double init_min_tri_angle_deg = 16.0;
  int init_max_trials = 200;
  // Registration of further images.
  double abs_pose_max_error_px = 12.0;
  int abs_pose_min_num_inliers = 30;
  double abs_pose_min_inlier_ratio = 0.25;
  // Triangulation and filtering.
  double max_reproj_error_px = 4.0;
  double min_tri_angle_deg = 1.5;
  // Bundle adjustment.
  BundleOptions ba;
  int local_ba_num_images = 6;
  double global_ba_growth = 1.1;  // global BA when the model grew by this factor
  // Models.
  bool multiple_models = true;
  int min_model_size = 3;
  int max_num_models = 50;
};

struct MapperProgress {
  size_t model_index = 0;
  size_t registered = 0;  // in the current model
  size_t total_images = 0;
  size_t num_points = 0;
  std::string message;
  bool milestone = false;  // a model started or finished: worth a log line
};

struct MapperResult {
  std::vector<Reconstruction> models;  // largest first
  std::vector<std::string> notes;      // why images stayed unregistered, etc.
};

// `observer` is called after each registration with the current model (for
// previews); it may throw Cancelled. Throws Error when no model can be started,
// with the reason ("could not find an initial pair: ...").
MapperResult runIncrementalMapper(
    const SfmInput& input, const MapperOptions& options,
    const std::function<void(const MapperProgress&, const Reconstruction&)>& observer);

// Geometry helpers, also used by evaluation and tests.
// Linear triangulation from two views (normalised image rays and poses).
Eigen::Vector3d triangulatePoint(const Rigid3d& cam1_from_world, const Rigid3d& cam2_from_world,
                                 const Eigen::Vector2d& ray1, const Eigen::Vector2d& ray2);
// Angle at the point between the rays from two camera centres, in radians.
double triangulationAngle(const Eigen::Vector3d& center1, const Eigen::Vector3d& center2,
                          const Eigen::Vector3d& point);

}  // namespace parallax
