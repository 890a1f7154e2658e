#include "segment/image_segmenter.h"

#include <cmath>

namespace parallax {

void addViewVotes(const PointCloud& cloud, const std::vector<uint32_t>& seen, const MvsView& view,
                  const ImageLabels& labels, size_t classes, std::vector<float>& votes) {
  if (labels.width <= 0 || labels.height <= 0 || view.width <= 0 || view.height <= 0) return;
  // View pixels have their centres at integer coordinates; so do the label map's.
  const double sx = double(labels.width) / view.width, sy = double(labels.height) / view.height;
  for (uint32_t i : seen) {
    const Eigen::Vector3d pc = view.R * cloud.points[i].cast<double>() + view.t;
    if (pc.z() <= 0) continue;
    const Eigen::Vector3d px = view.K * (pc / pc.z());
    const long u = std::lround((px.x() + 0.5) * sx - 0.5), v = std::lround((px.y() + 0.5) * sy - 0.5);
    if (u < 0 || v < 0 || u >= labels.width || v >= labels.height) continue;
    const size_t k = size_t(v) * size_t(labels.width) + size_t(u);
    const int32_t l = labels.labels[k];
    if (l < 0 || size_t(l) >= classes) continue;
    votes[size_t(i) * classes + size_t(l)] += labels.confidence.empty() ? 1.f : labels.confidence[k];
  }
}

std::vector<int32_t> labelsFromVotes(const std::vector<float>& votes, size_t classes,
                                     std::vector<float>* share) {
  const size_t n = classes ? votes.size() / classes : 0;
  std::vector<int32_t> out(n, -1);
  if (share) share->assign(n, 0.f);
  for (size_t i = 0; i < n; ++i) {
    const float* v = &votes[i * classes];
    float best = 0, sum = 0;
    for (size_t c = 0; c < classes; ++c) {
      sum += v[c];
      if (v[c] > best) best = v[c], out[i] = int32_t(c);
    }
    if (share && sum > 0) (*share)[i] = best / sum;
  }
  return out;
}

}  // namespace parallax
