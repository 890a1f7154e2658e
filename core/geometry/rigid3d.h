// Rigid transforms named by the frames they map between, COLMAP style:
// `cam_from_world * x_world = x_cam`.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>

namespace parallax {

struct Rigid3d {
  Eigen::Quaterniond rotation = Eigen::Quaterniond::Identity();
  Eigen::Vector3d translation = Eigen::Vector3d::Zero();

  Rigid3d() = default;
  Rigid3d(const Eigen::Quaterniond& r, const Eigen::Vector3d& t) : rotation(r), translation(t) {}

  Eigen::Vector3d operator*(const Eigen::Vector3d& x) const { return rotation * x + translation; }
  Rigid3d operator*(const Rigid3d& other) const {
    return {rotation * other.rotation, rotation * other.translation + translation};
  }
  Rigid3d inverse() const {
    Eigen::Quaterniond inv = rotation.conjugate();
    return {inv, -(inv * translation)};
  }
  Eigen::Matrix<double, 3, 4> matrix() const {
    Eigen::Matrix<double, 3, 4> m;
    m.leftCols<3>() = rotation.toRotationMatrix();
    m.col(3) = translation;
    return m;
  }
};

// Camera pose looking from `center` at `target` with OpenCV axes (x right, y down, z forward).
Rigid3d lookAtCamFromWorld(const Eigen::Vector3d& center, const Eigen::Vector3d& target,
                           const Eigen::Vector3d& up);

}  // namespace parallax
