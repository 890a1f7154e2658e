// One photo's features with the features stage's parameters: SIFT (core), or a
// learned extractor a plugin registered as a features method. Shared by the features
// stage and `parallax-cli evaluate-features`.
#pragma once

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>

#include "features/sift.h"

namespace parallax {

struct PhotoFeatures {
  std::vector<FeatureKeypoint> keypoints;  // full-resolution pixels, COLMAP's convention
  FeatureDescriptors descriptors;
  std::string type;  // as recorded in the database: "rootsift", or a learned method's type
};

// `image`: 8-bit grey or BGR at full resolution. Photos larger than
// params.max_image_size are downscaled first; keypoints are returned in full-resolution
// pixels. Learned extractors use every core; call them for one photo at a time.
PhotoFeatures extractPhotoFeatures(const std::string& method, const cv::Mat& image,
                                   const nlohmann::json& params);

SiftOptions siftOptionsFromParams(const nlohmann::json& params);

}  // namespace parallax
