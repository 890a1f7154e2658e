// The interface of a learned point-cloud segmenter: a plugin registers one as a
// method of the segment stage (MethodRegistry, kind PointSegmenter), so the segment
// stage in core uses it without LibTorch.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scene/geometry_data.h"
#include "scene/labels.h"

namespace parallax {

struct PointSegmenter {
  LabelTable classes;  // the labels it gives
  // A label per point of `metric`, a cloud in metres with z up and its lowest point at
  // z = 0 (toMetricZUp); `progress(done, total)` after each piece of work.
  std::function<std::vector<int32_t>(const PointCloud& metric, const nlohmann::json& params,
                                     const std::function<void(size_t, size_t)>& progress)>
      segment;
};


// `cloud` rotated so that `up` becomes +z, scaled by `metresPerUnit`, and shifted so
// that its lowest point (2% quantile per axis, so that strays do not count) is at 0.
PointCloud toMetricZUp(const PointCloud& cloud, const Eigen::Vector3f& up, double metresPerUnit);

}  // namespace parallax
