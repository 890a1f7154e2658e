// segment.geometric: labels from geometry alone, no weights (always available).
// RANSAC planes (Open3D), each split into connected pieces; the large ones become
// ground (lowest level plane), ceiling (a level plane above the rest) and walls
// (upright planes spanning much of the scene's height); what is left is clustered
// (DBSCAN) into objects, and what joins no cluster is noise.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <optional>
#include <vector>

#include "scene/geometry_data.h"
#include "scene/reconstruction.h"
#include "scene/labels.h"

namespace parallax {

enum GeometricClass : int32_t { kGround = 0, kWall = 1, kCeiling = 2, kObject = 3, kNoise = 4 };
LabelTable geometricLabelTable();

struct GeometricSegmentOptions {
  double plane_distance = 3.0;     // RANSAC inlier distance, in median point spacings
  int max_planes = 12;             // planes tried
  double min_plane_share = 0.02;   // a plane piece smaller than this share of the cloud is not kept
  double angle_tolerance_deg = 15;  // from level (ground, ceiling) or upright (walls)
  double wall_min_height = 0.4;    // walls span at least this share of the scene's height
  double cluster_distance = 4.0;   // DBSCAN radius, in median point spacings
  int min_cluster_points = 50;     // smaller clusters are noise
  int ransac_iterations = 2000;
  double spacing = 0;              // the cloud's median point spacing when known (0: measured)
  size_t max_points = 500000;      // larger clouds are segmented on a random subset this big,
                                   // the rest taking their nearest subset point's label
  uint32_t seed = 1;
  void check() const;              // throws Error naming an out-of-range option
};

struct GeometricSegmentReport {
  double spacing = 0;
  int planes = 0, walls = 0, objects = 0;
  bool ground = false, ceiling = false;
};

// Labels (GeometricClass) per point of `cloud`; `up` is the scene's up direction (unit).
std::vector<int32_t> segmentGeometric(const PointCloud& cloud, const Eigen::Vector3f& up,
                                      const GeometricSegmentOptions& options,
                                      GeometricSegmentReport* report = nullptr,
                                      const std::function<void(const std::string&)>& progress = {});

// The scene's up direction from the photos: they are mostly taken upright, so the
// cameras' up axes (-y) average to the world's up. Empty without registered photos or
// when they disagree too much (e.g. a turntable seen from every side).
std::optional<Eigen::Vector3f> upFromCameras(const Reconstruction& model);

// The dominant level plane near `up` (within `toleranceDeg`), as (unit normal
// pointing along up, offset d with n.x + d = 0); used to refine up and to measure
// camera heights. Empty when no plane holds `minShare` of the points.
std::optional<Eigen::Vector4f> groundPlane(const PointCloud& cloud, const Eigen::Vector3f& up,
                                           double distance, double toleranceDeg = 30,
                                           double minShare = 0.05, uint32_t seed = 1);

}  // namespace parallax
