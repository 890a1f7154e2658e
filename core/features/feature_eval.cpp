#include "features/feature_eval.h"

#include <chrono>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "features/extract.h"
#include "util/error.h"

namespace parallax {

cv::Matx33d randomHomography(int w, int h, const WarpEvalOptions& o, std::mt19937& rng) {
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  const double angle = unit(rng) * o.max_rotation_deg * M_PI / 180.0;
  const double scale =
      std::exp(std::log(o.min_scale) + (unit(rng) + 1) / 2 * std::log(o.max_scale / o.min_scale));
  const cv::Point2f centre(float(w) / 2, float(h) / 2);
  std::vector<cv::Point2f> from = {{0, 0}, {float(w), 0}, {float(w), float(h)}, {0, float(h)}};
  std::vector<cv::Point2f> to;
  for (const auto& p : from) {
    const double dx = p.x - centre.x, dy = p.y - centre.y;
    const double x = centre.x + scale * (std::cos(angle) * dx - std::sin(angle) * dy) +
                     unit(rng) * o.max_corner_shift * w;
    const double y = centre.y + scale * (std::sin(angle) * dx + std::cos(angle) * dy) +
                     unit(rng) * o.max_corner_shift * h;
    to.emplace_back(float(x), float(y));
  }
  return cv::Matx33d(cv::getPerspectiveTransform(from, to));
}

namespace {

// COLMAP's keypoint convention (pixel centres at +0.5) is OpenCV's plus 0.5; a homography
// of OpenCV pixel coordinates maps x - 0.5 to H(x - 0.5).
cv::Point2d transfer(const cv::Matx33d& H, const FeatureKeypoint& k) {
  const cv::Vec3d p = H * cv::Vec3d(k.x - 0.5, k.y - 0.5, 1.0);
  return {p[0] / p[2] + 0.5, p[1] / p[2] + 0.5};
}

bool inside(const cv::Point2d& p, int w, int h) {
  return p.x >= 0 && p.y >= 0 && p.x < w && p.y < h;
}

// Share of the keypoints (of each image, where the other image sees them) with a keypoint
// of the other image within `radius` px.
double repeatability(const std::vector<FeatureKeypoint>& a, const std::vector<FeatureKeypoint>& b,
                     const cv::Matx33d& H, int w, int h, double radius) {
  const cv::Matx33d Hinv = H.inv();
  // Buckets of b's keypoints (in b) and of a's (in a) for the nearest-neighbour queries.
  auto bucketsOf = [radius](const std::vector<cv::Point2d>& pts) {
    std::map<std::pair<int, int>, std::vector<cv::Point2d>> g;
    for (const auto& p : pts) g[{int(std::floor(p.x / radius)), int(std::floor(p.y / radius))}].push_back(p);
    return g;
  };
  auto near = [radius](const std::map<std::pair<int, int>, std::vector<cv::Point2d>>& g,
                       const cv::Point2d& p) {
    const int cx = int(std::floor(p.x / radius)), cy = int(std::floor(p.y / radius));
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        auto it = g.find({cx + dx, cy + dy});
        if (it == g.end()) continue;
        for (const auto& q : it->second)
          if (std::hypot(q.x - p.x, q.y - p.y) <= radius) return true;
      }
    return false;
  };
  std::vector<cv::Point2d> pa, pb;
  for (const auto& k : a) pa.emplace_back(k.x, k.y);
  for (const auto& k : b) pb.emplace_back(k.x, k.y);
  const auto ga = bucketsOf(pa), gb = bucketsOf(pb);
  size_t seen = 0, repeated = 0;
  for (const auto& k : a) {
    const cv::Point2d p = transfer(H, k);
    if (!inside(p, w, h)) continue;
    ++seen;
    repeated += near(gb, p);
  }
  for (const auto& k : b) {
    const cv::Point2d p = transfer(Hinv, k);
    if (!inside(p, w, h)) continue;
    ++seen;
    repeated += near(ga, p);
  }
  return seen ? double(repeated) / double(seen) : 0.0;
}

}  // namespace

WarpEvalResult evaluateOnWarps(const std::vector<cv::Mat>& photos, const std::string& method,
                               const nlohmann::json& featureParams, const MatchOptions& match,
                               const WarpEvalOptions& o) {
  if (photos.empty()) throw Error("no photos to warp");
  WarpEvalResult r;
  r.method = method;
  std::mt19937 rng(o.seed);
  std::uniform_real_distribution<double> gain(o.min_gain, o.max_gain),
      logGamma(std::log(o.min_gamma), std::log(o.max_gamma));
  const std::vector<int> thresholds = {1, 3, 5};
  for (int t : thresholds) r.mma[t] = 0;
  double extractSeconds = 0;
  MatchOptions mutualNN;
  mutualNN.cross_check = true;
  mutualNN.max_ratio = 1.0;
  mutualNN.max_distance = 2.0;  // any two unit vectors
  for (int k = 0; k < o.pairs; ++k) {
    // Spread over the photos given (every one when there are fewer than the pairs).
    cv::Mat a = photos[size_t(k) * photos.size() / size_t(std::max(1, o.pairs)) % photos.size()];
    const int longest = std::max(a.cols, a.rows);
    if (longest > o.max_image_size) {
      const double s = double(o.max_image_size) / longest;
      cv::resize(a, a, cv::Size(int(std::lround(a.cols * s)), int(std::lround(a.rows * s))), 0, 0,
                 cv::INTER_AREA);
    }
    const cv::Matx33d H = randomHomography(a.cols, a.rows, o, rng);
    cv::Mat b;
    cv::warpPerspective(a, b, H, a.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT);
    // Illumination: a gamma curve and a gain, saturating like a camera.
    const double gamma = std::exp(logGamma(rng)), factor = gain(rng);
    cv::Mat lut(1, 256, CV_8U);
    for (int v = 0; v < 256; ++v)
      lut.at<uint8_t>(v) = cv::saturate_cast<uint8_t>(255.0 * factor * std::pow(v / 255.0, gamma));
    cv::LUT(b, lut, b);

    const auto t0 = std::chrono::steady_clock::now();
    const PhotoFeatures fa = extractPhotoFeatures(method, a, featureParams);
    const PhotoFeatures fb = extractPhotoFeatures(method, b, featureParams);
    extractSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.type = fa.type;
    r.mean_keypoints += double(fa.keypoints.size() + fb.keypoints.size()) / 2.0;
    r.repeatability += repeatability(fa.keypoints, fb.keypoints, H, a.cols, a.rows, o.repeat_px);

    auto correctWithin = [&](const FeatureMatches& m, double px) {
      size_t n = 0;
      for (const auto& [i, j] : m) {
        const cv::Point2d p = transfer(H, fa.keypoints[i]);
        n += std::hypot(p.x - fb.keypoints[j].x, p.y - fb.keypoints[j].y) <= px;
      }
      return m.empty() ? 0.0 : double(n) / double(m.size());
    };
    const FeatureMatches nn = matchDescriptors(fa.descriptors, fb.descriptors, mutualNN);
    r.mean_matches += double(nn.size());
    for (int t : thresholds) {
      const double share = correctWithin(nn, t);
      r.mma[t] += share;
      if (t == 3) r.mean_correct3 += share * double(nn.size());
    }
    const FeatureMatches m = matchDescriptors(fa.descriptors, fb.descriptors, match);
    r.pipeline_matches += double(m.size());
    r.pipeline_precision3 += correctWithin(m, 3.0);
  }
  r.pairs = o.pairs;
  const double n = std::max(1, o.pairs);
  r.mean_keypoints /= n, r.repeatability /= n, r.mean_matches /= n, r.mean_correct3 /= n;
  r.pipeline_matches /= n, r.pipeline_precision3 /= n;
  for (auto& [t, v] : r.mma) v /= n;
  r.extract_ms = 1000.0 * extractSeconds / (2.0 * n);
  return r;
}

}  // namespace parallax
