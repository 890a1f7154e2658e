#include "geometry/rigid3d.h"

namespace parallax {

Rigid3d lookAtCamFromWorld(const Eigen::Vector3d& center, const Eigen::Vector3d& target,
                           const Eigen::Vector3d& up) {
  Eigen::Vector3d z = (target - center).normalized();
  Eigen::Vector3d x = z.cross(up).normalized();  // right
  Eigen::Vector3d y = z.cross(x);                // down
  Eigen::Matrix3d world_from_cam_rotation;
  world_from_cam_rotation << x, y, z;
  Eigen::Matrix3d cam_from_world_rotation = world_from_cam_rotation.transpose();
  Eigen::Quaterniond q(cam_from_world_rotation);
  q.normalize();
  return {q, -(cam_from_world_rotation * center)};
}

}  // namespace parallax
