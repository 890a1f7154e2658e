#include "mvs/fusion.h"

#include <Eigen/Geometry>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>

#include "util/atomic_file.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/parallel.h"

namespace fs = std::filesystem;

namespace parallax {

FusedCloud fuseDepthMaps(const std::vector<MvsView>& views, const std::vector<DepthMap>& maps,
                         const FusionOptions& o,
                         const std::function<void(size_t, size_t)>& progress) {
  if (maps.size() != views.size()) throw Error("internal: one depth map per view expected");
  const size_t n = views.size();
  std::vector<std::unique_ptr<std::atomic<uint8_t>[]>> used(n);
  std::vector<Eigen::Matrix3d> Kinv(n);
  for (size_t v = 0; v < n; ++v) {
    Kinv[v] = views[v].K.inverse();
    if (maps[v].depth.empty()) continue;
    if (maps[v].width != views[v].width || maps[v].height != views[v].height)
      throw Error("the depth map of '" + views[v].name + "' is " + std::to_string(maps[v].width) +
                  "x" + std::to_string(maps[v].height) + " but the photo is " +
                  std::to_string(views[v].width) + "x" + std::to_string(views[v].height) +
                  "; rerun mvs");
    if (views[v].rgb.empty()) throw Error("internal: image '" + views[v].name + "' not loaded");
    const size_t pixels = maps[v].depth.size();
    used[v].reset(new std::atomic<uint8_t>[pixels]);
    for (size_t i = 0; i < pixels; ++i) used[v][i].store(0, std::memory_order_relaxed);
  }
  bool anyConfidence = false;
  for (size_t v = 0; v < n; ++v)
    anyConfidence |= !maps[v].depth.empty() && maps[v].confidence.size() == maps[v].depth.size();
  // A pixel's confidence, or -1 when its map has none.
  auto confidenceAt = [&](size_t v, size_t pixel) {
    return maps[v].confidence.size() == maps[v].depth.size() ? maps[v].confidence[pixel] : -1.0f;
  };
  const double cosMaxNormal = std::cos(o.max_normal_error_deg * 3.14159265358979323846 / 180.0);

  FusedCloud out;
  for (size_t ref = 0; ref < n; ++ref) {
    throwIfCancelled();
    const DepthMap& rm = maps[ref];
    if (rm.depth.empty()) continue;
    const MvsView& rv = views[ref];
    const bool refNormals = !rm.normals.empty();
    // Per-row results, appended in row order so the output does not depend on threads.
    std::vector<PointCloud> rowClouds(size_t(rm.height));
    std::vector<std::vector<std::vector<uint32_t>>> rowVis(size_t(rm.height));
    std::vector<std::vector<float>> rowConf(size_t(rm.height));
    parallelFor(
        size_t(rm.height),
        [&](size_t yy) {
          const int y = int(yy);
          PointCloud& local = rowClouds[yy];
          std::vector<std::vector<uint32_t>>& localVis = rowVis[yy];
          std::vector<uint32_t> vis;
          for (int x = 0; x < rm.width; ++x) {
            const size_t pi = size_t(y) * size_t(rm.width) + size_t(x);
            const float d = rm.depth[pi];
            if (!(d > 0) || used[ref][pi].load(std::memory_order_relaxed)) continue;
            const Eigen::Vector3d Xc = d * (Kinv[ref] * Eigen::Vector3d(x, y, 1));
            const Eigen::Vector3d X = rv.R.transpose() * (Xc - rv.t);
            Eigen::Vector3d normal = Eigen::Vector3d::Zero();
            if (refNormals)
              normal = rv.R.transpose() * Eigen::Vector3d(rm.normals[3 * pi], rm.normals[3 * pi + 1],
                                                          rm.normals[3 * pi + 2]);
            Eigen::Vector3d sumX = X, sumN = normal;
            Eigen::Vector3d sumC(rv.rgb[3 * pi], rv.rgb[3 * pi + 1], rv.rgb[3 * pi + 2]);
            vis.assign(1, uint32_t(ref));
            double sumConf = 0;
            int numConf = 0;
            if (const float c = confidenceAt(ref, pi); c >= 0) sumConf += c, ++numConf;
            struct Mark { size_t view, pixel; };
            Mark marks[64];
            int numMarks = 0;
            for (size_t j = 0; j < n && numMarks < 64; ++j) {
              if (j == ref || maps[j].depth.empty()) continue;
              const MvsView& sv = views[j];
              const DepthMap& sm = maps[j];
              const Eigen::Vector3d Xs = sv.R * X + sv.t;
              if (Xs.z() <= 0) continue;
              const Eigen::Vector3d q = sv.K * Xs;
              const double u = q.x() / q.z(), v = q.y() / q.z();
              const int ui = int(std::lround(u)), vi = int(std::lround(v));
              if (ui < 0 || vi < 0 || ui >= sm.width || vi >= sm.height) continue;
              const size_t si = size_t(vi) * size_t(sm.width) + size_t(ui);
              const float ds = sm.depth[si];
              if (!(ds > 0) || used[j][si].load(std::memory_order_relaxed)) continue;
              if (std::abs(ds - Xs.z()) > o.max_depth_error * Xs.z()) continue;
              // The source pixel's own 3D point, reprojected into the reference.
              const Eigen::Vector3d XsOwn = ds * (Kinv[j] * Eigen::Vector3d(ui, vi, 1));
              const Eigen::Vector3d Xw = sv.R.transpose() * (XsOwn - sv.t);
              const Eigen::Vector3d back = rv.K * (rv.R * Xw + rv.t);
              if (back.z() <= 0) continue;
              const double ex = back.x() / back.z() - x, ey = back.y() / back.z() - y;
              if (ex * ex + ey * ey > o.max_reproj_error * o.max_reproj_error) continue;
              Eigen::Vector3d nj = Eigen::Vector3d::Zero();
              if (!sm.normals.empty()) {
                nj = sv.R.transpose() * Eigen::Vector3d(sm.normals[3 * si], sm.normals[3 * si + 1],
                                                        sm.normals[3 * si + 2]);
                if (refNormals && nj.dot(normal) < cosMaxNormal) continue;
              }
              sumX += Xw;
              sumN += nj;
              sumC += Eigen::Vector3d(sv.rgb[3 * si], sv.rgb[3 * si + 1], sv.rgb[3 * si + 2]);
              vis.push_back(uint32_t(j));
              if (const float c = confidenceAt(j, si); c >= 0) sumConf += c, ++numConf;
              marks[numMarks++] = {j, si};
            }
            if (int(vis.size()) < o.min_num_views) continue;
            used[ref][pi].store(1, std::memory_order_relaxed);
            for (int k = 0; k < numMarks; ++k)
              used[marks[k].view][marks[k].pixel].store(1, std::memory_order_relaxed);
            const double count = double(vis.size());
            local.points.push_back((sumX / count).cast<float>());
            const double nn = sumN.norm();
            local.normals.push_back(nn > 1e-9 ? Eigen::Vector3f((sumN / nn).cast<float>())
                                              : Eigen::Vector3f::Zero());
            const Eigen::Vector3d c = sumC / count * 255.0;
            local.colors.push_back({uint8_t(std::lround(std::clamp(c.x(), 0.0, 255.0))),
                                    uint8_t(std::lround(std::clamp(c.y(), 0.0, 255.0))),
                                    uint8_t(std::lround(std::clamp(c.z(), 0.0, 255.0)))});
            localVis.push_back(vis);
            if (anyConfidence) rowConf[yy].push_back(numConf ? float(sumConf / numConf) : 0.0f);
          }
        },
        o.threads);
    for (size_t r = 0; r < rowClouds.size(); ++r) {
      const PointCloud& local = rowClouds[r];
      out.cloud.points.insert(out.cloud.points.end(), local.points.begin(), local.points.end());
      out.cloud.normals.insert(out.cloud.normals.end(), local.normals.begin(), local.normals.end());
      out.cloud.colors.insert(out.cloud.colors.end(), local.colors.begin(), local.colors.end());
      for (auto& v : rowVis[r]) out.visibility.push_back(std::move(v));
      out.confidence.insert(out.confidence.end(), rowConf[r].begin(), rowConf[r].end());
    }
    if (progress) progress(ref + 1, n);
  }
  return out;
}

void writeVisibility(const fs::path& path, const std::vector<std::vector<uint32_t>>& visibility) {
  std::string data;
  auto put = [&](const void* p, size_t bytes) {
    data.append(static_cast<const char*>(p), bytes);
  };
  const uint64_t count = visibility.size();
  put(&count, sizeof(count));
  for (const auto& v : visibility) {
    const uint32_t k = uint32_t(v.size());
    put(&k, sizeof(k));
    put(v.data(), v.size() * sizeof(uint32_t));
  }
  writeFileAtomic(path, data);
}

void writeConfidence(const fs::path& path, const std::vector<float>& confidence) {
  writeArrayFile(path, confidence);
}

std::vector<float> readConfidence(const fs::path& path) {
  return readArrayFile<float>(path, "a confidence file", "rerun the fusion stage");
}

std::vector<std::vector<uint32_t>> readVisibility(const fs::path& path) {
  const std::string data = readFile(path);
  size_t pos = 0;
  auto get = [&](void* p, size_t bytes) {
    if (pos + bytes > data.size())
      throw Error("'" + path.string() + "' is truncated; rerun the fusion stage");
    std::memcpy(p, data.data() + pos, bytes);
    pos += bytes;
  };
  uint64_t count = 0;
  get(&count, sizeof(count));
  if (count > data.size()) throw Error("'" + path.string() + "' is not a visibility file");
  std::vector<std::vector<uint32_t>> out(count);
  for (auto& v : out) {
    uint32_t k = 0;
    get(&k, sizeof(k));
    if (k > data.size()) throw Error("'" + path.string() + "' is not a visibility file");
    v.resize(k);
    get(v.data(), k * sizeof(uint32_t));
  }
  return out;
}

}  // namespace parallax
