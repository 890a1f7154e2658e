// Keypoints, descriptors, matches and two-view geometries in COLMAP's layout: what
// feature extraction and matching produce and the database (io/database.h) stores.
#pragma once

#include <Eigen/Geometry>
#include <cstdint>
#include <utility>
#include <vector>

namespace parallax {

// COLMAP's keypoint layout: x, y (pixel centres at +0.5) and the affine shape a11 a12 a21 a22.
struct FeatureKeypoint {
  float x = 0, y = 0;
  float a11 = 1, a12 = 0, a21 = 0, a22 = 1;
  float scale() const;
  float orientation() const;
};

// Descriptors of one photo, row-major rows x cols. SIFT: uint8 in `data` (COLMAP's
// format: unit vectors scaled by 512). Learned features: unit-length
// float32 in `values`; the database keeps those in parallax_descriptors, not in
// COLMAP's descriptors table, so readers that expect SIFT never see them.
struct FeatureDescriptors {
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> data;
  std::vector<float> values;
  bool isFloat() const { return !values.empty(); }
};

using FeatureMatches =
    std::vector<std::pair<uint32_t, uint32_t>>;  // (index in image 1, index in image 2)

// COLMAP's TwoViewGeometry::ConfigurationType values.
enum TwoViewConfig : int {
  kUndefined = 0,
  kDegenerate = 1,
  kCalibrated = 2,
  kUncalibrated = 3,
  kPlanar = 4,
  kPanoramic = 5,
  kPlanarOrPanoramic = 6,
};

struct TwoViewGeometry {
  int config = kUndefined;
  FeatureMatches inliers;
  Eigen::Matrix3d F = Eigen::Matrix3d::Zero(), E = Eigen::Matrix3d::Zero(),
                  H = Eigen::Matrix3d::Zero();
  Eigen::Quaterniond cam2_from_cam1_rotation = Eigen::Quaterniond::Identity();
  Eigen::Vector3d cam2_from_cam1_translation = Eigen::Vector3d::Zero();
};

}  // namespace parallax
