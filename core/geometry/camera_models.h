// Pixel projection of a camera-frame point for the COLMAP models Parallax
// estimates, written once for doubles and Ceres Jets: Camera::imgFromCam and
// bundle adjustment share it. Parameter order as COLMAP's (camera.h).
#pragma once

#include "geometry/camera.h"

namespace parallax {

template <int ModelId>
struct CameraModel;

template <>
struct CameraModel<kSimplePinhole> {
  static constexpr int kNumParams = 3;
  template <typename T>
  static void project(const T* p, T u, T v, T* xy) {
    xy[0] = p[0] * u + p[1];
    xy[1] = p[0] * v + p[2];
  }
};

template <>
struct CameraModel<kPinhole> {
  static constexpr int kNumParams = 4;
  template <typename T>
  static void project(const T* p, T u, T v, T* xy) {
    xy[0] = p[0] * u + p[2];
    xy[1] = p[1] * v + p[3];
  }
};

template <>
struct CameraModel<kSimpleRadial> {
  static constexpr int kNumParams = 4;
  template <typename T>
  static void project(const T* p, T u, T v, T* xy) {
    const T radial = T(1) + p[3] * (u * u + v * v);
    xy[0] = p[0] * u * radial + p[1];
    xy[1] = p[0] * v * radial + p[2];
  }
};

template <>
struct CameraModel<kRadial> {
  static constexpr int kNumParams = 5;
  template <typename T>
  static void project(const T* p, T u, T v, T* xy) {
    const T r2 = u * u + v * v;
    const T radial = T(1) + p[3] * r2 + p[4] * r2 * r2;
    xy[0] = p[0] * u * radial + p[1];
    xy[1] = p[0] * v * radial + p[2];
  }
};

template <>
struct CameraModel<kOpenCV> {
  static constexpr int kNumParams = 8;
  template <typename T>
  static void project(const T* p, T u, T v, T* xy) {
    const T uu = u * u, vv = v * v, uv = u * v, r2 = uu + vv;
    const T radial = p[4] * r2 + p[5] * r2 * r2;
    const T du = u * radial + T(2) * p[6] * uv + p[7] * (r2 + T(2) * uu);
    const T dv = v * radial + T(2) * p[7] * uv + p[6] * (r2 + T(2) * vv);
    xy[0] = p[0] * (u + du) + p[2];
    xy[1] = p[1] * (v + dv) + p[3];
  }
};

}  // namespace parallax
