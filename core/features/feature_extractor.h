// The interface of a learned feature extractor: a plugin registers one as a method
// of the features stage (MethodRegistry, kind FeatureExtractor), so the features
// stage and matching in core use it without LibTorch.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/database.h"
#include "scene/rgb_image.h"

namespace parallax {

struct ExtractedFeatures {
  // COLMAP's convention (pixel centres at +0.5), in the pixels of the image given.
  std::vector<FeatureKeypoint> keypoints;
  std::vector<float> scores;       // detector score per keypoint
  FeatureDescriptors descriptors;  // float, unit length, one row per keypoint
};

struct FeatureExtractor {
  // Keypoints and descriptors of one photo, at most params.max_num_features of them,
  // strongest first. Runs on every core (intra-op threads); call it for one photo at a time.
  std::function<ExtractedFeatures(const RgbImage& image, const nlohmann::json& params)> extract;
  // Type recorded with the features in the database: the method's name, or the name,
  // a dash and a variant ("alike-n"), so that matching finds the method again.
  std::function<std::string(const nlohmann::json& params)> type;
  // The ratio test matching applies to these descriptors, from the matching stage's
  // parameters (a method may add its own to that stage).
  std::function<double(const nlohmann::json& matchingParams)> matchRatio;
};

// The extractor registered as features.<method>, or nullptr (SIFT is core's own).
const FeatureExtractor* findFeatureExtractor(const std::string& method);

}  // namespace parallax
