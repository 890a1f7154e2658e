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
};

}  // namespace parallax
