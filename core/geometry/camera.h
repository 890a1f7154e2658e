// Camera intrinsics with COLMAP's model ids, names and parameter orders.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace parallax {

struct CameraModelInfo {
  int id;
  const char* name;
  int num_params;
  const char* param_names;
};

// COLMAP's models 0..10 (SIMPLE_PINHOLE .. THIN_PRISM_FISHEYE).
const std::vector<CameraModelInfo>& cameraModels();
const CameraModelInfo& cameraModelById(int id);  // throws Error for an unknown id
const CameraModelInfo& cameraModelByName(const std::string& name);

enum CameraModelId : int {
  kSimplePinhole = 0,
  kPinhole = 1,
  kSimpleRadial = 2,
  kRadial = 3,
  kOpenCV = 4,
};

struct Camera {
  uint32_t camera_id = 0;
  int model_id = kSimpleRadial;
  int width = 0;
  int height = 0;
  std::vector<double> params;
  bool has_prior_focal_length = false;

  double focalX() const;
  double focalY() const;
  double principalX() const;
  double principalY() const;
  // Projects a point in camera coordinates (z forward) to pixels, with distortion
  // for SIMPLE_RADIAL, RADIAL and OPENCV. Pixel centre convention: COLMAP's (0.5 = centre of first
  // pixel).
  Eigen::Vector2d imgFromCam(const Eigen::Vector3d& x_cam) const;
  // Inverse of imgFromCam (distortion removed iteratively); ray direction with z = 1.
  Eigen::Vector3d camFromImg(const Eigen::Vector2d& pixel) const;
  std::string modelName() const;

  static Camera pinhole(int width, int height, double fx, double fy, double cx, double cy);
  static Camera simpleRadial(int width, int height, double f, double cx, double cy, double k);
};

// A projection matrix P = s K [R | t] (any scale s) split by RQ decomposition: K upper
// triangular with a positive diagonal and K(2,2) = 1, R a rotation (world to camera), t.
void splitProjectionMatrix(const Eigen::Matrix<double, 3, 4>& P, Eigen::Matrix3d& K, Eigen::Matrix3d& R,
                           Eigen::Vector3d& t);

}  // namespace parallax
