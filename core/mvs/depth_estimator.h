// The interface of a learned depth estimator: a plugin registers one as a method of
// the mvs stage (MethodRegistry, kind DepthEstimator), so the mvs stage in core uses
// it without LibTorch.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "mvs/dense_scene.h"

namespace parallax {

struct DepthEstimator {
  // How many source photos it wants per reference photo, from the mvs stage's parameters.
  std::function<int(const nlohmann::json& params)> numSources;
  // Depth and confidence for views[ref] from views[ref].sources (images loaded);
  // `params` are the mvs stage's. Depth 0 where there is no estimate.
  std::function<DepthMap(const std::vector<MvsView>& views, int ref, const nlohmann::json& params)>
      estimate;
};

}  // namespace parallax
