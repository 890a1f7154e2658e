#include "mvs/dense_scene.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/colmap_model.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax {

std::vector<float> MvsView::gray() const {
  std::vector<float> g(size_t(width) * height);
  for (size_t i = 0; i < g.size(); ++i)
    g[i] = (rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) * (1.0f / 3.0f);
  return g;
}

void selectSourceViews(const Reconstruction& model, std::vector<MvsView>& views,
                       const ViewSelectionOptions& options) {
  std::map<uint32_t, int> indexOf;
  for (size_t i = 0; i < views.size(); ++i) indexOf[views[i].image_id] = int(i);
  const size_t n = views.size();
  std::vector<double> score(n * n, 0.0);
  std::vector<std::vector<double>> depths(n);
  const double theta0 = options.best_angle_deg;
  std::vector<int> seen;
  for (const auto& [pid, point] : model.points3D) {
    seen.clear();
    for (const TrackElement& el : point.track) {
      auto it = indexOf.find(el.image_id);
      if (it == indexOf.end()) continue;
      if (std::find(seen.begin(), seen.end(), it->second) == seen.end()) seen.push_back(it->second);
    }
    for (int i : seen) {
      const double z = (views[size_t(i)].R * point.xyz + views[size_t(i)].t).z();
      if (z > 0) depths[size_t(i)].push_back(z);
    }
    for (size_t a = 0; a < seen.size(); ++a)
      for (size_t b = a + 1; b < seen.size(); ++b) {
        const Eigen::Vector3d ra = (point.xyz - views[size_t(seen[a])].center()).normalized();
        const Eigen::Vector3d rb = (point.xyz - views[size_t(seen[b])].center()).normalized();
        const double angle =
            std::acos(std::clamp(ra.dot(rb), -1.0, 1.0)) * 180.0 / 3.14159265358979323846;
        if (angle < options.min_triangulation_angle_deg) continue;
        const double sigma = angle <= theta0 ? 1.0 : 10.0;
        const double s = std::exp(-(angle - theta0) * (angle - theta0) / (2 * sigma * sigma));
        score[size_t(seen[a]) * n + size_t(seen[b])] += s;
        score[size_t(seen[b]) * n + size_t(seen[a])] += s;
      }
  }
  // A photo's depth range also covers the sparse points other photos matched inside its
  // frame: far ground or a backdrop it sees at a grazing angle often has no match of its
  // own, and a range cut at its own matches forces wrong depths there. A strided subset
  // of the points keeps this cheap for large models.
  const size_t stride = std::max<size_t>(1, model.points3D.size() / 20000);
  size_t k = 0;
  for (const auto& [pid, point] : model.points3D) {
    if (k++ % stride != 0) continue;
    for (size_t i = 0; i < n; ++i) {
      const MvsView& v = views[i];
      const Eigen::Vector3d Xc = v.R * point.xyz + v.t;
      if (Xc.z() <= 0 || v.width <= 0) continue;
      const Eigen::Vector3d p = v.K * Xc;
      const double x = p.x() / p.z(), y = p.y() / p.z();
      if (x >= -0.5 && y >= -0.5 && x < v.width - 0.5 && y < v.height - 0.5)
        depths[i].push_back(Xc.z());
    }
  }
  // Depth range: 1st to 99th percentile of those depths, widened.
  std::vector<double> all;
  for (auto& d : depths) all.insert(all.end(), d.begin(), d.end());
  auto range = [](std::vector<double> d, double& lo, double& hi) {
    if (d.empty()) return false;
    std::sort(d.begin(), d.end());
    lo = d[size_t(0.01 * double(d.size() - 1))] * 0.75;
    hi = d[size_t(0.99 * double(d.size() - 1))] * 1.25;
    return true;
  };
  double globalLo = 0, globalHi = 0;
  range(all, globalLo, globalHi);
  for (size_t i = 0; i < n; ++i) {
    MvsView& v = views[i];
    if (depths[i].size() < 10 || !range(depths[i], v.depth_min, v.depth_max)) {
      v.depth_min = globalLo;
      v.depth_max = globalHi;
    }
    std::vector<std::pair<double, int>> ranked;
    for (size_t j = 0; j < n; ++j)
      if (j != i && score[i * n + j] > 0) ranked.push_back({score[i * n + j], int(j)});
    std::sort(ranked.begin(), ranked.end(), std::greater<>());
    v.sources.clear();
    for (size_t k = 0; k < ranked.size() && int(k) < options.max_sources; ++k)
      v.sources.push_back(ranked[k].second);
  }
}

std::vector<MvsView> loadMvsViews(const fs::path& denseDir, const ViewSelectionOptions& options) {
  const fs::path sparse = denseDir / "sparse";
  if (!hasColmapModel(sparse))
    throw Error("the dense workspace has no model (" + sparse.string() +
                "); run the undistort stage first");
  const Reconstruction model = readColmapModel(sparse);
  std::vector<MvsView> views;
  for (const auto& [id, image] : model.images) {
    const Camera& cam = model.cameras.at(image.camera_id);
    if (cam.model_id != kPinhole && cam.model_id != kSimplePinhole)
      throw Error("dense/sparse holds a " + cam.modelName() + " camera for '" + image.name +
                  "'; the dense workspace needs undistorted pinhole cameras: rerun undistort");
    MvsView v;
    v.image_id = id;
    v.name = image.name;
    v.width = cam.width;
    v.height = cam.height;
    v.K << cam.focalX(), 0, cam.principalX() - 0.5, 0, cam.focalY(), cam.principalY() - 0.5, 0, 0,
        1;
    v.R = image.cam_from_world.rotation.toRotationMatrix();
    v.t = image.cam_from_world.translation;
    views.push_back(std::move(v));
  }
  selectSourceViews(model, views, options);
  return views;
}

void loadMvsImage(const fs::path& denseDir, MvsView& view) {
  const fs::path path = denseDir / "images" / view.name;
  if (!fs::exists(path))
    throw Error("undistorted photo '" + path.string() + "' is missing; rerun the undistort stage");
  const cv::Mat bgr = cv::imread(path.string(), cv::IMREAD_COLOR);
  if (bgr.empty())
    throw Error("undistorted photo '" + path.string() +
                "' cannot be decoded; rerun the undistort stage");
  if (bgr.cols != view.width || bgr.rows != view.height)
    throw Error("undistorted photo '" + path.string() + "' is " + std::to_string(bgr.cols) + "x" +
                std::to_string(bgr.rows) + " but its camera says " + std::to_string(view.width) +
                "x" + std::to_string(view.height) + "; rerun the undistort stage");
  view.rgb.resize(size_t(view.width) * view.height * 3);
  for (int y = 0; y < bgr.rows; ++y) {
    const auto* row = bgr.ptr<cv::Vec3b>(y);
    float* out = view.rgb.data() + size_t(y) * view.width * 3;
    for (int x = 0; x < bgr.cols; ++x) {
      out[3 * x + 0] = row[x][2] / 255.0f;
      out[3 * x + 1] = row[x][1] / 255.0f;
      out[3 * x + 2] = row[x][0] / 255.0f;
    }
  }
}

size_t DepthMap::validCount() const {
  return size_t(std::count_if(depth.begin(), depth.end(), [](float d) { return d > 0; }));
}

void writeColmapMap(const fs::path& path, int width, int height, int channels,
                    const std::vector<float>& interleaved) {
  const size_t plane = size_t(width) * height;
  if (interleaved.size() != plane * size_t(channels))
    throw Error("internal: map for '" + path.string() + "' has the wrong size");
  std::string data = std::to_string(width) + "&" + std::to_string(height) + "&" +
                     std::to_string(channels) + "&";
  const size_t header = data.size();
  data.resize(header + interleaved.size() * sizeof(float));
  auto* out = reinterpret_cast<float*>(data.data() + header);
  for (int c = 0; c < channels; ++c)
    for (size_t i = 0; i < plane; ++i) {
      const float value = interleaved[i * size_t(channels) + size_t(c)];
      std::memcpy(out + size_t(c) * plane + i, &value, sizeof(float));
    }
  fs::create_directories(path.parent_path());
  writeFileAtomic(path, data);
}

std::vector<float> readColmapMap(const fs::path& path, int* width, int* height, int* channels) {
  if (!fs::exists(path)) throw Error("map file '" + path.string() + "' is missing");
  const std::string data = readFile(path);
  int w = 0, h = 0, c = 0, amps = 0;
  size_t pos = 0;
  for (; pos < data.size() && amps < 3 && pos < 64; ++pos)
    if (data[pos] == '&') ++amps;
  if (amps < 3 || std::sscanf(data.c_str(), "%d&%d&%d&", &w, &h, &c) != 3 || w <= 0 || h <= 0 ||
      c <= 0 || c > 16)
    throw Error("'" + path.string() + "' is not a COLMAP depth or normal map");
  const size_t plane = size_t(w) * size_t(h);
  if (data.size() - pos < plane * size_t(c) * sizeof(float))
    throw Error("'" + path.string() + "' is truncated; rerun the stage that wrote it");
  std::vector<float> out(plane * size_t(c));
  const char* in = data.data() + pos;
  for (int k = 0; k < c; ++k)
    for (size_t i = 0; i < plane; ++i)
      std::memcpy(&out[i * size_t(c) + size_t(k)], in + (size_t(k) * plane + i) * sizeof(float),
                  sizeof(float));
  *width = w;
  *height = h;
  *channels = c;
  return out;
}

DepthMapFiles depthMapFiles(const fs::path& denseDir, const std::string& name,
                            const std::string& kind) {
  const fs::path stereo = denseDir / "stereo";
  const std::string file = name + "." + kind + ".bin";
  return {stereo / "depth_maps" / file, stereo / "normal_maps" / file,
          stereo / "confidence_maps" / file};
}

void writeDepthMap(const fs::path& denseDir, const std::string& name, const std::string& kind,
                   const DepthMap& map) {
  const DepthMapFiles files = depthMapFiles(denseDir, name, kind);
  if (!map.normals.empty()) writeColmapMap(files.normal, map.width, map.height, 3, map.normals);
  if (!map.confidence.empty())
    writeColmapMap(files.confidence, map.width, map.height, 1, map.confidence);
  // The depth map last: its presence says the set is complete.
  writeColmapMap(files.depth, map.width, map.height, 1, map.depth);
}

DepthMap readDepthMap(const fs::path& denseDir, const std::string& name, const std::string& kind) {
  const DepthMapFiles files = depthMapFiles(denseDir, name, kind);
  DepthMap map;
  int c = 0;
  map.depth = readColmapMap(files.depth, &map.width, &map.height, &c);
  if (c != 1) throw Error("'" + files.depth.string() + "' has " + std::to_string(c) +
                          " channels; a depth map has 1");
  auto readOptional = [&](const fs::path& path, int channels, std::vector<float>& out) {
    if (!fs::exists(path)) return;
    int w = 0, h = 0, cc = 0;
    out = readColmapMap(path, &w, &h, &cc);
    if (w != map.width || h != map.height || cc != channels)
      throw Error("'" + path.string() + "' does not match its depth map's size; rerun mvs");
  };
  readOptional(files.normal, 3, map.normals);
  readOptional(files.confidence, 1, map.confidence);
  return map;
}

size_t clearTexturelessDepth(const MvsView& view, DepthMap& map, int radius, float min_std) {
  const std::vector<float> g = view.gray();
  cv::Mat grey(view.height, view.width, CV_32F, const_cast<float*>(g.data()));
  cv::Mat mean, meanSq;
  const cv::Size box(2 * radius + 1, 2 * radius + 1);
  cv::blur(grey, mean, box, cv::Point(-1, -1), cv::BORDER_REFLECT);
  cv::blur(grey.mul(grey), meanSq, box, cv::Point(-1, -1), cv::BORDER_REFLECT);
  size_t cleared = 0;
  for (int y = 0; y < view.height; ++y)
    for (int x = 0; x < view.width; ++x) {
      float& d = map.depth[size_t(y) * size_t(view.width) + size_t(x)];
      if (d <= 0) continue;
      const float m = mean.at<float>(y, x);
      if (meanSq.at<float>(y, x) - m * m < min_std * min_std) d = 0, ++cleared;
    }
  return cleared;
}

namespace {
bool allDigits(const std::string& s) {
  return !s.empty() && s.size() < 10 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}
}  // namespace

std::optional<fs::path> findMaskFile(const fs::path& dir, const std::string& name) {
  const fs::path rel(name);
  const fs::path folder = dir / rel.parent_path();
  for (const fs::path& candidate :
       {dir / (name + ".png"), dir / rel, folder / (rel.stem().string() + ".png")})
    if (fs::is_regular_file(candidate)) return candidate;
  // Numbered photos: the same number with other zero padding (DTU: 000012.png, mask 012.png).
  const std::string stem = rel.stem().string();
  std::error_code ec;
  if (!allDigits(stem) || !fs::is_directory(folder, ec)) return std::nullopt;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const fs::path& file = entry.path();
    if (entry.is_regular_file(ec) && file.extension() == ".png" &&
        allDigits(file.stem().string()) && std::stoul(file.stem().string()) == std::stoul(stem))
      return file;
  }
  return std::nullopt;
}

fs::path maskFile(const fs::path& denseDir, const std::string& name) {
  return denseDir / "masks" / (name + ".png");
}

std::vector<uint8_t> readMask(const fs::path& denseDir, const std::string& name) {
  const fs::path file = maskFile(denseDir, name);
  if (!fs::exists(file)) return {};
  const cv::Mat mask = cv::imread(file.string(), cv::IMREAD_GRAYSCALE);
  if (mask.empty()) throw Error("mask '" + file.string() + "' cannot be read; rerun the undistort stage");
  std::vector<uint8_t> out(size_t(mask.cols) * size_t(mask.rows));
  for (int y = 0; y < mask.rows; ++y)
    for (int x = 0; x < mask.cols; ++x) out[size_t(y) * size_t(mask.cols) + size_t(x)] = mask.at<uint8_t>(y, x) >= 128;
  return out;
}

size_t applyMask(const fs::path& denseDir, const std::string& name, DepthMap& map) {
  const fs::path file = maskFile(denseDir, name);
  if (!fs::exists(file)) return 0;
  cv::Mat mask = cv::imread(file.string(), cv::IMREAD_GRAYSCALE);
  if (mask.empty())
    throw Error("mask '" + file.string() + "' cannot be read; rerun the undistort stage");
  if (mask.cols != map.width || mask.rows != map.height)
    cv::resize(mask, mask, cv::Size(map.width, map.height), 0, 0, cv::INTER_NEAREST);
  size_t cleared = 0;
  for (int y = 0; y < map.height; ++y)
    for (int x = 0; x < map.width; ++x) {
      const size_t i = size_t(y) * size_t(map.width) + size_t(x);
      if (mask.at<uint8_t>(y, x) >= 128 || map.depth[i] <= 0) continue;
      map.depth[i] = 0;
      if (map.confidence.size() > i) map.confidence[i] = 0;
      if (map.normals.size() >= 3 * (i + 1)) std::fill_n(map.normals.begin() + long(3 * i), 3, 0.0f);
      ++cleared;
    }
  return cleared;
}

void computeNormalsFromDepth(const MvsView& view, DepthMap& map) {
  const int w = map.width, h = map.height;
  map.normals.assign(size_t(w) * h * 3, 0.0f);
  const Eigen::Matrix3d Kinv = view.K.inverse();
  auto point = [&](int x, int y) -> Eigen::Vector3d {
    const float d = map.depth[size_t(y) * w + x];
    return d > 0 ? Eigen::Vector3d(d * (Kinv * Eigen::Vector3d(x, y, 1))) : Eigen::Vector3d::Zero();
  };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = size_t(y) * w + x;
      if (map.depth[i] <= 0) continue;
      const Eigen::Vector3d c = point(x, y);
      // Central differences where both neighbours exist, else one-sided.
      Eigen::Vector3d dx = Eigen::Vector3d::Zero(), dy = Eigen::Vector3d::Zero();
      const Eigen::Vector3d l = x > 0 ? point(x - 1, y) : Eigen::Vector3d::Zero();
      const Eigen::Vector3d r = x + 1 < w ? point(x + 1, y) : Eigen::Vector3d::Zero();
      const Eigen::Vector3d u = y > 0 ? point(x, y - 1) : Eigen::Vector3d::Zero();
      const Eigen::Vector3d b = y + 1 < h ? point(x, y + 1) : Eigen::Vector3d::Zero();
      if (!r.isZero() && !l.isZero()) dx = r - l;
      else if (!r.isZero()) dx = r - c;
      else if (!l.isZero()) dx = c - l;
      if (!b.isZero() && !u.isZero()) dy = b - u;
      else if (!b.isZero()) dy = b - c;
      else if (!u.isZero()) dy = c - u;
      Eigen::Vector3d n = dy.cross(dx);
      if (n.norm() < 1e-12) n = -c;
      n.normalize();
      if (n.dot(c) > 0) n = -n;
      for (int k = 0; k < 3; ++k) map.normals[3 * i + size_t(k)] = float(n[k]);
    }
}

void writePatchMatchConfig(const fs::path& denseDir, const std::vector<MvsView>& views) {
  std::string cfg;
  for (const MvsView& v : views) {
    cfg += v.name + "\n";
    std::string line;
    for (int s : v.sources) line += (line.empty() ? "" : ", ") + views[size_t(s)].name;
    cfg += (line.empty() ? "__auto__, 20" : line) + "\n";
  }
  fs::create_directories(denseDir / "stereo");
  writeFileAtomic(denseDir / "stereo" / "patch-match.cfg", cfg);
  // The photos to fuse, one per line: COLMAP's stereo_fusion reads this list.
  std::string fusion;
  for (const MvsView& v : views) fusion += v.name + "\n";
  writeFileAtomic(denseDir / "stereo" / "fusion.cfg", fusion);
}

}  // namespace parallax
