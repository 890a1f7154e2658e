#include "surface/mesh_repair.h"

#include <open3d/geometry/TriangleMesh.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <utility>
#include <vector>

namespace parallax {

namespace {

uint8_t toByte(double v) { return uint8_t(std::clamp(std::lround(v * 255.0), 0L, 255L)); }

// Each vertex's neighbours along edges, sorted and unique.
std::vector<std::vector<int>> vertexNeighbours(const TriangleMesh& mesh) {
  std::vector<std::vector<int>> out(mesh.points.size());
  for (const auto& f : mesh.faces)
    for (int k = 0; k < 3; ++k) {
      out[size_t(f[k])].push_back(f[(k + 1) % 3]);
      out[size_t(f[k])].push_back(f[(k + 2) % 3]);
    }
  for (auto& n : out) {
    std::sort(n.begin(), n.end());
    n.erase(std::unique(n.begin(), n.end()), n.end());
  }
  return out;
}

}  // namespace

size_t countNonManifoldEdges(const TriangleMesh& mesh) {
  std::map<std::pair<int, int>, int> faces;
  for (const auto& f : mesh.faces)
    for (int k = 0; k < 3; ++k) ++faces[std::minmax(f[k], f[(k + 1) % 3])];
  size_t count = 0;
  for (const auto& [edge, n] : faces) count += n > 2;
  return count;
}

TriangleMesh repairMesh(const TriangleMesh& in, RepairReport* report) {
  RepairReport rep;
  rep.non_manifold_edges = countNonManifoldEdges(in);
  open3d::geometry::TriangleMesh mesh;
  mesh.vertices_.reserve(in.points.size());
  for (const auto& p : in.points) mesh.vertices_.push_back(p.cast<double>());
  const bool colours = in.colors.size() == in.points.size();
  if (colours)
    for (const auto& c : in.colors) mesh.vertex_colors_.emplace_back(c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
  for (const auto& f : in.faces) mesh.triangles_.push_back(f);
  mesh.RemoveDuplicatedTriangles();
  mesh.RemoveDegenerateTriangles();
  mesh.RemoveNonManifoldEdges();
  mesh.RemoveUnreferencedVertices();
  rep.removed_faces = in.faces.size() - mesh.triangles_.size();

  TriangleMesh out;
  for (const auto& v : mesh.vertices_) out.points.push_back(v.cast<float>());
  if (colours)
    for (const auto& c : mesh.vertex_colors_) out.colors.push_back({toByte(c.x()), toByte(c.y()), toByte(c.z())});
  for (const auto& f : mesh.triangles_) out.faces.push_back(f);

  // Spikes: a vertex farther from the centre of its neighbours than the mean length
  // of the edges to them, while its neighbours lie near a common plane, goes back to
  // that centre.
  const auto neighbours = vertexNeighbours(out);
  for (size_t v = 0; v < out.points.size(); ++v) {
    const auto& ring = neighbours[v];
    if (ring.size() < 3) continue;
    Eigen::Vector3f centre = Eigen::Vector3f::Zero();
    float edge = 0;
    for (int n : ring) {
      centre += out.points[size_t(n)];
      edge += (out.points[size_t(n)] - out.points[v]).norm();
    }
    centre /= float(ring.size());
    edge /= float(ring.size());
    float spread = 0;
    for (int n : ring) spread = std::max(spread, (out.points[size_t(n)] - centre).norm());
    if ((out.points[v] - centre).norm() > 2.0f * spread && edge > 0) {
      out.points[v] = centre;
      ++rep.spikes;
    }
  }
  if (!out.faces.empty()) out.computeVertexNormals();
  if (report) *report = rep;
  return out;
}

void smoothKeepingEdges(TriangleMesh& mesh, int iterations) {
  if (iterations <= 0 || mesh.faces.empty()) return;
  const auto neighbours = vertexNeighbours(mesh);
  std::vector<Eigen::Vector3f> next(mesh.points.size());
  for (int it = 0; it < iterations; ++it) {
    mesh.computeVertexNormals();
    // The range scale: the noise, as the median over vertices of their neighbours' RMS
    // height above their tangent plane. Across a crease the heights are far larger, so
    // the weights there vanish and the crease stays.
    std::vector<float> rms(mesh.points.size(), 0.f);
    for (size_t v = 0; v < mesh.points.size(); ++v) {
      double sum = 0;
      for (int q : neighbours[v]) {
        const float h = mesh.normals[v].dot(mesh.points[size_t(q)] - mesh.points[v]);
        sum += double(h) * h;
      }
      if (!neighbours[v].empty()) rms[v] = float(std::sqrt(sum / double(neighbours[v].size())));
    }
    std::vector<float> sorted = rms;
    std::nth_element(sorted.begin(), sorted.begin() + long(sorted.size() / 2), sorted.end());
    const double ss = std::max(1e-12, double(sorted[sorted.size() / 2]));
    for (size_t v = 0; v < mesh.points.size(); ++v) {
      const Eigen::Vector3f& p = mesh.points[v];
      const Eigen::Vector3f n = mesh.normals[v];
      const auto& ring = neighbours[v];
      next[v] = p;
      if (ring.size() < 3 || !(n.squaredNorm() > 0.5f)) continue;
      double sc = 0;  // the spatial scale: the mean edge length here
      for (int q : ring) sc += double((mesh.points[size_t(q)] - p).norm());
      sc /= double(ring.size());
      if (!(sc > 0)) continue;
      double sum = 0, weights = 0;
      for (int q : ring) {
        const Eigen::Vector3f d = mesh.points[size_t(q)] - p;
        const double t = d.norm(), h = n.dot(d);
        const double w = std::exp(-t * t / (2 * sc * sc)) * std::exp(-h * h / (2 * ss * ss));
        sum += w * h;
        weights += w;
      }
      if (weights > 0) next[v] = p + n * float(sum / weights);
    }
    mesh.points.swap(next);
  }
  mesh.computeVertexNormals();
}

}  // namespace parallax
