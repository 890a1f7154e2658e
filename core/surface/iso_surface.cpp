#include "surface/iso_surface.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <array>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "util/error.h"

namespace parallax {

TriangleMesh isoSurface(const ScalarGrid& g, float level, bool insideAbove) {
  const int n = g.resolution;
  if (n < 2 || g.values.size() != size_t(n) * size_t(n) * size_t(n))
    throw Error("iso-surface: the grid's values do not match its resolution");
  TriangleMesh mesh;
  auto id = [n](int x, int y, int z) {
    return uint64_t(x) + uint64_t(n) * (uint64_t(y) + uint64_t(n) * uint64_t(z));
  };
  auto position = [&](uint64_t v) {
    const int x = int(v % uint64_t(n)), y = int((v / uint64_t(n)) % uint64_t(n)),
              z = int(v / (uint64_t(n) * uint64_t(n)));
    return Eigen::Vector3d(g.origin + g.spacing * Eigen::Vector3d(x, y, z));
  };
  auto inside = [&](float v) { return insideAbove ? v > level : v < level; };
  std::unordered_map<uint64_t, int> edgeVertex;
  const uint64_t total = uint64_t(n) * uint64_t(n) * uint64_t(n);
  auto vertexOn = [&](uint64_t a, uint64_t b) {
    if (a > b) std::swap(a, b);
    const uint64_t key = a * total + b;
    auto it = edgeVertex.find(key);
    if (it != edgeVertex.end()) return it->second;
    const float va = g.values[a], vb = g.values[b];
    const double t = std::clamp(double(level - va) / double(vb - va), 0.0, 1.0);
    const Eigen::Vector3d p = position(a) + t * (position(b) - position(a));
    const int index = int(mesh.points.size());
    mesh.points.push_back(p.cast<float>());
    edgeVertex.emplace(key, index);
    return index;
  };
  auto addTriangle = [&](int a, int b, int c, const Eigen::Vector3d& outward) {
    const Eigen::Vector3f pa = mesh.points[size_t(a)], pb = mesh.points[size_t(b)],
                          pc = mesh.points[size_t(c)];
    const Eigen::Vector3f normal = (pb - pa).cross(pc - pa);
    // A triangle collapsed onto a grid point (its value at the level, or so near it that
    // the vertices round to one position) is kept: dropping it would leave a hole in the
    // mesh's connectivity (seen on DTU: 18 boundary edges from six such triangles).
    if (normal.cast<double>().dot(outward) < 0) std::swap(b, c);
    mesh.faces.emplace_back(a, b, c);
  };
  // The six tetrahedra of a cube: corners 0 and 7 joined by every path along x, y and z.
  static const int kTets[6][4] = {{0, 1, 3, 7}, {0, 1, 5, 7}, {0, 2, 3, 7},
                                  {0, 2, 6, 7}, {0, 4, 5, 7}, {0, 4, 6, 7}};
  for (int z = 0; z + 1 < n; ++z)
    for (int y = 0; y + 1 < n; ++y)
      for (int x = 0; x + 1 < n; ++x) {
        std::array<uint64_t, 8> c;
        int count = 0;
        for (int k = 0; k < 8; ++k) {
          c[size_t(k)] = id(x + (k & 1), y + ((k >> 1) & 1), z + (k >> 2));
          count += inside(g.values[c[size_t(k)]]) ? 1 : 0;
        }
        if (count == 0 || count == 8) continue;
        for (const auto& tet : kTets) {
          std::array<uint64_t, 4> v;
          std::vector<uint64_t> in, out;
          for (int k = 0; k < 4; ++k) {
            v[size_t(k)] = c[size_t(tet[k])];
            (inside(g.values[v[size_t(k)]]) ? in : out).push_back(v[size_t(k)]);
          }
          if (in.empty() || out.empty()) continue;
          Eigen::Vector3d inC = Eigen::Vector3d::Zero(), outC = Eigen::Vector3d::Zero();
          for (auto a : in) inC += position(a) / double(in.size());
          for (auto b : out) outC += position(b) / double(out.size());
          const Eigen::Vector3d outward = outC - inC;
          if (in.size() == 1 || out.size() == 1) {
            const bool lonelyIn = in.size() == 1;
            const uint64_t lone = lonelyIn ? in[0] : out[0];
            const auto& others = lonelyIn ? out : in;
            addTriangle(vertexOn(lone, others[0]), vertexOn(lone, others[1]),
                        vertexOn(lone, others[2]), outward);
          } else {
            // A quad through the four edges between the two pairs.
            const int a = vertexOn(in[0], out[0]), b = vertexOn(in[0], out[1]),
                      c2 = vertexOn(in[1], out[1]), d = vertexOn(in[1], out[0]);
            addTriangle(a, b, c2, outward);
            addTriangle(a, c2, d, outward);
          }
        }
      }
  return mesh;
}

namespace {

// Union-find over vertices joined by faces: the root of each vertex's component.
std::vector<int> componentRoots(const TriangleMesh& mesh) {
  std::vector<int> parent(mesh.points.size());
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int a) {
    while (parent[size_t(a)] != a) a = parent[size_t(a)] = parent[size_t(parent[size_t(a)])];
    return a;
  };
  for (const auto& f : mesh.faces) {
    const int a = find(f[0]), b = find(f[1]);
    parent[size_t(b)] = a;
    parent[size_t(find(f[2]))] = find(a);
  }
  for (size_t i = 0; i < parent.size(); ++i) parent[i] = find(int(i));
  return parent;
}

}  // namespace

MeshTopology meshTopology(const TriangleMesh& mesh) {
  MeshTopology t;
  std::unordered_map<uint64_t, int> edges;
  edges.reserve(mesh.faces.size() * 2);
  for (const auto& f : mesh.faces)
    for (int k = 0; k < 3; ++k) {
      const auto a = uint32_t(std::min(f[k], f[(k + 1) % 3])),
                 b = uint32_t(std::max(f[k], f[(k + 1) % 3]));
      ++edges[uint64_t(a) << 32 | b];
    }
  for (const auto& [e, n] : edges) {
    if (n == 1) ++t.boundaryEdges;
    if (n > 2) ++t.nonManifoldEdges;
  }
  const std::vector<int> root = componentRoots(mesh);
  std::unordered_set<int> roots;
  for (const auto& f : mesh.faces) roots.insert(root[size_t(f[0])]);
  t.components = roots.size();
  return t;
}

TriangleMesh largestComponent(const TriangleMesh& mesh) {
  const std::vector<int> root = componentRoots(mesh);
  auto find = [&](int a) { return root[size_t(a)]; };
  std::unordered_map<int, size_t> faces;
  for (const auto& f : mesh.faces) ++faces[find(f[0])];
  int best = -1;
  size_t most = 0;
  for (const auto& [root, count] : faces)
    if (count > most) most = count, best = root;
  TriangleMesh out = mesh;
  out.faces.clear();
  for (const auto& f : mesh.faces)
    if (find(f[0]) == best) out.faces.push_back(f);
  out.dropUnusedVertices();
  return out;
}

}  // namespace parallax
