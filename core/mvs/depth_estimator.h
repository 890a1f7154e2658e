// Learned depth estimators register here (from plugins: mvs.patchmatchnet), so
// the mvs stage in core can use them without knowing LibTorch.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "mvs/dense_scene.h"

namespace parallax {

struct DepthEstimator {
  std::string name;  // "patchmatchnet"
  // Throws Error naming the missing or corrupt weight file and where to get it.
  std::function<void()> check;
  // Depth and confidence for views[ref] from views[ref].sources (images loaded);
  // `params` are the mvs stage's. Depth 0 where there is no estimate.
  std::function<DepthMap(const std::vector<MvsView>& views, int ref, const nlohmann::json& params)>
      estimate;
};

void registerDepthEstimator(DepthEstimator estimator);
const DepthEstimator* findDepthEstimator(const std::string& name);

}  // namespace parallax
