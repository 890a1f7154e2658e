// Learned feature extractors register here (from plugins: features.alike,
// features.xfeat), so the features stage in core can use them without LibTorch.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/database.h"

namespace parallax {

// An 8-bit RGB photo, row-major, 3 bytes per pixel (no OpenCV across the plugin boundary).
struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

struct ExtractedFeatures {
  // COLMAP's convention (pixel centres at +0.5), in the pixels of the image given.
  std::vector<FeatureKeypoint> keypoints;
  std::vector<float> scores;       // detector score per keypoint
  FeatureDescriptors descriptors;  // float, unit length, one row per keypoint
};

struct FeatureExtractor {
  std::string name;  // the features stage's method: "alike", "xfeat"
  // Throws Error naming the missing or corrupt weight file and where to get it;
  // `params` are the features stage's (e.g. which ALIKE variant).
  std::function<void(const nlohmann::json& params)> check;
  // Keypoints and descriptors of one photo, at most params.max_num_features of them,
  // strongest first. Runs on every core (intra-op threads); call it for one photo at a time.
  std::function<ExtractedFeatures(const RgbImage& image, const nlohmann::json& params)> extract;
  // Type recorded with the features in the database ("alike-n", "xfeat").
  std::function<std::string(const nlohmann::json& params)> type;
};

void registerFeatureExtractor(FeatureExtractor extractor);
const FeatureExtractor* findFeatureExtractor(const std::string& name);

}  // namespace parallax
