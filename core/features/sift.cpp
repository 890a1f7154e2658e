#include "features/sift.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

namespace parallax {
namespace {

// Scales a normalised descriptor to bytes the way COLMAP does (x512, clamp at 255).
uint8_t toByte(float v) { return uint8_t(std::min(255.f, std::round(std::max(0.f, v) * 512.f))); }

}  // namespace

SiftFeatures extractSift(const cv::Mat& gray, const SiftOptions& o) {
  CV_Assert(gray.type() == CV_8UC1);
  const int longest = std::max(gray.cols, gray.rows);
  const double scale = longest > o.max_image_size ? double(o.max_image_size) / longest : 1.0;
  cv::Mat work = gray;
  if (scale < 1.0) cv::resize(gray, work, cv::Size(), scale, scale, cv::INTER_AREA);

  std::vector<cv::KeyPoint> keypoints;
  cv::Mat descriptors;
  if (!o.upright) {
    // One pass over the scale space: OpenCV keeps the strongest `max_num_features`
    // responses before computing their descriptors.
    auto sift = cv::SIFT::create(o.max_num_features, 3, o.peak_threshold, o.edge_threshold, 1.6);
    sift->detectAndCompute(work, cv::noArray(), keypoints, descriptors);
    // retainBest keeps ties at the cut; honour the limit exactly, strongest first.
    if (int(keypoints.size()) > o.max_num_features) {
      std::vector<int> order(keypoints.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return keypoints[size_t(a)].response > keypoints[size_t(b)].response;
      });
      order.resize(size_t(o.max_num_features));
      std::vector<cv::KeyPoint> kept;
      cv::Mat keptDescriptors(int(order.size()), descriptors.cols, descriptors.type());
      for (size_t k = 0; k < order.size(); ++k) {
        kept.push_back(keypoints[size_t(order[k])]);
        descriptors.row(order[k]).copyTo(keptDescriptors.row(int(k)));
      }
      keypoints = std::move(kept);
      descriptors = keptDescriptors;
    }
  } else {
    auto sift = cv::SIFT::create(0, 3, o.peak_threshold, o.edge_threshold, 1.6);
    sift->detect(work, keypoints);
    // Orientation assignment makes duplicates at one location; upright keeps one each.
    for (auto& k : keypoints) k.angle = 0.f;
    std::sort(keypoints.begin(), keypoints.end(), [](const cv::KeyPoint& a, const cv::KeyPoint& b) {
      return std::tie(a.pt.x, a.pt.y, a.size) < std::tie(b.pt.x, b.pt.y, b.size);
    });
    keypoints.erase(std::unique(keypoints.begin(), keypoints.end(),
                                [](const cv::KeyPoint& a, const cv::KeyPoint& b) {
                                  return a.pt == b.pt && a.size == b.size;
                                }),
                    keypoints.end());
    // Keep the strongest (largest response) up to the limit.
    if (int(keypoints.size()) > o.max_num_features) {
      std::nth_element(
          keypoints.begin(), keypoints.begin() + o.max_num_features, keypoints.end(),
          [](const cv::KeyPoint& a, const cv::KeyPoint& b) { return a.response > b.response; });
      keypoints.resize(size_t(o.max_num_features));
    }
    sift->compute(work, keypoints, descriptors);
  }

  SiftFeatures out;
  out.keypoints.reserve(keypoints.size());
  const float inv = float(1.0 / scale);
  for (const auto& k : keypoints) {
    // OpenCV puts pixel centres at integers, COLMAP at +0.5; undo the downscale.
    const float x = (k.pt.x + 0.5f) * inv, y = (k.pt.y + 0.5f) * inv;
    const float s = 0.5f * k.size * inv;
    const float a =
        -k.angle * float(CV_PI / 180.0);  // OpenCV angles turn clockwise in image coordinates
    out.keypoints.push_back(
        {x, y, s * std::cos(a), -s * std::sin(a), s * std::sin(a), s * std::cos(a)});
  }
  out.descriptors.rows = descriptors.rows;
  out.descriptors.cols = 128;
  out.descriptors.data.resize(size_t(descriptors.rows) * 128);
  for (int r = 0; r < descriptors.rows; ++r) {
    const float* d = descriptors.ptr<float>(r);
    uint8_t* dst = out.descriptors.data.data() + size_t(r) * 128;
    if (o.root_sift) {
      // RootSIFT (Arandjelovic & Zisserman): L1-normalise, then square root: unit L2 norm.
      const float l1 =
          std::accumulate(d, d + 128, 0.f, [](float acc, float v) { return acc + std::abs(v); });
      for (int c = 0; c < 128; ++c) dst[c] = toByte(l1 > 0 ? std::sqrt(std::abs(d[c]) / l1) : 0.f);
    } else {
      float l2 = 0;
      for (int c = 0; c < 128; ++c) l2 += d[c] * d[c];
      l2 = std::sqrt(l2);
      for (int c = 0; c < 128; ++c) dst[c] = toByte(l2 > 0 ? d[c] / l2 : 0.f);
    }
  }
  return out;
}

}  // namespace parallax
