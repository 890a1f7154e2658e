// SIFT keypoints and descriptors (OpenCV) in COLMAP's conventions: keypoints as
// x, y with pixel centres at +0.5 plus an affine shape; descriptors as 128
// uint8 values (L2 or RootSIFT normalised, scaled by 512 and clamped, as COLMAP).
#pragma once

#include <opencv2/core.hpp>

#include "io/database.h"

namespace parallax {

struct SiftOptions {
  int max_image_size = 3200;  // longest side; larger images are downscaled first
  int max_num_features = 8192;
  double peak_threshold = 0.02;  // OpenCV's contrastThreshold
  double edge_threshold = 10.0;
  bool root_sift = true;
  bool upright = false;  // one descriptor per keypoint at orientation 0 (no rotation invariance)
};

struct SiftFeatures {
  std::vector<FeatureKeypoint> keypoints;
  FeatureDescriptors descriptors;
};

// `gray` is an 8-bit single-channel image at full resolution.
SiftFeatures extractSift(const cv::Mat& gray, const SiftOptions& options);

}  // namespace parallax
