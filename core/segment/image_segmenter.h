// The interface of a learned photo segmenter: a plugin registers one as a method of
// the segment stage (MethodRegistry, kind ImageSegmenter), so the segment stage in core
// labels the dense cloud from the photos without LibTorch:
// each photo's labels are carried to the points that photo sees (fused.ply.vis) by a
// confidence-weighted vote.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mvs/dense_scene.h"
#include "scene/geometry_data.h"
#include "scene/rgb_image.h"
#include "scene/labels.h"

namespace parallax {

// Per-pixel labels of a photo and the network's confidence in each (0..1), at the
// network's resolution (width x height; the photo scaled to it).
struct ImageLabels {
  int width = 0, height = 0;
  std::vector<int32_t> labels;
  std::vector<float> confidence;
};

struct ImageSegmenter {
  std::function<LabelTable(const nlohmann::json& params)> classes;
  std::function<ImageLabels(const RgbImage& photo, const nlohmann::json& params)> segment;
};


// Adds one view's votes to `votes` (classes per point): each point of `seen` takes the
// label under its projection into `view`, weighted by the confidence there.
void addViewVotes(const PointCloud& cloud, const std::vector<uint32_t>& seen, const MvsView& view,
                  const ImageLabels& labels, size_t classes, std::vector<float>& votes);
// The label with the most votes per point (-1: none); `share` receives the winning
// share of each point's votes when given.
std::vector<int32_t> labelsFromVotes(const std::vector<float>& votes, size_t classes,
                                     std::vector<float>* share = nullptr);

}  // namespace parallax
