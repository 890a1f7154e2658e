// A sparse model in COLMAP's terms: cameras (intrinsics), images (poses and 2D
// observations) and 3D points with tracks. This is what sparse/N/ holds.
#pragma once

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "geometry/camera.h"
#include "geometry/rigid3d.h"

namespace parallax {

constexpr uint64_t kInvalidPoint3DId = std::numeric_limits<uint64_t>::max();

struct Point2D {
  Eigen::Vector2d xy = Eigen::Vector2d::Zero();
  uint64_t point3D_id = kInvalidPoint3DId;
};

struct Image {
  uint32_t image_id = 0;
  std::string name;
  uint32_t camera_id = 0;
  Rigid3d cam_from_world;
  std::vector<Point2D> points2D;

  Eigen::Vector3d projectionCenter() const { return cam_from_world.inverse().translation; }
};

struct TrackElement {
  uint32_t image_id = 0;
  uint32_t point2D_idx = 0;
};

struct Point3D {
  Eigen::Vector3d xyz = Eigen::Vector3d::Zero();
  std::array<uint8_t, 3> color{{0, 0, 0}};
  double error = -1.0;
  std::vector<TrackElement> track;
};

struct Reconstruction {
  std::map<uint32_t, Camera> cameras;
  std::map<uint32_t, Image> images;
  std::map<uint64_t, Point3D> points3D;

  // Throws Error naming the first inconsistency (an image without its camera,
  // a track pointing at a missing image or observation).
  void checkConsistency() const;

  // Distance in pixels between an observation and its point's projection (infinite
  // when the point is behind the camera).
  double observationError(const Point3D& point, const TrackElement& observation) const;
};

// What the statistics panel shows of a model.
struct ModelStatistics {
  size_t registered_images = 0;
  size_t num_points = 0;
  size_t num_observations = 0;
  double mean_track_length = 0;
  double mean_error_px = 0;    // over all observations
  double median_error_px = 0;
  double error_bin_px = 0.25;  // histogram bin width
  std::vector<size_t> error_histogram;         // last bin: this error and above
  std::vector<size_t> track_length_histogram;  // [k]: points seen by k photos; last: and more
};

ModelStatistics modelStatistics(const Reconstruction& model, double error_bin_px = 0.25,
                                int error_bins = 16, int max_track_length = 12);

}  // namespace parallax
