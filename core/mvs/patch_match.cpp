#include "mvs/patch_match.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <array>
#include <cmath>

#include "util/error.h"
#include "util/parallel.h"

namespace parallax {
namespace {

using Vec3 = Eigen::Vector3f;
using Mat3 = Eigen::Matrix3f;

constexpr float kMaxCost = 2.0f;  // 1 - NCC ranges over [0, 2]
constexpr int kMaxSamples = 128;
constexpr int kMaxSources = 16;

// Deterministic per-pixel random numbers (splitmix64), independent of thread order.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
  float symmetric() { return 2.0f * uniform() - 1.0f; }                  // [-1, 1)
};

struct Source {
  const std::vector<float>* gray = nullptr;
  int width = 0, height = 0;
  Mat3 A;  // K_s R_rel K_r^-1
  Vec3 b;  // K_s t_rel
  // For geometric consistency.
  Mat3 Ks, KsInv, Rrel;
  Vec3 trel;
  const DepthMap* map = nullptr;
};

struct Hypothesis {
  float depth;
  Vec3 normal;
};

// Per-view evaluation of one hypothesis.
struct ViewCosts {
  float cost[kMaxSources];
  float ncc[kMaxSources];
  float geomError[kMaxSources];
};

class Solver {
 public:
  Solver(const std::vector<MvsView>& views, int ref, const PatchMatchOptions& o,
         const std::vector<const DepthMap*>* sourceMaps)
      : o_(o), view_(views[size_t(ref)]), w_(view_.width), h_(view_.height) {
    if (view_.rgb.empty()) throw Error("internal: reference image '" + view_.name + "' not loaded");
    gray_ = view_.gray();
    K_ = view_.K.cast<float>();
    Kinv_ = K_.inverse();
    dmin_ = float(view_.depth_min);
    dmax_ = float(view_.depth_max);
    if (!(dmin_ > 0) || !(dmax_ > dmin_))
      throw Error("'" + view_.name + "' sees no sparse points, so its depth range is unknown");
    const int maxSources = std::min<int>(kMaxSources, int(view_.sources.size()));
    grays_.resize(size_t(maxSources));
    for (int k = 0; k < maxSources; ++k) {
      const MvsView& s = views[size_t(view_.sources[size_t(k)])];
      if (s.rgb.empty()) throw Error("internal: source image '" + s.name + "' not loaded");
      grays_[size_t(k)] = s.gray();
      Source src;
      src.gray = &grays_[size_t(k)];
      src.width = s.width;
      src.height = s.height;
      const Eigen::Matrix3d Rrel = s.R * view_.R.transpose();
      const Eigen::Vector3d trel = s.t - Rrel * view_.t;
      src.Ks = s.K.cast<float>();
      src.KsInv = src.Ks.inverse();
      src.Rrel = Rrel.cast<float>();
      src.trel = trel.cast<float>();
      src.A = src.Ks * src.Rrel * Kinv_;
      src.b = src.Ks * src.trel;
      if (sourceMaps) {
        const DepthMap* m = (*sourceMaps)[size_t(view_.sources[size_t(k)])];
        if (m && m->width == s.width && m->height == s.height) src.map = m;
      }
      sources_.push_back(src);
    }
    if (sources_.empty())
      throw Error("'" + view_.name + "' shares no sparse points with any other photo; no depth");
    geometric_ = sourceMaps != nullptr;
    bestK_ = std::clamp(o.num_best_views, 1, int(sources_.size()));
    // Window offsets and their spatial weights.
    const int r = o.window_radius, step = std::max(1, o.window_step);
    for (int dy = -r; dy <= r; dy += step)
      for (int dx = -r; dx <= r; dx += step) {
        offsets_.push_back({dx, dy});
        spatial_.push_back(std::exp(-float(dx * dx + dy * dy) / (2.0f * float(r * r) + 1e-6f)));
      }
    if (offsets_.size() > size_t(kMaxSamples))
      throw Error("mvs window too large (at most " + std::to_string(kMaxSamples) + " samples)");
    for (int i = 0; i < 256; ++i) {
      const float d = float(i) / 255.0f;
      colorLut_[i] = std::exp(-d * d / (2.0f * float(o.sigma_color * o.sigma_color)));
    }
    depth_.assign(size_t(w_) * h_, 0.0f);
    normal_.assign(size_t(w_) * h_, Vec3(0, 0, -1));
    cost_.assign(size_t(w_) * h_, kMaxCost);
  }

  DepthMap run(const DepthMap* init, DepthMap* raw, const std::function<void(int, int)>& progress) {
    const int sweeps = geometric_ ? o_.num_geom_iterations : o_.num_iterations;
    const int total = sweeps + 1;
    // Initialisation: the given map where it has an estimate, random planes elsewhere.
    parallelFor(
        size_t(h_),
        [&](size_t yy) {
          const int y = int(yy);
          Window win;
          for (int x = 0; x < w_; ++x) {
            const size_t i = index(x, y);
            Rng rng(seedFor(x, y, 0xfff));
            Hypothesis hyp = randomHypothesis(x, y, rng);
            if (init && init->depth[i] > 0) {
              hyp.depth = init->depth[i];
              if (!init->normals.empty())
                hyp.normal = Vec3(init->normals[3 * i], init->normals[3 * i + 1],
                                  init->normals[3 * i + 2]);
            }
            loadWindow(x, y, win);
            depth_[i] = hyp.depth;
            normal_[i] = hyp.normal;
            cost_[i] = evaluate(x, y, win, hyp, nullptr);
          }
        },
        o_.threads);
    if (progress) progress(1, total);
    for (int sweep = 0; sweep < sweeps; ++sweep) {
      for (int colour = 0; colour < 2; ++colour)
        parallelFor(
            size_t(h_), [&](size_t y) { processRow(int(y), colour, sweep); }, o_.threads);
      if (progress) progress(sweep + 2, total);
    }
    return finish(raw);
  }

 private:
  struct Window {
    float ref[kMaxSamples];
    float weight[kMaxSamples];
    float sumW, meanR, varR;
  };

  size_t index(int x, int y) const { return size_t(y) * size_t(w_) + size_t(x); }
  uint64_t seedFor(int x, int y, int salt) const {
    return (uint64_t(o_.seed) << 48) ^ (uint64_t(salt) << 36) ^ (uint64_t(y) << 18) ^ uint64_t(x);
  }
  Vec3 ray(int x, int y) const { return Kinv_ * Vec3(float(x), float(y), 1.0f); }

  Vec3 randomNormal(const Vec3& r, Rng& rng) const {
    Vec3 n;
    do {
      n = Vec3(rng.symmetric(), rng.symmetric(), rng.symmetric());
    } while (n.squaredNorm() > 1.0f || n.squaredNorm() < 1e-4f);
    n.normalize();
    if (n.dot(r) > 0) n = -n;
    return n;
  }
  float randomDepth(Rng& rng) const {
    const float inv = 1.0f / dmax_ + rng.uniform() * (1.0f / dmin_ - 1.0f / dmax_);
    return 1.0f / inv;
  }
  Hypothesis randomHypothesis(int x, int y, Rng& rng) const {
    return {randomDepth(rng), randomNormal(ray(x, y), rng)};
  }

  float refAt(int x, int y) const {
    x = std::clamp(x, 0, w_ - 1);
    y = std::clamp(y, 0, h_ - 1);
    return gray_[index(x, y)];
  }

  void loadWindow(int x, int y, Window& win) const {
    const float centre = gray_[index(x, y)];
    float sw = 0, sr = 0, srr = 0;
    for (size_t k = 0; k < offsets_.size(); ++k) {
      const float r = refAt(x + offsets_[k][0], y + offsets_[k][1]);
      const int diff = std::min(255, int(std::fabs(r - centre) * 255.0f + 0.5f));
      const float wk = spatial_[k] * colorLut_[diff];
      win.ref[k] = r;
      win.weight[k] = wk;
      sw += wk;
      sr += wk * r;
      srr += wk * r * r;
    }
    win.sumW = sw;
    win.meanR = sr / sw;
    win.varR = srr / sw - win.meanR * win.meanR;
  }

  static float bilinear(const Source& s, float u, float v) {
    const int x0 = int(u), y0 = int(v);
    const float fx = u - float(x0), fy = v - float(y0);
    const float* row = s.gray->data() + size_t(y0) * size_t(s.width) + size_t(x0);
    const float* next = row + s.width;
    return (1 - fy) * ((1 - fx) * row[0] + fx * row[1]) + fy * ((1 - fx) * next[0] + fx * next[1]);
  }

  // The cost of `hyp` at (x, y): mean of the best-k per-source costs (photometric,
  // plus the geometric term in the geometric pass). Fills `detail` if given.
  float evaluate(int x, int y, const Window& win, const Hypothesis& hyp, ViewCosts* detail) const {
    const int n = int(sources_.size());
    float costs[kMaxSources];
    const Vec3 r = ray(x, y);
    const float nr = hyp.normal.dot(r);
    const bool textured = win.varR > 1e-5f;
    if (!(hyp.depth > 0) || nr >= -1e-4f || !textured) {
      if (detail)
        for (int k = 0; k < n; ++k)
          detail->cost[k] = kMaxCost, detail->ncc[k] = -1, detail->geomError[k] = 1e9f;
      return kMaxCost + (geometric_ ? float(o_.geom_regularizer * o_.geom_max_error) : 0.0f);
    }
    const float delta = hyp.depth * nr;  // plane: normal . X = delta
    const Vec3 m = Kinv_.transpose() * hyp.normal / delta;
    const Vec3 p(float(x), float(y), 1.0f);
    for (int k = 0; k < n; ++k) {
      const Source& s = sources_[size_t(k)];
      const Mat3 H = s.A + s.b * m.transpose();
      const Vec3 h0 = H * p;
      const Vec3 hx = H.col(0), hy = H.col(1);
      const float umax = float(s.width - 1) - 1e-3f, vmax = float(s.height - 1) - 1e-3f;
      float sws = 0, swss = 0, swrs = 0;
      bool inside = true;
      for (size_t j = 0; j < offsets_.size(); ++j) {
        const Vec3 q = h0 + float(offsets_[j][0]) * hx + float(offsets_[j][1]) * hy;
        if (q.z() <= 0) {
          inside = false;
          break;
        }
        const float iz = 1.0f / q.z();
        const float u = q.x() * iz, v = q.y() * iz;
        if (!(u >= 0 && v >= 0 && u < umax && v < vmax)) {
          inside = false;
          break;
        }
        const float sv = bilinear(s, u, v);
        const float wk = win.weight[j];
        sws += wk * sv;
        swss += wk * sv * sv;
        swrs += wk * win.ref[j] * sv;
      }
      float ncc = -1.0f;
      if (inside) {
        const float ms = sws / win.sumW;
        const float varS = swss / win.sumW - ms * ms;
        if (varS > 1e-5f) {
          const float cov = swrs / win.sumW - win.meanR * ms;
          ncc = std::clamp(cov / std::sqrt(win.varR * varS), -1.0f, 1.0f);
        }
      }
      float c = 1.0f - ncc;
      float geomError = 1e9f;
      if (geometric_) {
        geomError = forwardBackwardError(s, r * hyp.depth, x, y);
        c += float(o_.geom_regularizer) * std::min(geomError, float(o_.geom_max_error));
      }
      costs[k] = c;
      if (detail) detail->cost[k] = c, detail->ncc[k] = ncc, detail->geomError[k] = geomError;
    }
    // Mean of the best k.
    std::partial_sort(costs, costs + bestK_, costs + n);
    float sum = 0;
    for (int k = 0; k < bestK_; ++k) sum += costs[k];
    return sum / float(bestK_);
  }

  // Pixels between (x, y) and where X, seen by the source at the depth the source
  // estimated there, reprojects into the reference. Large when the source has no estimate.
  float forwardBackwardError(const Source& s, const Vec3& X, int x, int y) const {
    if (!s.map) return 1e9f;
    const Vec3 Xs = s.Rrel * X + s.trel;
    if (Xs.z() <= 0) return 1e9f;
    const Vec3 q = s.Ks * Xs;
    const float u = q.x() / q.z(), v = q.y() / q.z();
    const int ui = int(std::lround(u)), vi = int(std::lround(v));
    if (ui < 0 || vi < 0 || ui >= s.map->width || vi >= s.map->height) return 1e9f;
    const float ds = s.map->depth[size_t(vi) * size_t(s.map->width) + size_t(ui)];
    if (!(ds > 0)) return 1e9f;
    const Vec3 back = s.Rrel.transpose() * (ds * (s.KsInv * Vec3(u, v, 1.0f)) - s.trel);
    if (back.z() <= 0) return 1e9f;
    const Vec3 pr = K_ * back;
    const float ex = pr.x() / pr.z() - float(x), ey = pr.y() / pr.z() - float(y);
    return std::sqrt(ex * ex + ey * ey);
  }

  // The plane of the hypothesis at (nx, ny), intersected with the ray of (x, y).
  bool propagate(int nx, int ny, int x, int y, Hypothesis& out) const {
    const size_t j = index(nx, ny);
    const Vec3 n = normal_[j];
    const float delta = depth_[j] * n.dot(ray(nx, ny));
    const float nr = n.dot(ray(x, y));
    if (nr >= -1e-4f) return false;
    const float d = delta / nr;
    if (!(d > 0.5f * dmin_ && d < 2.0f * dmax_)) return false;
    out = {d, n};
    return true;
  }

  void tryHypothesis(int x, int y, const Window& win, const Hypothesis& hyp) {
    const size_t i = index(x, y);
    // A neighbour on the same plane proposes (nearly) the current hypothesis: skip it.
    if (std::fabs(hyp.depth - depth_[i]) < 1e-5f * depth_[i] && hyp.normal.dot(normal_[i]) > 0.99999f)
      return;
    const float c = evaluate(x, y, win, hyp, nullptr);
    if (c < cost_[i]) {
      cost_[i] = c;
      depth_[i] = hyp.depth;
      normal_[i] = hyp.normal;
    }
  }

  void processRow(int y, int colour, int sweep) {
    Window win;
    // Refinement shrinks over the sweeps.
    const float scale = std::pow(0.5f, float(sweep));
    for (int x = (y + colour) % 2; x < w_; x += 2) {
      loadWindow(x, y, win);
      const size_t i = index(x, y);
      // Propagation: the four direct neighbours, and in each direction the best
      // (lowest-cost) of the pixels 3, 5 and 7 away (ACMH's adaptive checkerboard, simplified).
      static const int kDirs[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
      for (const auto& d : kDirs) {
        const int nx = x + d[0], ny = y + d[1];
        Hypothesis h;
        if (nx >= 0 && ny >= 0 && nx < w_ && ny < h_ && propagate(nx, ny, x, y, h))
          tryHypothesis(x, y, win, h);
        int best = -1;
        float bestCost = kMaxCost * 4;
        for (int dist = 3; dist <= 7; dist += 2) {
          const int fx = x + d[0] * dist, fy = y + d[1] * dist;
          if (fx < 0 || fy < 0 || fx >= w_ || fy >= h_) break;
          if (cost_[index(fx, fy)] < bestCost) bestCost = cost_[index(fx, fy)], best = dist;
        }
        if (best > 0 && propagate(x + d[0] * best, y + d[1] * best, x, y, h))
          tryHypothesis(x, y, win, h);
      }
      // Refinement: random and perturbed depths and normals.
      Rng rng(seedFor(x, y, sweep * 2 + colour));
      const Vec3 r = ray(x, y);
      const float invRange = 1.0f / dmin_ - 1.0f / dmax_;
      auto perturbDepth = [&](float d) {
        const float inv = 1.0f / d + rng.symmetric() * 0.05f * scale * invRange;
        return inv > 0 ? 1.0f / inv : d;
      };
      auto perturbNormal = [&](const Vec3& n) {
        Vec3 p = (n + Vec3(rng.symmetric(), rng.symmetric(), rng.symmetric()) * 0.3f * scale)
                     .normalized();
        return p.dot(r) < 0 ? p : n;
      };
      const Hypothesis cur{depth_[i], normal_[i]};
      tryHypothesis(x, y, win, {randomDepth(rng), cur.normal});
      tryHypothesis(x, y, win, {cur.depth, randomNormal(r, rng)});
      tryHypothesis(x, y, win, {perturbDepth(depth_[i]), normal_[i]});
      tryHypothesis(x, y, win, {depth_[i], perturbNormal(normal_[i])});
      tryHypothesis(x, y, win, {perturbDepth(depth_[i]), perturbNormal(normal_[i])});
    }
  }

  DepthMap finish(DepthMap* raw) const {
    DepthMap out;
    out.width = w_;
    out.height = h_;
    out.depth.assign(size_t(w_) * h_, 0.0f);
    out.normals.assign(size_t(w_) * h_ * 3, 0.0f);
    out.confidence.assign(size_t(w_) * h_, 0.0f);
    DepthMap rawMap = out;
    const int n = int(sources_.size());
    const int needed = std::min(o_.min_consistent_views, n);
    parallelFor(
        size_t(h_),
        [&](size_t yy) {
          const int y = int(yy);
          Window win;
          ViewCosts detail;
          float ncc[kMaxSources];
          for (int x = 0; x < w_; ++x) {
            const size_t i = index(x, y);
            loadWindow(x, y, win);
            const Hypothesis hyp{depth_[i], normal_[i]};
            evaluate(x, y, win, hyp, &detail);
            int agree = 0;
            for (int k = 0; k < n; ++k) {
              ncc[k] = detail.ncc[k];
              if (detail.ncc[k] >= o_.min_ncc &&
                  (!geometric_ || detail.geomError[k] <= o_.filter_geom_error))
                ++agree;
            }
            std::partial_sort(ncc, ncc + bestK_, ncc + n, std::greater<float>());
            float meanNcc = 0;
            for (int k = 0; k < bestK_; ++k) meanNcc += ncc[k];
            meanNcc /= float(bestK_);
            const float confidence = std::clamp(meanNcc, 0.0f, 1.0f);
            const bool valid = win.varR > 1e-5f && hyp.depth > 0;
            rawMap.depth[i] = valid ? hyp.depth : 0.0f;
            rawMap.confidence[i] = confidence;
            for (int c = 0; c < 3; ++c) rawMap.normals[3 * i + size_t(c)] = hyp.normal[c];
            if (valid && agree >= needed && hyp.depth >= dmin_ && hyp.depth <= dmax_) {
              out.depth[i] = hyp.depth;
              out.confidence[i] = confidence;
              for (int c = 0; c < 3; ++c) out.normals[3 * i + size_t(c)] = hyp.normal[c];
            }
          }
        },
        o_.threads);
    if (raw) *raw = std::move(rawMap);
    // A smooth gradient (sky) correlates with itself at any depth: drop flat regions.
    if (o_.min_texture_std > 0) clearTexturelessDepth(view_, out, 3, o_.min_texture_std);
    return out;
  }

  const PatchMatchOptions& o_;
  const MvsView& view_;
  int w_, h_;
  std::vector<float> gray_;
  std::vector<std::vector<float>> grays_;
  std::vector<Source> sources_;
  Mat3 K_, Kinv_;
  float dmin_ = 0, dmax_ = 0;
  bool geometric_ = false;
  int bestK_ = 1;
  std::vector<std::array<int, 2>> offsets_;
  std::vector<float> spatial_;
  float colorLut_[256];
  std::vector<float> depth_;
  std::vector<Vec3> normal_;
  std::vector<float> cost_;
};

}  // namespace

DepthMap patchMatchDepth(const std::vector<MvsView>& views, int ref,
                         const PatchMatchOptions& options, const DepthMap* init,
                         const std::vector<const DepthMap*>* sourceMaps, DepthMap* raw,
                         const std::function<void(int, int)>& progress) {
  if (ref < 0 || size_t(ref) >= views.size()) throw Error("internal: bad reference view index");
  Solver solver(views, ref, options, sourceMaps);
  return solver.run(init, raw, progress);
}

}  // namespace parallax
