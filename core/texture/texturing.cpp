#include "texture/texturing.h"

#include <Eigen/Dense>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <unordered_map>

#include "scene/rasterizer.h"
#include "surface/graph_cut.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/parallel.h"

namespace parallax {
namespace {

// One photo's view of one face.
struct Candidate {
  uint32_t view;
  float quality;        // projected area times sharpness
  Eigen::Vector3f colour;  // mean over the face's pixels, 0-255
  bool partial;            // partly hidden or outside the photo: used only when no view sees it whole
};

struct ViewData {
  uint32_t image_id;
  std::string name;
  Camera camera;
  Rigid3d pose;
  Eigen::Matrix3f R;
  Eigen::Vector3f t;
  Eigen::Vector2f project(const Eigen::Vector3f& X) const {
    const Eigen::Vector3f c = R * X + t;
    return {float(camera.focalX()) * c.x() / c.z() + float(camera.principalX()),
            float(camera.focalY()) * c.y() / c.z() + float(camera.principalY())};
  }
  Eigen::Vector3f centre() const { return -R.transpose() * t; }
};

Eigen::Vector3f bilinear(const RgbImage& img, float x, float y) {
  // Continuous coordinates: pixel i spans [i, i + 1), its centre at i + 0.5.
  x = std::clamp(x - 0.5f, 0.f, float(img.width - 1));
  y = std::clamp(y - 0.5f, 0.f, float(img.height - 1));
  const int x0 = int(x), y0 = int(y);
  const int x1 = std::min(x0 + 1, img.width - 1), y1 = std::min(y0 + 1, img.height - 1);
  const float fx = x - float(x0), fy = y - float(y0);
  auto px = [&](int xx, int yy) {
    const uint8_t* p = img.rgb.data() + 3 * (size_t(yy) * size_t(img.width) + size_t(xx));
    return Eigen::Vector3f(p[0], p[1], p[2]);
  };
  return (1 - fy) * ((1 - fx) * px(x0, y0) + fx * px(x1, y0)) + fy * ((1 - fx) * px(x0, y1) + fx * px(x1, y1));
}

// Sobel gradient magnitude of the grey image (0-255 scale).
std::vector<float> gradientMagnitude(const RgbImage& img) {
  const int W = img.width, H = img.height;
  std::vector<float> grey(size_t(W) * H), g(size_t(W) * H, 0.f);
  for (size_t i = 0; i < grey.size(); ++i)
    grey[i] = (img.rgb[3 * i] + img.rgb[3 * i + 1] + img.rgb[3 * i + 2]) / 3.f;
  for (int y = 1; y + 1 < H; ++y)
    for (int x = 1; x + 1 < W; ++x) {
      auto v = [&](int dx, int dy) { return grey[size_t(y + dy) * W + size_t(x + dx)]; };
      const float gx = (v(1, -1) + 2 * v(1, 0) + v(1, 1)) - (v(-1, -1) + 2 * v(-1, 0) + v(-1, 1));
      const float gy = (v(-1, 1) + 2 * v(0, 1) + v(1, 1)) - (v(-1, -1) + 2 * v(0, -1) + v(1, -1));
      g[size_t(y) * W + size_t(x)] = std::sqrt(gx * gx + gy * gy) / 8.f;
    }
  return g;
}

// Faces sharing an edge: (face, face) pairs, and per face its edge neighbours.
struct Adjacency {
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  std::vector<std::array<int, 3>> neighbours;  // -1 where the edge is a border
};

Adjacency faceAdjacency(const TriangleMesh& mesh) {
  Adjacency a;
  a.neighbours.assign(mesh.faces.size(), {-1, -1, -1});
  std::unordered_map<uint64_t, std::pair<uint32_t, int>> open;
  open.reserve(mesh.faces.size() * 2);
  for (uint32_t f = 0; f < mesh.faces.size(); ++f)
    for (int k = 0; k < 3; ++k) {
      uint32_t u = uint32_t(mesh.faces[f][k]), v = uint32_t(mesh.faces[f][(k + 1) % 3]);
      if (u > v) std::swap(u, v);
      const uint64_t key = (uint64_t(u) << 32) | v;
      auto it = open.find(key);
      if (it == open.end()) {
        open.emplace(key, std::make_pair(f, k));
      } else {
        const auto [g, kg] = it->second;
        a.neighbours[f][size_t(k)] = int(g);
        a.neighbours[g][size_t(kg)] = int(f);
        a.pairs.push_back({g, f});
        open.erase(it);  // a third face on the edge stays unlinked (repair removes those)
      }
    }
  return a;
}

// Rejects, per face, the views whose colour strays from the others' (a passer-by or an
// object that moved covers the face in them): the median colour over at least three
// views is the reference; a view farther than the larger of `minDistance` and 2.5 times
// the median distance goes.
size_t rejectInconsistentViews(std::vector<std::vector<Candidate>>& candidates, float minDistance,
                               const Adjacency& adj) {
  std::atomic<size_t> rejected{0};
  std::vector<std::vector<uint32_t>> gone(candidates.size());  // per face: views rejected
  parallelFor(candidates.size(), [&](size_t f) {
    auto& c = candidates[f];
    if (c.size() < 3) return;
    Eigen::Vector3f median;
    std::vector<float> v(c.size());
    for (int ch = 0; ch < 3; ++ch) {
      for (size_t i = 0; i < c.size(); ++i) v[i] = c[i].colour[ch];
      std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
      median[ch] = v[v.size() / 2];
    }
    std::vector<float> d(c.size());
    for (size_t i = 0; i < c.size(); ++i) d[i] = (c[i].colour - median).norm();
    std::vector<float> sorted = d;
    std::nth_element(sorted.begin(), sorted.begin() + long(sorted.size() / 2), sorted.end());
    const float limit = std::max(minDistance, 2.5f * sorted[sorted.size() / 2]);
    std::vector<Candidate> kept;
    for (size_t i = 0; i < c.size(); ++i)
      if (d[i] <= limit) kept.push_back(c[i]);
      else gone[f].push_back(c[i].view);
    rejected += c.size() - kept.size();
    c.swap(kept);
  });
  // An occluder covers neighbouring faces together: faces at its rim, whose mean colour
  // it shifts too little to be caught, lose that view too (two rings of neighbours),
  // unless it is the only one they have.
  for (int ring = 0; ring < 2; ++ring) {
    std::vector<std::vector<uint32_t>> next(candidates.size());
    for (size_t f = 0; f < candidates.size(); ++f)
      for (uint32_t view : gone[f])
        for (int n : adj.neighbours[f]) {
          if (n < 0) continue;
          auto& c = candidates[size_t(n)];
          auto it = std::find_if(c.begin(), c.end(), [&](const Candidate& k) { return k.view == view; });
          if (it == c.end() || c.size() < 2) continue;
          c.erase(it);
          next[size_t(n)].push_back(view);
          ++rejected;
        }
    gone.swap(next);
  }
  return rejected;
}

// Alpha-expansion of a Potts MRF over the faces: data cost 1 - quality / best quality
// per face, `smoothness` per edge between faces of different photos. Each expansion
// move is one minimum cut over the faces that may take the photo.
std::vector<int> selectViews(const std::vector<std::vector<Candidate>>& candidates,
                             const Adjacency& adj, size_t numViews, double smoothness, int sweeps) {
  const size_t F = candidates.size();
  std::vector<int> label(F, -1);
  std::vector<float> best(F, 0.f);
  for (size_t f = 0; f < F; ++f)
    for (const Candidate& c : candidates[f])
      if (c.quality > best[f]) best[f] = c.quality, label[f] = int(c.view);
  auto dataCost = [&](size_t f, int view) -> float {
    if (view < 0) return candidates[f].empty() ? 0.f : 1e6f;
    for (const Candidate& c : candidates[f])
      if (int(c.view) == view) return 1.f - c.quality / best[f];
    return 1e6f;
  };
  // Which faces may take each view.
  std::vector<std::vector<uint32_t>> facesOf(numViews);
  for (size_t f = 0; f < F; ++f)
    for (const Candidate& c : candidates[f]) facesOf[c.view].push_back(uint32_t(f));
  const float w = float(smoothness);
  std::vector<int> node(F, -1);
  for (int sweep = 0; sweep < sweeps; ++sweep) {
    size_t changed = 0;
    for (size_t alpha = 0; alpha < numViews; ++alpha) {
      throwIfCancelled();
      const std::vector<uint32_t>& faces = facesOf[alpha];
      if (faces.empty()) continue;
      for (size_t i = 0; i < faces.size(); ++i) node[faces[i]] = int(i);
      CutGraph g(faces.size());
      // Inside (sink side) = switch to alpha; outside = keep the current label.
      auto addUnary = [&](uint32_t n, float keep, float take) {
        g.sink[n] += keep;
        g.source[n] += take;
      };
      for (size_t i = 0; i < faces.size(); ++i) {
        const uint32_t f = faces[i];
        addUnary(uint32_t(i), dataCost(f, label[f]), dataCost(f, int(alpha)));
      }
      for (size_t i = 0; i < faces.size(); ++i) {
        const uint32_t p = faces[i];
        for (int k = 0; k < 3; ++k) {
          const int q = adj.neighbours[p][size_t(k)];
          if (q < 0) continue;
          const int a = int(alpha);
          auto V = [&](int l1, int l2) { return l1 == l2 ? 0.f : w; };
          if (node[size_t(q)] < 0) {
            // q cannot take alpha: a unary term on p.
            addUnary(uint32_t(i), V(label[p], label[size_t(q)]), V(a, label[size_t(q)]));
          } else if (uint32_t(q) > p) {
            // Both may switch (each edge once): E(xp, xq), x = 1 means "takes alpha".
            const float A = V(label[p], label[size_t(q)]), B = V(label[p], a), C = V(a, label[size_t(q)]), D = 0.f;
            const uint32_t np = uint32_t(i), nq = uint32_t(node[size_t(q)]);
            // E = A + (C - A) xp + (D - C) xq + (B + C - A - D) (1 - xp) xq
            if (C - A >= 0) g.source[np] += C - A; else g.sink[np] += A - C;
            if (D - C >= 0) g.source[nq] += D - C; else g.sink[nq] += C - D;
            const float pairCost = std::max(0.f, B + C - A - D);
            if (pairCost > 0) g.edges.push_back({np, nq, pairCost, 0.f});
          }
        }
      }
      const std::vector<char> take = minimumCutInside(g);
      for (size_t i = 0; i < faces.size(); ++i) {
        if (take[i] && label[faces[i]] != int(alpha)) {
          label[faces[i]] = int(alpha);
          ++changed;
        }
        node[faces[i]] = -1;
      }
    }
    if (changed == 0) break;
  }
  return label;
}

struct Chart {
  int view = -1;                 // -1: the untextured faces' grey patch
  std::vector<uint32_t> faces;
  Eigen::Vector2i origin = Eigen::Vector2i::Zero();  // photo pixel at the rect's corner
  Eigen::Vector2i size = Eigen::Vector2i::Zero();    // rect size with padding
  int page = -1;
  Eigen::Vector2i at = Eigen::Vector2i::Zero();      // rect's corner in its page
};

// Shelf packing, tallest first, into pages of at most `pageSize`; the last page shrinks
// to the smallest power of two that holds what is left on it.
std::vector<Eigen::Vector2i> packCharts(std::vector<Chart>& charts, int pageSize) {
  std::vector<size_t> order(charts.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return charts[a].size.y() != charts[b].size.y() ? charts[a].size.y() > charts[b].size.y() : a < b;
  });
  auto pack = [&](const std::vector<size_t>& which, int size, int firstPage, std::vector<int>* pageOf) {
    int page = firstPage, x = 0, y = 0, shelf = 0;
    for (size_t i : which) {
      Chart& c = charts[i];
      if (x + c.size.x() > size) {
        x = 0;
        y += shelf;
        shelf = 0;
      }
      if (y + c.size.y() > size) {
        ++page;
        x = y = shelf = 0;
      }
      c.page = page;
      c.at = {x, y};
      x += c.size.x();
      shelf = std::max(shelf, c.size.y());
      if (pageOf) pageOf->push_back(page);
    }
    return page;
  };
  const int last = pack(order, pageSize, 0, nullptr);
  std::vector<Eigen::Vector2i> pages(size_t(last) + 1, Eigen::Vector2i(pageSize, pageSize));
  // Repack the last page's charts into the smallest square that holds them.
  std::vector<size_t> onLast;
  for (size_t i : order)
    if (charts[i].page == last) onLast.push_back(i);
  for (int size = 16; size < pageSize; size *= 2) {
    std::vector<Chart> saved;
    for (size_t i : onLast) saved.push_back(charts[i]);
    bool fits = true;
    for (size_t i : onLast) fits = fits && charts[i].size.x() <= size;
    if (fits && pack(onLast, size, last, nullptr) == last) {
      pages.back() = {size, size};
      break;
    }
    for (size_t k = 0; k < onLast.size(); ++k) charts[onLast[k]] = saved[k];
  }
  return pages;
}

// Least-squares gains per photo and channel: across every seam vertex the two photos'
// colours should agree once scaled, and every gain stays near 1.
std::vector<Eigen::Vector3f> seamGains(const std::vector<std::tuple<int, int, Eigen::Vector3f, Eigen::Vector3f>>& pairs,
                                       size_t numViews) {
  std::vector<Eigen::Vector3f> gains(numViews, Eigen::Vector3f::Ones());
  if (pairs.empty()) return gains;
  const double lambda = 0.1 * double(pairs.size()) / double(numViews);  // prior weight per photo
  for (int ch = 0; ch < 3; ++ch) {
    Eigen::MatrixXd A = Eigen::MatrixXd::Zero(long(numViews), long(numViews));
    Eigen::VectorXd b = Eigen::VectorXd::Zero(long(numViews));
    for (const auto& [va, vb, ca, cb] : pairs) {
      const double a = ca[ch] / 255.0, c = cb[ch] / 255.0;
      // (g_a a - g_b c)^2
      A(va, va) += a * a;
      A(vb, vb) += c * c;
      A(va, vb) -= a * c;
      A(vb, va) -= a * c;
    }
    for (size_t v = 0; v < numViews; ++v) {
      A(long(v), long(v)) += lambda;
      b(long(v)) += lambda;
    }
    const Eigen::VectorXd g = A.ldlt().solve(b);
    for (size_t v = 0; v < numViews; ++v) gains[v][ch] = float(std::clamp(g(long(v)), 0.5, 2.0));
  }
  return gains;
}

Eigen::Vector3f texelAt(const TexturedMesh& t, size_t f, const Eigen::Vector3f& bary);

// Each pair of faces sharing an edge, vertices matched by `id` (vertices split at chart
// borders share one): visit(f, k, g, kg), the edge from f's corner k and g's corner kg.
template <typename Id, typename Visit>
void forEachSharedEdge(const TriangleMesh& m, Id&& id, Visit&& visit) {
  std::unordered_map<uint64_t, std::pair<uint32_t, int>> open;
  for (uint32_t f = 0; f < m.faces.size(); ++f)
    for (int k = 0; k < 3; ++k) {
      uint32_t u = id(size_t(m.faces[f][k])), v = id(size_t(m.faces[f][(k + 1) % 3]));
      if (u > v) std::swap(u, v);
      const uint64_t key = (uint64_t(u) << 32) | v;
      auto it = open.find(key);
      if (it == open.end()) {
        open.emplace(key, std::make_pair(f, k));
        continue;
      }
      const auto [g, kg] = it->second;
      open.erase(it);
      visit(f, k, g, kg);
    }
}

// The texels (x, y) of a W x H page whose centres lie in the triangle p (page pixels),
// with their barycentric weights; a sliver's worth of tolerance keeps shared edges covered.
template <typename Visit>
void forEachTexelOfFace(const Eigen::Vector2f p[3], int W, int H, Visit&& visit) {
  const float area = (p[1] - p[0]).x() * (p[2] - p[0]).y() - (p[1] - p[0]).y() * (p[2] - p[0]).x();
  if (std::abs(area) < 1e-8f) return;
  const int x0 = std::max(0, int(std::floor(std::min({p[0].x(), p[1].x(), p[2].x()}))));
  const int x1 = std::min(W - 1, int(std::ceil(std::max({p[0].x(), p[1].x(), p[2].x()}))));
  const int y0 = std::max(0, int(std::floor(std::min({p[0].y(), p[1].y(), p[2].y()}))));
  const int y1 = std::min(H - 1, int(std::ceil(std::max({p[0].y(), p[1].y(), p[2].y()}))));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const Eigen::Vector2f q(float(x) + 0.5f, float(y) + 0.5f);
      auto edge = [&](const Eigen::Vector2f& a, const Eigen::Vector2f& b) {
        return ((b - a).x() * (q - a).y() - (b - a).y() * (q - a).x()) / area;
      };
      const float w0 = edge(p[1], p[2]), w1 = edge(p[2], p[0]), w2 = edge(p[0], p[1]);
      const float eps = -0.02f;
      if (w0 < eps || w1 < eps || w2 < eps) continue;
      visit(x, y, w0, w1, w2);
    }
}

// Local seam levelling (after Waechter et al.'s local adjustment): where a vertex sits
// on the border of several charts, each chart's colour there is moved to their mean;
// the offsets fade into each chart over `rings` rings of vertices (Jacobi steps of the
// graph Laplacian), and are added to the chart's texels. `source`: per output vertex,
// the input vertex it copies.
void levelSeamsLocally(TexturedMesh& t, const std::vector<int>& source, int rings) {
  const size_t V = t.mesh.points.size(), F = t.mesh.faces.size();
  // Each copy's colour: its chart's texel at the vertex.
  std::vector<Eigen::Vector3f> colour(V, Eigen::Vector3f::Zero());
  std::vector<int> n(V, 0);
  std::vector<std::vector<uint32_t>> neighbours(V);
  for (size_t f = 0; f < F; ++f) {
    if (t.face_view[f] < 0) continue;
    for (int k = 0; k < 3; ++k) {
      Eigen::Vector3f b = Eigen::Vector3f::Zero();
      b[k] = 1.f;  // the vertex itself: the same surface point in every copy's photo
      const size_t v = size_t(t.mesh.faces[f][k]);
      colour[v] += texelAt(t, f, b);
      ++n[v];
      neighbours[v].push_back(uint32_t(t.mesh.faces[f][(k + 1) % 3]));
      neighbours[v].push_back(uint32_t(t.mesh.faces[f][(k + 2) % 3]));
    }
  }
  std::unordered_map<int, std::vector<uint32_t>> copies;
  for (size_t v = 0; v < V; ++v)
    if (n[v] > 0) copies[source[v]].push_back(uint32_t(v));
  std::vector<Eigen::Vector3f> offset(V, Eigen::Vector3f::Zero());
  std::vector<char> fixed(V, 0);
  for (const auto& [src, vs] : copies) {
    if (vs.size() < 2) continue;
    Eigen::Vector3f mean = Eigen::Vector3f::Zero();
    for (uint32_t v : vs) mean += colour[v] / float(n[v]);
    mean /= float(vs.size());
    // Copies far apart see different things (an occlusion edge, a misplaced sliver), not
    // one surface under different exposure: those are held where they are.
    float spread = 0;
    for (uint32_t v : vs) spread = std::max(spread, (colour[v] / float(n[v]) - mean).cwiseAbs().maxCoeff());
    for (uint32_t v : vs) {
      offset[v] = spread <= 30.f ? Eigen::Vector3f(mean - colour[v] / float(n[v])) : Eigen::Vector3f::Zero();
      fixed[v] = 1;
    }
  }
  std::vector<Eigen::Vector3f> next(V);
  for (int it = 0; it < rings; ++it) {
    for (size_t v = 0; v < V; ++v) {
      if (fixed[v] || neighbours[v].empty()) {
        next[v] = offset[v];
        continue;
      }
      Eigen::Vector3f sum = Eigen::Vector3f::Zero();
      for (uint32_t w : neighbours[v]) sum += offset[w];
      next[v] = sum / float(neighbours[v].size());
    }
    offset.swap(next);
  }
  // The offsets drawn into the atlas: per texel inside a face, interpolated; then two
  // texels out, so that sampling at a chart's edge reads adjusted texels too.
  for (size_t page = 0; page < t.pages.size(); ++page) {
    RgbImage& img = t.pages[page];
    const int W = img.width, H = img.height;
    std::vector<Eigen::Vector3f> add(size_t(W) * size_t(H), Eigen::Vector3f::Zero());
    std::vector<char> set(size_t(W) * size_t(H), 0);
    for (size_t f = 0; f < F; ++f) {
      if (t.face_view[f] < 0 || t.face_page[f] != int(page)) continue;
      Eigen::Vector2f p[3];
      for (int k = 0; k < 3; ++k) p[k] = t.uv[size_t(t.mesh.faces[f][k])].cwiseProduct(Eigen::Vector2f(float(W), float(H)));
      forEachTexelOfFace(p, W, H, [&](int x, int y, float w0, float w1, float w2) {
        const size_t i = size_t(y) * size_t(W) + size_t(x);
        add[i] = w0 * offset[size_t(t.mesh.faces[f][0])] + w1 * offset[size_t(t.mesh.faces[f][1])] +
                 w2 * offset[size_t(t.mesh.faces[f][2])];
        set[i] = 1;
      });
    }
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<char> grown = set;
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
          const size_t i = size_t(y) * size_t(W) + size_t(x);
          if (set[i]) continue;
          Eigen::Vector3f sum = Eigen::Vector3f::Zero();
          int m = 0;
          for (const auto& [dx, dy] : {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
            const int xx = x + dx, yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
            const size_t j = size_t(yy) * size_t(W) + size_t(xx);
            if (set[j]) sum += add[j], ++m;
          }
          if (m) add[i] = sum / float(m), grown[i] = 1;
        }
      set.swap(grown);
    }
    for (size_t i = 0; i < add.size(); ++i)
      if (set[i])
        for (int ch = 0; ch < 3; ++ch)
          img.rgb[3 * i + size_t(ch)] = uint8_t(std::clamp(float(img.rgb[3 * i + size_t(ch)]) + add[i][ch] + 0.5f, 0.f, 255.f));
  }
}

// The edges between charts: the two faces of an input edge in different charts, both
// textured; in g the edge runs from corner kg or, `reversed`, the other way.
struct BorderEdge {
  uint32_t f, k, g, kg;
  bool reversed;
};

std::vector<BorderEdge> chartBorders(const TexturedMesh& t, const std::vector<int>& source,
                                     const std::vector<int>& faceChart) {
  const TriangleMesh& m = t.mesh;
  std::vector<BorderEdge> borders;
  forEachSharedEdge(m, [&](size_t v) { return uint32_t(source[v]); }, [&](uint32_t f, int k, uint32_t g, int kg) {
    if (t.face_view[f] >= 0 && t.face_view[g] >= 0 && faceChart[f] != faceChart[g])
      borders.push_back({f, uint32_t(k), g, uint32_t(kg),
                         source[size_t(m.faces[g][kg])] != source[size_t(m.faces[f][k])]});
  });
  return borders;
}

// A face's corners in its page's pixels.
void pageCorners(const TexturedMesh& t, size_t f, Eigen::Vector2f q[3]) {
  const RgbImage& img = t.pages[size_t(t.face_page[f])];
  for (int k = 0; k < 3; ++k)
    q[k] = t.uv[size_t(t.mesh.faces[f][k])].cwiseProduct(Eigen::Vector2f(float(img.width), float(img.height)));
}

// The texel (its index in the page) at fraction s along the edge from corner k of face f.
size_t texelOnEdge(const TexturedMesh& t, size_t f, int k, float s) {
  Eigen::Vector2f q[3];
  pageCorners(t, f, q);
  const Eigen::Vector2f at = (1 - s) * q[k] + s * q[(k + 1) % 3];
  const RgbImage& img = t.pages[size_t(t.face_page[f])];
  const int x = std::clamp(int(at.x()), 0, img.width - 1), y = std::clamp(int(at.y()), 0, img.height - 1);
  return size_t(y) * size_t(img.width) + size_t(x);
}

// Per page: which face owns each texel (-1: none).
std::vector<std::vector<int32_t>> texelOwners(const TexturedMesh& t) {
  std::vector<std::vector<int32_t>> owner(t.pages.size());
  for (size_t p = 0; p < t.pages.size(); ++p) owner[p].assign(size_t(t.pages[p].width) * size_t(t.pages[p].height), -1);
  for (size_t f = 0; f < t.mesh.faces.size(); ++f) {
    if (t.face_view[f] < 0) continue;
    Eigen::Vector2f q[3];
    pageCorners(t, f, q);
    const RgbImage& img = t.pages[size_t(t.face_page[f])];
    forEachTexelOfFace(q, img.width, img.height, [&](int x, int y, float, float, float) {
      owner[size_t(t.face_page[f])][size_t(y) * size_t(img.width) + size_t(x)] = int32_t(f);
    });
  }
  return owner;
}

// What the seam passes work on, found once: the borders between charts and, per page,
// the face that owns each texel (the passes change colours, not the layout).
struct SeamLayout {
  std::vector<BorderEdge> borders;
  std::vector<std::vector<int32_t>> owner;
};

// The four neighbours of texel i of a page of `size` texels, `W` wide.
template <typename Visit>
void forEachNeighbour(size_t i, size_t W, size_t size, Visit&& visit) {
  const size_t x = i % W;
  if (x + 1 < W) visit(i + 1);
  if (x > 0) visit(i - 1);
  if (i + W < size) visit(i + W);
  if (i >= W) visit(i - W);
}

// A band along the chart borders of one W x H page: from the seed texels in `order`
// (dist 0) breadth first into their own chart up to `band` texels (dist per texel, -1
// outside), then two texels into the padding around the charts (dist `band`, so that
// sampling at a chart's edge reads band texels too). reach(j, i): texel j joined from i.
template <typename ChartAt, typename Reach>
void growBand(std::vector<size_t>& order, std::vector<int>& dist, int band, int W, ChartAt&& chartAt, Reach&& reach) {
  auto neighbours = [&](size_t i, auto&& visit) { forEachNeighbour(i, size_t(W), dist.size(), visit); };
  for (size_t head = 0; head < order.size(); ++head) {
    const size_t i = order[head];
    if (dist[i] >= band) continue;
    neighbours(i, [&](size_t j) {
      if (dist[j] >= 0 || chartAt(j) != chartAt(i)) return;
      dist[j] = dist[i] + 1;
      reach(j, i);
      order.push_back(j);
    });
  }
  size_t from = 0;
  for (int pass = 0; pass < 2; ++pass) {
    const size_t to = order.size();
    for (size_t n = from; n < to; ++n) {
      const size_t i = order[n];
      neighbours(i, [&](size_t j) {
        if (chartAt(j) >= 0 || dist[j] >= 0) return;
        dist[j] = pass == 0 && chartAt(i) >= 0 ? dist[i] : band;
        reach(j, i);
        order.push_back(j);
      });
    }
    from = to;
  }
}

// Cross-fading across seams: within `band` texels of a border between two charts each
// texel mixes its own photo with the photo of the chart across the border, sampled at
// the same surface point: half and half at the border, its own photo alone `band`
// texels in. Where the mesh lies a little off the surface two photos disagree in
// detail, not only in exposure; that then changes gradually instead of in a step.
// Texels whose surface point the other photo does not see keep their colour.
void featherSeams(TexturedMesh& t, const SeamLayout& layout, const std::vector<int>& faceChart, int band,
                  const std::vector<ViewData>& views, const std::vector<Eigen::Vector3f>& gains, const PhotoLoader& load,
                  int threads, const std::function<bool(size_t face, int view)>& sees) {
  const std::vector<BorderEdge>& borders = layout.borders;
  if (borders.empty() || band <= 0) return;
  const std::vector<std::vector<int32_t>>& owner = layout.owner;
  // Seeds: the texels along each side of each border, with the photo across it.
  std::vector<std::unordered_map<size_t, int>> seeds(t.pages.size());
  for (const BorderEdge& e : borders) {
    Eigen::Vector2f q[3];
    pageCorners(t, e.f, q);
    const int n = std::max(2, int(std::ceil((q[(e.k + 1) % 3] - q[e.k]).norm())) + 1);
    for (int i = 0; i < n; ++i) {
      const float s = (float(i) + 0.5f) / float(n);
      seeds[size_t(t.face_page[e.f])].emplace(texelOnEdge(t, e.f, int(e.k), s), t.face_view[e.g]);
      seeds[size_t(t.face_page[e.g])].emplace(texelOnEdge(t, e.g, int(e.kg), e.reversed ? 1 - s : s), t.face_view[e.f]);
    }
  }
  struct Texel {
    uint32_t page, index, view;
    float own;  // the weight of the texel's own photo
    Eigen::Vector3f X;
  };
  std::vector<Texel> texels;
  for (size_t p = 0; p < t.pages.size(); ++p) {
    if (seeds[p].empty()) continue;
    const RgbImage& img = t.pages[p];
    const int W = img.width;
    const auto& own = owner[p];
    auto chartAt = [&](size_t i) { return own[i] < 0 ? -1 : faceChart[size_t(own[i])]; };
    std::vector<int> dist(own.size(), -1);
    std::vector<int32_t> other(own.size(), -1), face(own.size(), -1);
    std::vector<size_t> order;
    for (const auto& [i, view] : seeds[p]) {
      if (own[i] < 0) continue;
      dist[i] = 0;
      other[i] = view;
      face[i] = own[i];
      order.push_back(i);
    }
    growBand(order, dist, band, W, chartAt, [&](size_t j, size_t i) {
      other[j] = other[i];
      face[j] = own[j] >= 0 ? own[j] : face[i];  // padding: the neighbour's face, extended
    });
    for (size_t i : order) {
      if (dist[i] >= band) continue;
      const size_t f = size_t(face[i]);
      if (!sees(f, other[i])) continue;
      // The texel's centre in the face's plane (outside it for padding texels).
      Eigen::Vector2f q[3];
      pageCorners(t, f, q);
      const Eigen::Vector2f c(float(i % size_t(W)) + 0.5f, float(i / size_t(W)) + 0.5f);
      const Eigen::Vector2f e1 = q[1] - q[0], e2 = q[2] - q[0], d = c - q[0];
      const float det = e1.x() * e2.y() - e1.y() * e2.x();
      if (std::abs(det) < 1e-6f) continue;
      const float b1 = (d.x() * e2.y() - d.y() * e2.x()) / det, b2 = (e1.x() * d.y() - e1.y() * d.x()) / det;
      const auto& P = t.mesh.points;
      const auto& tri = t.mesh.faces[f];
      texels.push_back({uint32_t(p), uint32_t(i), uint32_t(other[i]), 0.5f + 0.5f * float(dist[i]) / float(band),
                        (1 - b1 - b2) * P[size_t(tri[0])] + b1 * P[size_t(tri[1])] + b2 * P[size_t(tri[2])]});
    }
  }
  // Each photo loaded once for the texels that take from it.
  std::vector<std::vector<uint32_t>> byView(views.size());
  for (size_t n = 0; n < texels.size(); ++n) byView[texels[n].view].push_back(uint32_t(n));
  std::vector<Eigen::Vector3f> across(texels.size());
  std::vector<char> sampled(texels.size(), 0);
  parallelFor(views.size(), [&](size_t vi) {
    throwIfCancelled();
    if (byView[vi].empty()) return;
    const RgbImage photo = load(views[vi].name);
    for (uint32_t n : byView[vi]) {
      const Eigen::Vector2f at = views[vi].project(texels[n].X);
      if (!(at.x() >= 0 && at.y() >= 0 && at.x() < float(photo.width) && at.y() < float(photo.height))) continue;
      across[n] = bilinear(photo, at.x(), at.y()).cwiseProduct(gains[vi]);
      sampled[n] = 1;
    }
  }, threads);
  for (size_t n = 0; n < texels.size(); ++n) {
    if (!sampled[n]) continue;
    uint8_t* px = t.pages[texels[n].page].rgb.data() + 3 * size_t(texels[n].index);
    const float w = texels[n].own;
    // Colours this far apart are not one surface seen twice but something in front of it
    // in one photo (an occluder, the mesh's own edge): kept as they are.
    if ((Eigen::Vector3f(px[0], px[1], px[2]) - across[n]).cwiseAbs().maxCoeff() > 60.f) continue;
    for (int ch = 0; ch < 3; ++ch)
      px[ch] = uint8_t(std::clamp(w * float(px[ch]) + (1 - w) * across[n][ch] + 0.5f, 0.f, 255.f));
  }
}

// Texel-level blending across seams (after Waechter et al.'s Poisson editing, on a band):
// along every edge between two charts each side's colour is moved halfway to the other's
// (differences smoothed along the edge), and the offset fades to nothing `band` texels
// into the chart (Jacobi steps of the Laplace equation on the band's texels). What the
// per-vertex levelling leaves along a seam (an offset varying faster than the vertices)
// is blended here. Sides that differ by more than an exposure step (an occlusion edge,
// a misplaced sliver) are left as they are.
void blendSeamTexels(TexturedMesh& t, const SeamLayout& layout, const std::vector<int>& faceChart, int band) {
  const std::vector<BorderEdge>& borders = layout.borders;
  if (borders.empty()) return;
  const std::vector<std::vector<int32_t>>& owner = layout.owner;
  // Seeds: the texels along each side of each border edge, with their offsets.
  std::vector<std::unordered_map<size_t, std::pair<Eigen::Vector3f, int>>> seeds(t.pages.size());
  for (const BorderEdge& e : borders) {
    Eigen::Vector2f pf[3];
    pageCorners(t, e.f, pf);
    const int n = std::max(2, int(std::ceil((pf[(e.k + 1) % 3] - pf[e.k]).norm())) + 1);
    std::vector<Eigen::Vector3f> diff(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      const float s = (float(i) + 0.5f) / float(n), sg = e.reversed ? 1 - s : s;
      Eigen::Vector3f bf = Eigen::Vector3f::Zero(), bg = Eigen::Vector3f::Zero();
      bf[int(e.k)] = 1 - s, bf[int(e.k + 1) % 3] = s;
      bg[int(e.kg)] = 1 - sg, bg[int(e.kg + 1) % 3] = sg;
      diff[size_t(i)] = texelAt(t, e.g, bg) - texelAt(t, e.f, bf);
    }
    // Smoothed along the edge: image noise and a texel of misregistration are not exposure.
    for (int i = 0; i < n; ++i) {
      Eigen::Vector3f sum = Eigen::Vector3f::Zero();
      int c = 0;
      for (int j = std::max(0, i - 3); j <= std::min(n - 1, i + 3); ++j) sum += diff[size_t(j)], ++c;
      const Eigen::Vector3f d = sum / float(c);
      if (d.cwiseAbs().maxCoeff() > 40.f) continue;
      const float s = (float(i) + 0.5f) / float(n);
      for (const auto& [face, corner, sign, sf] :
           {std::tuple{e.f, int(e.k), 0.5f, s}, std::tuple{e.g, int(e.kg), -0.5f, e.reversed ? 1 - s : s}}) {
        auto& seed = seeds[size_t(t.face_page[face])]
                         .try_emplace(texelOnEdge(t, face, corner, sf), Eigen::Vector3f::Zero(), 0)
                         .first->second;
        seed.first += sign * d;
        ++seed.second;
      }
    }
  }
  // Per page: the band's texels, the seeds fixed, zero at the band's far edge.
  for (size_t p = 0; p < t.pages.size(); ++p) {
    if (seeds[p].empty()) continue;
    RgbImage& img = t.pages[p];
    const int W = img.width;
    const auto& own = owner[p];
    auto chartAt = [&](size_t i) { return own[i] < 0 ? -1 : faceChart[size_t(own[i])]; };
    std::vector<int> dist(own.size(), -1);
    std::vector<size_t> order;
    std::vector<Eigen::Vector3f> offset(own.size(), Eigen::Vector3f::Zero());
    for (const auto& [i, sd] : seeds[p]) {
      if (chartAt(i) < 0) continue;
      dist[i] = 0;
      offset[i] = sd.first / float(sd.second);
      order.push_back(i);
    }
    std::unordered_map<size_t, size_t> padFrom;  // padding texel: the texel it grew from
    growBand(order, dist, band, W, chartAt, [&](size_t j, size_t i) {
      if (own[j] < 0) padFrom[j] = i;
    });
    std::vector<Eigen::Vector3f> next = offset;
    for (int it = 0; it < 2 * band; ++it) {
      for (size_t i : order) {
        if (own[i] < 0 || dist[i] == 0 || dist[i] >= band) continue;  // the seeds, the far edge and the padding stay
        Eigen::Vector3f sum = Eigen::Vector3f::Zero();
        int c = 0;
        forEachNeighbour(i, size_t(W), own.size(), [&](size_t j) {
          if (dist[j] >= 0 && chartAt(j) == chartAt(i)) sum += offset[j], ++c;
        });
        if (c) next[i] = sum / float(c);
      }
      offset.swap(next);
      for (size_t i : order) next[i] = offset[i];
    }
    for (size_t i : order)  // breadth first: a padding texel's source is set before it
      if (own[i] < 0) offset[i] = offset[padFrom.at(i)];
    for (size_t i : order)
      for (int ch = 0; ch < 3; ++ch)
        img.rgb[3 * i + size_t(ch)] =
            uint8_t(std::clamp(float(img.rgb[3 * i + size_t(ch)]) + offset[i][ch] + 0.5f, 0.f, 255.f));
  }
}

}  // namespace

TexturedMesh textureMesh(const TriangleMesh& input, const Reconstruction& cameras, const PhotoLoader& load,
                         const TextureOptions& o, TextureReport* report, const TextureProgress& progress,
                         const MaskLoader& masks) {
  if (input.faces.empty()) throw Error("texturing: the mesh has no faces");
  if (o.page_size < 64) throw Error("texture.page_size must be at least 64 pixels");
  TriangleMesh mesh = input;
  if (mesh.normals.size() != mesh.points.size()) mesh.computeVertexNormals();
  const size_t F = mesh.faces.size();
  std::vector<ViewData> views;
  for (const auto& [id, image] : cameras.images) {
    ViewData v;
    v.image_id = id;
    v.name = image.name;
    v.camera = cameras.cameras.at(image.camera_id);
    v.pose = image.cam_from_world;
    v.R = image.cam_from_world.rotation.toRotationMatrix().cast<float>();
    v.t = image.cam_from_world.translation.cast<float>();
    views.push_back(std::move(v));
  }
  if (views.empty()) throw Error("texturing: no registered photo");
  std::vector<Eigen::Vector3f> centroid(F), normal(F);
  for (size_t f = 0; f < F; ++f) {
    const auto& t = mesh.faces[f];
    const Eigen::Vector3f &a = mesh.points[size_t(t[0])], &b = mesh.points[size_t(t[1])], &c = mesh.points[size_t(t[2])];
    centroid[f] = (a + b + c) / 3.f;
    normal[f] = (b - a).cross(c - a).normalized();
  }

  // 1. What each photo sees of each face.
  std::vector<std::vector<Candidate>> candidates(F);
  std::mutex lock;
  std::atomic<size_t> done{0};
  const int threads = o.threads > 0 ? std::min(o.threads, 2) : 2;  // photos held at once
  parallelFor(views.size(), [&](size_t vi) {
    throwIfCancelled();
    const ViewData& v = views[vi];
    const RgbImage photo = load(v.name);
    if (photo.width != int(v.camera.width) || photo.height != int(v.camera.height))
      throw Error("photo '" + v.name + "' is " + std::to_string(photo.width) + "x" + std::to_string(photo.height) +
                  " but its camera says " + std::to_string(v.camera.width) + "x" + std::to_string(v.camera.height) +
                  "; rerun the undistort stage");
    const std::vector<uint8_t> mask = masks ? masks(v.name) : std::vector<uint8_t>();
    if (!mask.empty() && mask.size() != size_t(photo.width) * size_t(photo.height))
      throw Error("the mask of '" + v.name + "' does not have its photo's size; rerun the undistort stage");
    const std::vector<RasterSample> z = rasterize(mesh, v.camera, v.pose, 1e-4f);
    const std::vector<float> grad = gradientMagnitude(photo);
    std::vector<uint32_t> count(F, 0);
    std::vector<float> gradSum(F, 0.f);
    std::vector<Eigen::Vector3f> colourSum(F, Eigen::Vector3f::Zero());
    for (size_t i = 0; i < z.size(); ++i) {
      const int f = z[i].face;
      if (f < 0) continue;
      ++count[size_t(f)];
      gradSum[size_t(f)] += grad[i];
      colourSum[size_t(f)] += Eigen::Vector3f(photo.rgb[3 * i], photo.rgb[3 * i + 1], photo.rgb[3 * i + 2]);
    }
    const Eigen::Vector3f eye = v.centre();
    std::vector<std::pair<uint32_t, Candidate>> found;
    for (size_t f = 0; f < F; ++f) {
      const Eigen::Vector3f toEye = (eye - centroid[f]).normalized();
      // Either side: open scans' faces need not be oriented; the z-buffer decides what is seen.
      if (std::abs(normal[f].dot(toEye)) < float(o.min_cosine)) continue;
      const Eigen::Vector3f cc = v.R * centroid[f] + v.t;
      if (cc.z() <= 1e-4f) continue;
      Eigen::Vector2f p[3];
      bool inside = true;
      for (int k = 0; k < 3; ++k) {
        const Eigen::Vector3f X = mesh.points[size_t(mesh.faces[f][k])];
        if ((v.R * X + v.t).z() <= 1e-4f) inside = false;
        p[k] = v.project(X);
        inside = inside && p[k].x() >= 0 && p[k].y() >= 0 && p[k].x() < float(v.camera.width) &&
                 p[k].y() < float(v.camera.height);
      }
      if (!inside && count[f] == 0) continue;
      const float area = 0.5f * std::abs((p[1] - p[0]).x() * (p[2] - p[0]).y() - (p[1] - p[0]).y() * (p[2] - p[0]).x());
      // Unoccluded: nothing clearly in front of the centroid and of the corners pulled a
      // fifth of the way in (slivers and sub-pixel faces own few or no pixels of their own).
      int visible = 0;
      for (int k = 0; k < 4; ++k) {
        const Eigen::Vector3f X = k == 3 ? centroid[f]
                                         : Eigen::Vector3f(0.8f * mesh.points[size_t(mesh.faces[f][k])] + 0.2f * centroid[f]);
        const Eigen::Vector3f Xc = v.R * X + v.t;
        const Eigen::Vector2f m = v.project(X);
        const int px = std::clamp(int(m.x()), 0, int(v.camera.width) - 1);
        const int py = std::clamp(int(m.y()), 0, int(v.camera.height) - 1);
        const RasterSample& r = z[size_t(py) * v.camera.width + size_t(px)];
        if (!mask.empty() && mask[size_t(py) * v.camera.width + size_t(px)] == 0) {
          visible = -4;  // outside the object's mask: background, not this surface
          break;
        }
        if (r.face < 0 || r.face == int(f) || r.depth >= Xc.z() * 0.98f) ++visible;
      }
      if (visible <= 0) continue;
      Candidate c;
      c.view = uint32_t(vi);
      c.partial = visible < 4 || !inside;
      const Eigen::Vector2f m = v.project(centroid[f]);
      const size_t i = size_t(std::clamp(int(m.y()), 0, int(v.camera.height) - 1)) * v.camera.width +
                       size_t(std::clamp(int(m.x()), 0, int(v.camera.width) - 1));
      if (count[f] > 0) {
        c.colour = colourSum[f] / float(count[f]);
        c.quality = std::max(area, 0.01f) * (gradSum[f] / float(count[f]) + 2.f);
      } else {
        c.colour = bilinear(photo, m.x(), m.y());
        c.quality = std::max(area, 0.01f) * (grad[i] + 2.f);
      }
      found.push_back({uint32_t(f), c});
    }
    {
      std::lock_guard<std::mutex> g(lock);
      for (const auto& [f, c] : found) candidates[f].push_back(c);
    }
    if (progress) progress("views of the faces in " + v.name, ++done, views.size());
  }, threads);
  std::vector<std::vector<uint32_t>> partlySeen(F);  // views that see a face only in part (for cross-fading)
  for (size_t f = 0; f < F; ++f) {
    auto& c = candidates[f];
    std::sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) { return a.view < b.view; });
    // Views that see the face whole win; partly hidden ones only stand in for none.
    if (std::any_of(c.begin(), c.end(), [](const Candidate& k) { return !k.partial; })) {
      for (const Candidate& k : c)
        if (k.partial) partlySeen[f].push_back(k.view);
      c.erase(std::remove_if(c.begin(), c.end(), [](const Candidate& k) { return k.partial; }), c.end());
    }
  }

  TextureReport rep;
  rep.faces = F;
  const Adjacency adj = faceAdjacency(mesh);
  rep.rejected_views = rejectInconsistentViews(candidates, float(o.outlier_distance * 255.0), adj);

  // 2. One photo per face, traded against seams.
  if (progress) progress("choosing a photo per face", 0, 1);
  const std::vector<int> label = selectViews(candidates, adj, views.size(), o.smoothness, o.expansion_sweeps);
  size_t seams = 0;
  for (const auto& [a, b] : adj.pairs) seams += label[a] != label[b] ? 1 : 0;
  rep.seam_edge_share = adj.pairs.empty() ? 0.0 : double(seams) / double(adj.pairs.size());

  // 3. Charts: faces of one photo joined by edges.
  std::vector<int> chartOf(F, -1);
  std::vector<Chart> charts;
  Chart grey;
  for (size_t f = 0; f < F; ++f) {
    if (chartOf[f] >= 0) continue;
    if (label[f] < 0) {
      grey.faces.push_back(uint32_t(f));
      continue;
    }
    Chart c;
    c.view = label[f];
    const int id = int(charts.size());
    std::vector<uint32_t> stack{uint32_t(f)};
    chartOf[f] = id;
    while (!stack.empty()) {
      const uint32_t g = stack.back();
      stack.pop_back();
      c.faces.push_back(g);
      for (int n : adj.neighbours[g])
        if (n >= 0 && chartOf[size_t(n)] < 0 && label[size_t(n)] == c.view) {
          chartOf[size_t(n)] = id;
          stack.push_back(uint32_t(n));
        }
    }
    charts.push_back(std::move(c));
  }
  rep.untextured_faces = grey.faces.size();
  rep.charts = charts.size();
  const int pad = std::max(1, o.padding);
  for (Chart& c : charts) {
    const ViewData& v = views[size_t(c.view)];
    Eigen::Vector2f lo(std::numeric_limits<float>::max(), std::numeric_limits<float>::max()), hi = -lo;
    for (uint32_t f : c.faces)
      for (int k = 0; k < 3; ++k) {
        const Eigen::Vector2f p = v.project(mesh.points[size_t(mesh.faces[f][k])]);
        lo = lo.cwiseMin(p);
        hi = hi.cwiseMax(p);
      }
    c.origin = {int(std::floor(lo.x())) - pad, int(std::floor(lo.y())) - pad};
    c.size = {int(std::ceil(hi.x())) + pad - c.origin.x(), int(std::ceil(hi.y())) + pad - c.origin.y()};
    if (c.size.x() > o.page_size || c.size.y() > o.page_size) {
      int need = 64;
      while (need < std::max(c.size.x(), c.size.y())) need *= 2;
      throw Error("a texture chart of " + std::to_string(c.size.x()) + "x" + std::to_string(c.size.y()) +
                  " texels does not fit an atlas page of " + std::to_string(o.page_size) +
                  " pixels; set texture.page_size to " + std::to_string(need) + " or more");
    }
  }
  if (!grey.faces.empty()) {
    grey.size = {4, 4};
    charts.push_back(grey);
  }

  // 4. Exposure levelled across seams: colours of each seam vertex in both photos.
  std::vector<Eigen::Vector3f> gains(views.size(), Eigen::Vector3f::Ones());
  if (o.level_seams) {
    if (progress) progress("levelling exposure across seams", 0, 1);
    std::vector<std::tuple<int, int, Eigen::Vector3f, Eigen::Vector3f>> pairs;
    std::vector<Eigen::Vector3f> where;  // per pair: near the shared edge
    std::vector<std::vector<std::pair<size_t, int>>> wanted(views.size());  // (pair, side)
    for (const auto& [a, b] : adj.pairs) {
      if (label[a] == label[b] || label[a] < 0 || label[b] < 0) continue;
      const size_t k = pairs.size();
      pairs.emplace_back(label[a], label[b], Eigen::Vector3f::Zero(), Eigen::Vector3f::Zero());
      where.push_back(0.5f * (centroid[a] + centroid[b]));
      wanted[size_t(label[a])].push_back({k, 0});
      wanted[size_t(label[b])].push_back({k, 1});
    }
    parallelFor(views.size(), [&](size_t vi) {
      if (wanted[vi].empty()) return;
      const RgbImage photo = load(views[vi].name);
      for (const auto& [k, side] : wanted[vi]) {
        const Eigen::Vector2f p = views[vi].project(where[k]);
        (side == 0 ? std::get<2>(pairs[k]) : std::get<3>(pairs[k])) = bilinear(photo, p.x(), p.y());
      }
    }, threads);
    // Exposure differs by a few tens of percent; pairs farther apart than that see
    // different things (an occlusion edge, a misaligned sliver) and would skew the gains.
    pairs.erase(std::remove_if(pairs.begin(), pairs.end(), [](const auto& q) {
                  const Eigen::Vector3f a = std::get<2>(q), b = std::get<3>(q);
                  return ((a - b).cwiseAbs().array() > 0.35f * (a + b).array() * 0.5f + 8.f).any();
                }), pairs.end());
    gains = seamGains(pairs, views.size());
  }

  // 5. Atlas: charts packed into pages, copied from their photos.
  std::vector<Eigen::Vector2i> pageSizes = packCharts(charts, o.page_size);
  TexturedMesh out;
  out.pages.resize(pageSizes.size());
  size_t used = 0, total = 0;
  for (size_t i = 0; i < pageSizes.size(); ++i) {
    out.pages[i].width = pageSizes[i].x();
    out.pages[i].height = pageSizes[i].y();
    out.pages[i].rgb.assign(size_t(pageSizes[i].x()) * size_t(pageSizes[i].y()) * 3, 0);
    total += size_t(pageSizes[i].x()) * size_t(pageSizes[i].y());
  }
  std::vector<std::vector<size_t>> chartsOfView(views.size());
  for (size_t i = 0; i < charts.size(); ++i) {
    used += size_t(charts[i].size.x()) * size_t(charts[i].size.y());
    if (charts[i].view >= 0) chartsOfView[size_t(charts[i].view)].push_back(i);
    else {
      RgbImage& page = out.pages[size_t(charts[i].page)];
      for (int y = 0; y < charts[i].size.y(); ++y)
        for (int x = 0; x < charts[i].size.x(); ++x)
          for (int ch = 0; ch < 3; ++ch)
            page.rgb[3 * (size_t(charts[i].at.y() + y) * size_t(page.width) + size_t(charts[i].at.x() + x)) + size_t(ch)] = 128;
    }
  }
  rep.atlas_fill = total ? double(used) / double(total) : 0.0;
  done = 0;
  parallelFor(views.size(), [&](size_t vi) {
    throwIfCancelled();
    if (chartsOfView[vi].empty()) return;
    const RgbImage photo = load(views[vi].name);
    const Eigen::Vector3f g = gains[vi];
    for (size_t ci : chartsOfView[vi]) {
      const Chart& c = charts[ci];
      RgbImage& page = out.pages[size_t(c.page)];  // charts never overlap: no lock needed
      for (int y = 0; y < c.size.y(); ++y) {
        const int sy = std::clamp(c.origin.y() + y, 0, photo.height - 1);
        for (int x = 0; x < c.size.x(); ++x) {
          const int sx = std::clamp(c.origin.x() + x, 0, photo.width - 1);
          const uint8_t* src = photo.rgb.data() + 3 * (size_t(sy) * size_t(photo.width) + size_t(sx));
          uint8_t* dst = page.rgb.data() + 3 * (size_t(c.at.y() + y) * size_t(page.width) + size_t(c.at.x() + x));
          for (int ch = 0; ch < 3; ++ch) dst[ch] = uint8_t(std::clamp(float(src[ch]) * g[ch] + 0.5f, 0.f, 255.f));
        }
      }
    }
    if (progress) progress("filling the atlas from " + views[vi].name, ++done, views.size());
  }, threads);
  rep.views_used = 0;
  for (const auto& c : chartsOfView) rep.views_used += c.empty() ? 0 : 1;

  // 6. The output mesh: a vertex per (chart, input vertex).
  out.face_page.resize(F);
  out.face_view = label;
  out.mesh.faces.resize(F);
  std::vector<int> source;  // per output vertex: the input vertex
  std::vector<int> faceChart(F, -1);
  for (const Chart& c : charts) {
    std::unordered_map<int, int> vertexOf;
    const RgbImage& page = out.pages[size_t(c.page)];
    for (uint32_t f : c.faces) {
      out.face_page[f] = c.page;
      faceChart[f] = int(&c - charts.data());
      for (int k = 0; k < 3; ++k) {
        const int src = mesh.faces[f][k];
        auto [it, isNew] = vertexOf.emplace(src, int(out.mesh.points.size()));
        if (isNew) {
          Eigen::Vector2f texel;
          if (c.view >= 0) texel = views[size_t(c.view)].project(mesh.points[size_t(src)]) - c.origin.cast<float>() + c.at.cast<float>();
          else texel = c.at.cast<float>() + Eigen::Vector2f(2.f, 2.f);
          out.mesh.points.push_back(mesh.points[size_t(src)]);
          out.mesh.normals.push_back(mesh.normals[size_t(src)]);
          out.uv.push_back({texel.x() / float(page.width), texel.y() / float(page.height)});
          source.push_back(src);
          if (mesh.hasLabels()) out.mesh.labels.push_back(mesh.labels[size_t(src)]);
        }
        out.mesh.faces[f][k] = it->second;
      }
    }
  }
  SeamLayout layout;
  if (o.seam_feather > 0 || (o.level_seams && o.seam_band > 0))
    layout = {chartBorders(out, source, faceChart), texelOwners(out)};
  if (o.seam_feather > 0) {
    if (progress) progress("cross-fading photos across seams", 0, 1);
    featherSeams(out, layout, faceChart, o.seam_feather, views, gains, load, threads, [&](size_t f, int view) {
      return std::any_of(candidates[f].begin(), candidates[f].end(), [&](const Candidate& c) { return int(c.view) == view; }) ||
             std::find(partlySeen[f].begin(), partlySeen[f].end(), uint32_t(view)) != partlySeen[f].end();
    });
  }
  if (o.level_seams) {
    if (progress) progress("blending colours across seams", 0, 1);
    levelSeamsLocally(out, source, o.seam_rings);
    if (o.seam_band > 0) blendSeamTexels(out, layout, faceChart, o.seam_band);
  }
  // Vertex colours: the texel under each vertex (for viewers that show colours only).
  out.mesh.colors.resize(out.mesh.points.size());
  for (size_t f = 0; f < F; ++f)
    for (int k = 0; k < 3; ++k) {
      const size_t v = size_t(out.mesh.faces[f][k]);
      const RgbImage& page = out.pages[size_t(out.face_page[f])];
      const Eigen::Vector3f col = bilinear(page, out.uv[v].x() * float(page.width), out.uv[v].y() * float(page.height));
      out.mesh.colors[v] = {uint8_t(col.x() + 0.5f), uint8_t(col.y() + 0.5f), uint8_t(col.z() + 0.5f)};
    }
  if (report) *report = rep;
  return out;
}

namespace {

// Barycentric coordinates of p in triangle (a, b, c), p on (or near) its plane.
Eigen::Vector3f barycentric(const Eigen::Vector3f& p, const Eigen::Vector3f& a, const Eigen::Vector3f& b,
                            const Eigen::Vector3f& c) {
  const Eigen::Vector3f v0 = b - a, v1 = c - a, v2 = p - a;
  const float d00 = v0.dot(v0), d01 = v0.dot(v1), d11 = v1.dot(v1), d20 = v2.dot(v0), d21 = v2.dot(v1);
  const float den = d00 * d11 - d01 * d01;
  if (std::abs(den) < 1e-30f) return {1.f / 3, 1.f / 3, 1.f / 3};
  const float v = (d11 * d20 - d01 * d21) / den, w = (d00 * d21 - d01 * d20) / den;
  return {1.f - v - w, v, w};
}

Eigen::Vector3f texelAt(const TexturedMesh& t, size_t f, const Eigen::Vector3f& bary) {
  const auto& face = t.mesh.faces[f];
  if (t.pages.empty()) {
    Eigen::Vector3f c = Eigen::Vector3f::Zero();
    for (int k = 0; k < 3; ++k) {
      const Color3& col = t.mesh.colors[size_t(face[k])];
      c += bary[k] * Eigen::Vector3f(col[0], col[1], col[2]);
    }
    return c;
  }
  Eigen::Vector2f uv = Eigen::Vector2f::Zero();
  for (int k = 0; k < 3; ++k) uv += bary[k] * t.uv[size_t(face[k])];
  const RgbImage& page = t.pages[size_t(t.face_page[f])];
  return bilinear(page, uv.x() * float(page.width), uv.y() * float(page.height));
}

}  // namespace

Rendering renderMesh(const TexturedMesh& t, const Camera& camera, const Rigid3d& pose) {
  TriangleMesh m;
  m.points = t.mesh.points;
  m.faces = t.mesh.faces;
  m.computeVertexNormals();
  const std::vector<RasterSample> z = rasterize(m, camera, pose, 1e-4f);
  Rendering r;
  r.image.width = int(camera.width);
  r.image.height = int(camera.height);
  r.image.rgb.assign(z.size() * 3, 0);
  r.covered.assign(z.size(), 0);
  if (t.pages.empty() && t.mesh.colors.size() != t.mesh.points.size())
    throw Error("rendering: the mesh has neither a texture nor vertex colours");
  for (size_t i = 0; i < z.size(); ++i) {
    if (z[i].face < 0) continue;
    const auto& face = m.faces[size_t(z[i].face)];
    const Eigen::Vector3f bary = barycentric(z[i].world, m.points[size_t(face[0])], m.points[size_t(face[1])],
                                             m.points[size_t(face[2])]);
    const Eigen::Vector3f c = texelAt(t, size_t(z[i].face), bary);
    for (int ch = 0; ch < 3; ++ch) r.image.rgb[3 * i + size_t(ch)] = uint8_t(std::clamp(c[ch] + 0.5f, 0.f, 255.f));
    r.covered[i] = 1;
  }
  return r;
}

ImageScore compareToPhoto(const Rendering& r, const RgbImage& photo) {
  if (photo.width != r.image.width || photo.height != r.image.height)
    throw Error("comparing a rendering of " + std::to_string(r.image.width) + "x" + std::to_string(r.image.height) +
                " with a photo of " + std::to_string(photo.width) + "x" + std::to_string(photo.height));
  ImageScore s;
  double se = 0;
  for (size_t i = 0; i < r.covered.size(); ++i) {
    if (!r.covered[i]) continue;
    ++s.pixels;
    for (int ch = 0; ch < 3; ++ch) {
      const double d = double(r.image.rgb[3 * i + size_t(ch)]) - double(photo.rgb[3 * i + size_t(ch)]);
      se += d * d;
    }
  }
  if (s.pixels == 0) return {std::nan(""), std::nan(""), 0};
  const double mse = se / double(3 * s.pixels);
  s.psnr = mse <= 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
  // SSIM on grey 8x8 windows the rendering fully covers, stride 4.
  const int W = photo.width, H = photo.height;
  auto grey = [&](const RgbImage& im, int x, int y) {
    const uint8_t* p = im.rgb.data() + 3 * (size_t(y) * size_t(W) + size_t(x));
    return (double(p[0]) + p[1] + p[2]) / 3.0;
  };
  const double C1 = 6.5025, C2 = 58.5225;
  double sum = 0;
  size_t windows = 0;
  for (int y0 = 0; y0 + 8 <= H; y0 += 4)
    for (int x0 = 0; x0 + 8 <= W; x0 += 4) {
      bool full = true;
      for (int y = y0; y < y0 + 8 && full; ++y)
        for (int x = x0; x < x0 + 8 && full; ++x) full = r.covered[size_t(y) * size_t(W) + size_t(x)] != 0;
      if (!full) continue;
      double ma = 0, mb = 0, va = 0, vb = 0, cov = 0;
      for (int y = y0; y < y0 + 8; ++y)
        for (int x = x0; x < x0 + 8; ++x) {
          ma += grey(r.image, x, y);
          mb += grey(photo, x, y);
        }
      ma /= 64, mb /= 64;
      for (int y = y0; y < y0 + 8; ++y)
        for (int x = x0; x < x0 + 8; ++x) {
          const double a = grey(r.image, x, y) - ma, b = grey(photo, x, y) - mb;
          va += a * a, vb += b * b, cov += a * b;
        }
      va /= 63, vb /= 63, cov /= 63;
      sum += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      ++windows;
    }
  s.ssim = windows ? sum / double(windows) : std::nan("");
  return s;
}

SeamSteps seamSteps(const TexturedMesh& t) {
  // Edges by position (vertices are split at chart borders).
  const TriangleMesh& m = t.mesh;
  std::map<std::array<float, 3>, uint32_t> idOf;
  std::vector<uint32_t> pid(m.points.size());
  for (size_t i = 0; i < m.points.size(); ++i)
    pid[i] = idOf.emplace(std::array<float, 3>{m.points[i].x(), m.points[i].y(), m.points[i].z()}, uint32_t(idOf.size()))
                 .first->second;
  // Unseen faces: from the texturing, or read back, all corners on the fill's one texel.
  auto unseen = [&](uint32_t f) {
    if (!t.face_view.empty()) return t.face_view[f] < 0;
    const auto& c = m.faces[f];
    return !t.uv.empty() && t.uv[size_t(c[0])] == t.uv[size_t(c[1])] && t.uv[size_t(c[0])] == t.uv[size_t(c[2])];
  };
  SeamSteps s;
  // A point a tenth of the way from the edge's midpoint to the face's third corner.
  auto inside = [&](uint32_t f, int k) {
    Eigen::Vector3f b = Eigen::Vector3f::Constant(0.f);
    b[k] += 0.45f;
    b[(k + 1) % 3] += 0.45f;
    b[(k + 2) % 3] += 0.1f;
    return texelAt(t, f, b);
  };
  forEachSharedEdge(m, [&](size_t v) { return pid[v]; }, [&](uint32_t f, int k, uint32_t g, int kg) {
    // The neutral fill of unseen faces is not a seam between photos.
    if (unseen(f) || unseen(g)) return;
    // Same chart: the two faces share their corners' texture coordinates.
    const bool sameChart = m.faces[f][k] == m.faces[g][(kg + 1) % 3] || m.faces[f][k] == m.faces[g][kg];
    const double step = (inside(f, k) - inside(g, kg)).cwiseAbs().mean();
    if (sameChart) {
      s.interior += step;
      ++s.interior_edges;
    } else {
      s.border += step;
      ++s.border_edges;
    }
  });
  if (s.border_edges) s.border /= double(s.border_edges);
  if (s.interior_edges) s.interior /= double(s.interior_edges);
  return s;
}

}  // namespace parallax
