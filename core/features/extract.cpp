#include "features/extract.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "features/feature_extractor.h"
#include "params/stages.h"
#include "util/error.h"

namespace parallax {

SiftOptions siftOptionsFromParams(const nlohmann::json& values) {
  const params::Features p = params::Features::from(values);
  SiftOptions o;
  o.max_image_size = p.max_image_size;
  o.max_num_features = p.max_num_features;
  o.peak_threshold = p.peak_threshold;
  o.edge_threshold = p.edge_threshold;
  o.root_sift = p.root_sift;
  o.upright = p.upright;
  return o;
}

PhotoFeatures extractPhotoFeatures(const std::string& method, const cv::Mat& image,
                                   const nlohmann::json& params) {
  const params::Features p = params::Features::from(params);
  PhotoFeatures out;
  if (image.empty()) throw Error("empty image given to the feature extractor");
  if (method == "sift") {
    cv::Mat gray = image;
    if (image.channels() == 3) cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
    const SiftOptions o = siftOptionsFromParams(params);
    SiftFeatures f = extractSift(gray, o);
    out.keypoints = std::move(f.keypoints);
    out.descriptors = std::move(f.descriptors);
    out.type = std::string(o.root_sift ? "rootsift" : "sift") + (o.upright ? "-upright" : "");
    return out;
  }
  const FeatureExtractor* extractor = findFeatureExtractor(method);
  if (!extractor) throw Error("no feature extractor named '" + method + "' is loaded");
  // The network sees the photo at most max_image_size on its longest side (area-averaged).
  cv::Mat rgb;
  if (image.channels() == 1)
    cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
  else
    cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
  const int maxSize = p.max_image_size;
  const int longest = std::max(rgb.cols, rgb.rows);
  if (longest > maxSize) {
    const double s = double(maxSize) / longest;
    cv::Mat small;
    cv::resize(rgb, small, cv::Size(std::max(1, int(std::lround(rgb.cols * s))),
                                    std::max(1, int(std::lround(rgb.rows * s)))),
               0, 0, cv::INTER_AREA);
    rgb = small;
  }
  // Learned detectors are not rotation invariant: optionally also run on the photo turned
  // by 180 degrees (or by each quarter turn) and keep the strongest keypoints of all, mapped
  // back, so that photos taken upside down or sideways still match.
  const std::string& turns = p.learned_rotations;
  const int rotations = turns == "quarter-turns" ? 4 : turns == "half-turn" ? 2 : 1;
  const float W = float(rgb.cols), H = float(rgb.rows);
  struct Scored {
    float score;
    FeatureKeypoint keypoint;
    const float* descriptor;
  };
  std::vector<ExtractedFeatures> runs;
  runs.reserve(4);
  std::vector<Scored> all;
  for (int r = 0; r < 4; ++r) {
    if (!(r == 0 || (rotations == 2 && r == 2) || rotations == 4)) continue;
    cv::Mat turned;  // a new buffer: rotating into `rgb`'s own would overwrite the photo
    if (r == 0) turned = rgb;
    if (r == 1) cv::rotate(rgb, turned, cv::ROTATE_90_CLOCKWISE);
    if (r == 2) cv::rotate(rgb, turned, cv::ROTATE_180);
    if (r == 3) cv::rotate(rgb, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
    RgbImage input;
    input.width = turned.cols;
    input.height = turned.rows;
    input.rgb.resize(size_t(turned.cols) * size_t(turned.rows) * 3);
    for (int y = 0; y < turned.rows; ++y)
      std::memcpy(input.rgb.data() + size_t(y) * size_t(turned.cols) * 3, turned.ptr<uint8_t>(y),
                  size_t(turned.cols) * 3);
    runs.push_back(extractor->extract(input, params));
    const ExtractedFeatures& e = runs.back();
    for (size_t i = 0; i < e.keypoints.size(); ++i) {
      FeatureKeypoint k = e.keypoints[i];
      // Back to the unturned photo (edge-based coordinates: a turn maps [0, W] onto [0, W]).
      const float x = k.x, y = k.y;
      if (r == 1) k.x = y, k.y = H - x;  // the clockwise turn took (x, y) to (H - y, x)
      if (r == 2) k.x = W - x, k.y = H - y;
      if (r == 3) k.x = W - y, k.y = x;  // the counter-clockwise turn took (x, y) to (y, W - x)
      all.push_back({i < e.scores.size() ? e.scores[i] : 0.f, k,
                     e.descriptors.values.data() + i * size_t(e.descriptors.cols)});
    }
  }
  // A keypoint needs image structure to be localised by: the networks also answer to the
  // photo's edge and to smooth gradients near it (zero padding in their convolutions),
  // and such keypoints sit at the same pixel in every photo of a set, where they match
  // each other and pass verification as a still camera would (a clear sky, vignetting).
  // Those whose 9x9 neighbourhood is flat are dropped.
  const double minContrast = p.learned_min_contrast;
  if (minContrast > 0) {
    cv::Mat gray, sum, squares;
    cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
    cv::integral(gray, sum, squares, CV_64F, CV_64F);
    auto flat = [&](const FeatureKeypoint& k) {
      const int cx = std::clamp(int(std::floor(k.x)), 0, rgb.cols - 1);
      const int cy = std::clamp(int(std::floor(k.y)), 0, rgb.rows - 1);
      const int x0 = std::max(0, cx - 4), x1 = std::min(rgb.cols, cx + 5);
      const int y0 = std::max(0, cy - 4), y1 = std::min(rgb.rows, cy + 5);
      auto box = [&](const cv::Mat& m) {
        return m.at<double>(y1, x1) - m.at<double>(y0, x1) - m.at<double>(y1, x0) + m.at<double>(y0, x0);
      };
      const double n = double((x1 - x0) * (y1 - y0));
      const double mean = box(sum) / n;
      return box(squares) / n - mean * mean < minContrast * minContrast;
    };
    all.erase(std::remove_if(all.begin(), all.end(), [&](const Scored& sc) { return flat(sc.keypoint); }),
              all.end());
  }
  if (runs.size() > 1) {
    const size_t maxKeypoints = size_t(p.max_num_features);
    std::stable_sort(all.begin(), all.end(),
                     [](const Scored& a, const Scored& b) { return a.score > b.score; });
    if (all.size() > maxKeypoints) all.resize(maxKeypoints);
  }
  ExtractedFeatures f;
  f.descriptors.cols = runs.front().descriptors.cols;
  f.descriptors.rows = int(all.size());
  f.descriptors.values.reserve(all.size() * size_t(f.descriptors.cols));
  for (const Scored& sc : all) {
    f.keypoints.push_back(sc.keypoint);
    f.descriptors.values.insert(f.descriptors.values.end(), sc.descriptor,
                                sc.descriptor + f.descriptors.cols);
  }
  // Back to full-resolution pixels (COLMAP's convention scales linearly: edges at 0 and W).
  const float sx = float(image.cols) / float(rgb.cols), sy = float(image.rows) / float(rgb.rows);
  for (FeatureKeypoint& k : f.keypoints) {
    k.x *= sx, k.y *= sy;
    k.a11 *= sx, k.a12 *= sx, k.a21 *= sy, k.a22 *= sy;
  }
  out.keypoints = std::move(f.keypoints);
  out.descriptors = std::move(f.descriptors);
  out.type = extractor->type(params);
  return out;
}

}  // namespace parallax
