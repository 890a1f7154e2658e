#include "geometry/camera.h"

#include <Eigen/LU>
#include <Eigen/QR>

#include "geometry/camera_models.h"
#include "util/error.h"

namespace parallax {

const std::vector<CameraModelInfo>& cameraModels() {
  static const std::vector<CameraModelInfo> models = {
      {0, "SIMPLE_PINHOLE", 3, "f, cx, cy"},
      {1, "PINHOLE", 4, "fx, fy, cx, cy"},
      {2, "SIMPLE_RADIAL", 4, "f, cx, cy, k"},
      {3, "RADIAL", 5, "f, cx, cy, k1, k2"},
      {4, "OPENCV", 8, "fx, fy, cx, cy, k1, k2, p1, p2"},
      {5, "OPENCV_FISHEYE", 8, "fx, fy, cx, cy, k1, k2, k3, k4"},
      {6, "FULL_OPENCV", 12, "fx, fy, cx, cy, k1, k2, p1, p2, k3, k4, k5, k6"},
      {7, "FOV", 5, "fx, fy, cx, cy, omega"},
      {8, "SIMPLE_RADIAL_FISHEYE", 4, "f, cx, cy, k"},
      {9, "RADIAL_FISHEYE", 5, "f, cx, cy, k1, k2"},
      {10, "THIN_PRISM_FISHEYE", 12, "fx, fy, cx, cy, k1, k2, p1, p2, k3, k4, sx1, sy1"},
  };
  return models;
}

const CameraModelInfo& cameraModelById(int id) {
  for (const auto& m : cameraModels())
    if (m.id == id) return m;
  throw Error("unknown camera model id " + std::to_string(id) + " (COLMAP ids are 0 to 10)");
}

const CameraModelInfo& cameraModelByName(const std::string& name) {
  for (const auto& m : cameraModels())
    if (name == m.name) return m;
  throw Error("unknown camera model '" + name + "' (expected a COLMAP model name such as PINHOLE)");
}

static bool singleFocal(int model) {
  return model == 0 || model == 2 || model == 3 || model == 8 || model == 9;
}

double Camera::focalX() const { return params.at(0); }
double Camera::focalY() const { return singleFocal(model_id) ? params.at(0) : params.at(1); }
double Camera::principalX() const { return singleFocal(model_id) ? params.at(1) : params.at(2); }
double Camera::principalY() const { return singleFocal(model_id) ? params.at(2) : params.at(3); }
std::string Camera::modelName() const { return cameraModelById(model_id).name; }

Eigen::Vector2d Camera::imgFromCam(const Eigen::Vector3d& x_cam) const {
  const double u = x_cam.x() / x_cam.z(), v = x_cam.y() / x_cam.z();
  Eigen::Vector2d xy;
  switch (model_id) {
    case kSimplePinhole: CameraModel<kSimplePinhole>::project(params.data(), u, v, xy.data()); break;
    case kPinhole: CameraModel<kPinhole>::project(params.data(), u, v, xy.data()); break;
    case kSimpleRadial: CameraModel<kSimpleRadial>::project(params.data(), u, v, xy.data()); break;
    case kRadial: CameraModel<kRadial>::project(params.data(), u, v, xy.data()); break;
    case kOpenCV: CameraModel<kOpenCV>::project(params.data(), u, v, xy.data()); break;
    default:  // the fisheye models: pinhole part only, as before
      xy = {focalX() * u + principalX(), focalY() * v + principalY()};
  }
  return xy;
}

Eigen::Vector3d Camera::camFromImg(const Eigen::Vector2d& p) const {
  const Eigen::Vector2d distorted((p.x() - principalX()) / focalX(),
                                  (p.y() - principalY()) / focalY());
  if (model_id != kSimpleRadial && model_id != kRadial && model_id != kOpenCV)
    return {distorted.x(), distorted.y(), 1.0};
  // Invert the distortion by fixed-point iteration (converges for the mild distortion of
  // photographic lenses; COLMAP iterates the same way).
  Eigen::Vector2d u = distorted;
  for (int i = 0; i < 100; ++i) {
    const Eigen::Vector3d ray(u.x(), u.y(), 1.0);
    const Eigen::Vector2d projected = imgFromCam(ray);
    const Eigen::Vector2d d((projected.x() - principalX()) / focalX(),
                            (projected.y() - principalY()) / focalY());
    const Eigen::Vector2d step = distorted - d;
    u += step;
    if (step.squaredNorm() < 1e-20) break;
  }
  return {u.x(), u.y(), 1.0};
}

Camera Camera::pinhole(int width, int height, double fx, double fy, double cx, double cy) {
  Camera c;
  c.model_id = kPinhole;
  c.width = width;
  c.height = height;
  c.params = {fx, fy, cx, cy};
  return c;
}

Camera Camera::simpleRadial(int width, int height, double f, double cx, double cy, double k) {
  Camera c;
  c.model_id = kSimpleRadial;
  c.width = width;
  c.height = height;
  c.params = {f, cx, cy, k};
  return c;
}

void splitProjectionMatrix(const Eigen::Matrix<double, 3, 4>& P0, Eigen::Matrix3d& K, Eigen::Matrix3d& R,
                           Eigen::Vector3d& t) {
  // det(K R) > 0 for a positive diagonal and a rotation: a negative scale is undone first.
  const Eigen::Matrix<double, 3, 4> P = P0.leftCols<3>().determinant() < 0 ? Eigen::Matrix<double, 3, 4>(-P0) : P0;
  // RQ of the left 3x3 through QR of its row-flipped transpose.
  const Eigen::Matrix3d M = P.leftCols<3>();
  Eigen::Matrix3d flip;
  flip << 0, 0, 1, 0, 1, 0, 1, 0, 0;
  const Eigen::HouseholderQR<Eigen::Matrix3d> qr((flip * M).transpose());
  const Eigen::Matrix3d Q = qr.householderQ();
  const Eigen::Matrix3d U = qr.matrixQR().triangularView<Eigen::Upper>();
  K = flip * U.transpose() * flip;
  R = flip * Q.transpose();
  for (int k = 0; k < 3; ++k)
    if (K(k, k) < 0) {
      K.col(k) *= -1;
      R.row(k) *= -1;
    }
  t = K.inverse() * P.col(3);
  K /= K(2, 2);
}

}  // namespace parallax
