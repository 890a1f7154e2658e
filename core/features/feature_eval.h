// How well a feature type finds the same points and matches them correctly, measured
// without any upstream code: real photos warped by known random homographies (with a
// change of brightness and contrast), as HPatches' viewpoint sequences are, then
// repeatability and mean matching accuracy (MMA) at 1/3/5 px, the measures of
// SuperPoint, D2-Net and ALIKE.
#pragma once

#include <map>
#include <random>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "features/matching.h"

namespace parallax {

struct WarpEvalOptions {
  int pairs = 20;             // warped copies, spread over the photos given
  unsigned seed = 1;
  int max_image_size = 640;   // photos are first downscaled to this longest side
  // HPatches-like: viewpoint (perspective, some rotation and scale) and illumination.
  double max_rotation_deg = 20.0;
  double min_scale = 0.7, max_scale = 1.4;
  double max_corner_shift = 0.15;  // perspective: corners moved by up to this share of the size
  double min_gain = 0.6, max_gain = 1.4;    // brightness factor
  double min_gamma = 0.6, max_gamma = 1.6;  // contrast curve
  double repeat_px = 3.0;         // repeatability: a keypoint with one of the other's this close
};

struct WarpEvalResult {
  std::string method, type;
  int pairs = 0;
  double mean_keypoints = 0;   // per image
  double repeatability = 0;    // mean over pairs
  // HPatches' protocol, the same for every feature type: mutual nearest neighbours, no
  // other test. threshold px -> mean over pairs of correct / matches.
  std::map<int, double> mma;
  double mean_matches = 0;  // mutual nearest neighbours per pair
  double mean_correct3 = 0;  // of which correct within 3 px, per pair
  // The matching stage's matcher for this feature type (ratio test, thresholds):
  double pipeline_matches = 0;     // per pair
  double pipeline_precision3 = 0;  // share correct within 3 px, mean over pairs
  double extract_ms = 0;       // mean per image (both images of each pair)
};

// A random homography for a w x h image: rotation and scale about its centre, then
// perspective (corners moved). Exposed for tests.
cv::Matx33d randomHomography(int width, int height, const WarpEvalOptions& options,
                             std::mt19937& rng);

// `photos`: 8-bit BGR images. `featureParams` are the features stage's (method set by
// `method`), `pipelineMatch` the matching stage's options for this feature type.
WarpEvalResult evaluateOnWarps(const std::vector<cv::Mat>& photos, const std::string& method,
                               const nlohmann::json& featureParams,
                               const MatchOptions& pipelineMatch, const WarpEvalOptions& options);

}  // namespace parallax
