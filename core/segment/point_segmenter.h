// Learned point-cloud segmenters register here (from plugins: segment.dgcnn), so the
// segment stage in core can use them without LibTorch.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scene/geometry_data.h"
#include "segment/labels.h"

namespace parallax {

struct PointSegmenter {
  std::string name;    // the segment stage's method: "dgcnn"
  std::string plugin;  // the library that provides it, for messages: "segment_dgcnn"
  LabelTable classes;  // the labels it gives
  // Throws Error naming the missing or corrupt weight file and where to get it.
  std::function<void(const nlohmann::json& params)> check;
  // A label per point of `metric`, a cloud in metres with z up and its lowest point at
  // z = 0 (toMetricZUp); `progress(done, total)` after each piece of work.
  std::function<std::vector<int32_t>(const PointCloud& metric, const nlohmann::json& params,
                                     const std::function<void(size_t, size_t)>& progress)>
      segment;
};

void registerPointSegmenter(PointSegmenter segmenter);
const PointSegmenter* findPointSegmenter(const std::string& name);

// `cloud` rotated so that `up` becomes +z, scaled by `metresPerUnit`, and shifted so
// that its lowest point (2% quantile per axis, so that strays do not count) is at 0.
PointCloud toMetricZUp(const PointCloud& cloud, const Eigen::Vector3f& up, double metresPerUnit);

}  // namespace parallax
