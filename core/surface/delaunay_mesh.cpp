#include "surface/delaunay_mesh.h"

#include <CGAL/Delaunay_triangulation_3.h>
#include <CGAL/Exact_predicates_inexact_constructions_kernel.h>
#include <CGAL/Spatial_sort_traits_adapter_3.h>
#include <CGAL/Triangulation_cell_base_with_info_3.h>
#include <CGAL/Triangulation_vertex_base_with_info_3.h>
#include <CGAL/property_map.h>
#include <CGAL/spatial_sort.h>

#include <Eigen/Geometry>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

#include "surface/graph_cut.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/parallel.h"

namespace parallax {

namespace {

using K = CGAL::Exact_predicates_inexact_constructions_kernel;
using Vb = CGAL::Triangulation_vertex_base_with_info_3<uint32_t, K>;
using Cb = CGAL::Triangulation_cell_base_with_info_3<uint32_t, K, CGAL::Delaunay_triangulation_cell_base_3<K>>;
using Tds = CGAL::Triangulation_data_structure_3<Vb, Cb>;
using Delaunay = CGAL::Delaunay_triangulation_3<K, Tds>;
using Point = K::Point_3;
using Cell = Delaunay::Cell_handle;
using Vertex = Delaunay::Vertex_handle;

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

Eigen::Vector3d toEigen(const Point& p) { return {p.x(), p.y(), p.z()}; }

// A kept point: what merged into it.
struct Merged {
  Eigen::Vector3f color = Eigen::Vector3f::Zero();
  Eigen::Vector3f normal = Eigen::Vector3f::Zero();
  uint32_t count = 0;
  float footprint = 0;          // smallest pixel footprint of what merged (scene units)
  std::vector<uint32_t> views;  // unique
};

// The cosine of the angle between a facet and the circumsphere of a cell beside it
// (1: the sphere is tangent to the facet's plane, a good surface facet; 0: the
// facet cuts through the sphere's centre). Labatut et al.'s surface quality.
double sphereFacetCosine(const Delaunay& dt, Cell c, int i) {
  if (dt.is_infinite(c)) return 1.0;
  const Point o = CGAL::circumcenter(c->vertex(0)->point(), c->vertex(1)->point(),
                                     c->vertex(2)->point(), c->vertex(3)->point());
  const double r2 = CGAL::squared_distance(o, c->vertex(0)->point());
  const Point& a = c->vertex((i + 1) & 3)->point();
  const Point& b = c->vertex((i + 2) & 3)->point();
  const Point& d = c->vertex((i + 3) & 3)->point();
  const K::Plane_3 plane(a, b, d);
  if (plane.is_degenerate() || !(r2 > 0)) return 0.0;
  const double h2 = CGAL::squared_distance(o, plane);
  return std::sqrt(std::clamp(h2 / r2, 0.0, 1.0));
}

}  // namespace

TriangleMesh delaunayMesh(const PointCloud& cloud, const std::vector<std::vector<uint32_t>>& visibility,
                          const std::vector<MeshCamera>& cameras, const DelaunayOptions& o,
                          DelaunayReport* report, const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  DelaunayReport rep;
  rep.input_points = cloud.size();
  if (cloud.size() < 4) throw Error("too few fused points to mesh (" + std::to_string(cloud.size()) + ")");
  if (visibility.size() != cloud.size())
    throw Error("the fused cloud's visibility (fused.ply.vis) has " + std::to_string(visibility.size()) +
                " entries for " + std::to_string(cloud.size()) +
                " points; run the fusion stage again");

  // Each point's pixel footprint: its distance to the nearest photo that saw it over
  // that photo's focal length.
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<float> footprint(cloud.size(), 0.f);
  size_t withViews = 0;
  for (size_t i = 0; i < cloud.size(); ++i) {
    double best = 0;
    for (uint32_t v : visibility[i]) {
      if (v >= cameras.size()) continue;
      const double f = (cloud.points[i].cast<double>() - cameras[v].center).norm() / cameras[v].focal_px;
      if (best == 0 || f < best) best = f;
    }
    footprint[i] = float(best);
    withViews += best > 0;
  }
  if (withViews == 0)
    throw Error("no fused point names a photo that saw it (fused.ply.vis); run the fusion stage again");

  // Insert in spatial order; a point within merge_pixels footprints of a vertex
  // already there merges into it.
  say("tetrahedralising " + std::to_string(cloud.size()) + " points");
  std::vector<std::pair<Point, uint32_t>> order;
  order.reserve(withViews);
  for (size_t i = 0; i < cloud.size(); ++i)
    if (footprint[i] > 0)
      order.emplace_back(Point(cloud.points[i].x(), cloud.points[i].y(), cloud.points[i].z()), uint32_t(i));
  CGAL::spatial_sort(order.begin(), order.end(),
                     CGAL::Spatial_sort_traits_adapter_3<K, CGAL::First_of_pair_property_map<std::pair<Point, uint32_t>>>());
  Delaunay dt;
  std::vector<Merged> merged;
  Cell hint;
  const bool hasColor = cloud.colors.size() == cloud.size(), hasNormal = cloud.normals.size() == cloud.size();
  auto absorb = [&](Merged& m, uint32_t i) {
    if (hasColor)
      m.color += Eigen::Vector3f(float(cloud.colors[i][0]), float(cloud.colors[i][1]), float(cloud.colors[i][2]));
    if (hasNormal) m.normal += cloud.normals[i];
    ++m.count;
    m.footprint = m.count == 1 ? footprint[i] : std::min(m.footprint, footprint[i]);
    for (uint32_t v : visibility[i])
      if (v < cameras.size() && std::find(m.views.begin(), m.views.end(), v) == m.views.end() &&
          m.views.size() < 32)
        m.views.push_back(v);
  };
  for (size_t k = 0; k < order.size(); ++k) {
    if (k % 65536 == 0) throwIfCancelled();
    const auto& [p, i] = order[k];
    if (dt.number_of_vertices() > 0) {
      const Vertex near = dt.nearest_vertex(p, hint);
      const double limit = o.merge_pixels * footprint[i];
      if (near != Vertex() && !dt.is_infinite(near) && CGAL::squared_distance(near->point(), p) < limit * limit) {
        absorb(merged[near->info()], i);
        hint = near->cell();
        continue;
      }
    }
    const size_t before = dt.number_of_vertices();
    const Vertex v = dt.insert(p, hint);
    if (dt.number_of_vertices() == before) {  // the same position again
      absorb(merged[v->info()], i);
    } else {
      v->info() = uint32_t(merged.size());
      merged.emplace_back();
      absorb(merged.back(), i);
    }
    hint = v->cell();
  }
  if (dt.dimension() < 3) throw Error("the fused points lie in a plane or on a line; they cannot enclose a volume");
  rep.vertices = dt.number_of_vertices();
  uint32_t cells = 0;
  for (Cell c : dt.all_cell_handles()) c->info() = cells++;
  rep.cells = cells;
  rep.seconds_triangulation = seconds(t0);

  // Lines of sight: each from a photo to a vertex it saw votes the cells it crosses
  // free (weaker near the vertex, where the surface is) and the cell just behind the
  // vertex occupied. Per thread, then summed.
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<Vertex> vertices;
  vertices.reserve(rep.vertices);
  for (Vertex v : dt.finite_vertex_handles()) vertices.push_back(v);
  say("casting the lines of sight of " + std::to_string(vertices.size()) + " points");
  const int threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  // Thread t's lines of sight: for every t-th vertex, to the nearest max_views of the
  // photos that fused it; fn(vertex, P, sigma, camera, C, dir), dir from C towards P and
  // sigma the vertex's thickness (thickness_pixels footprints).
  auto forEachLineOfSight = [&](size_t t, const auto& fn) {
    std::vector<std::pair<double, uint32_t>> byDistance;
    for (size_t k = t; k < vertices.size(); k += size_t(threads)) {
      if ((k / size_t(threads)) % 8192 == 0) throwIfCancelled();
      const Vertex v = vertices[k];
      const Merged& m = merged[v->info()];
      const Eigen::Vector3d P = toEigen(v->point());
      byDistance.clear();
      for (uint32_t c : m.views) byDistance.emplace_back((cameras[c].center - P).squaredNorm(), c);
      const size_t keep = std::min(byDistance.size(), size_t(std::max(1, o.max_views)));
      std::partial_sort(byDistance.begin(), byDistance.begin() + long(keep), byDistance.end());
      const double sigma = std::max(1e-12, o.thickness_pixels * double(m.footprint));
      for (size_t j = 0; j < keep; ++j) {
        const uint32_t camera = byDistance[j].second;
        const Eigen::Vector3d C = cameras[camera].center;
        fn(v, P, sigma, camera, C, Eigen::Vector3d((P - C).normalized()));
      }
    }
  };
  struct Votes {
    std::vector<float> facet, source, sink;  // facet: 4 per cell, crossing out of the cell through facet i
    size_t lines = 0;
  };
  std::vector<Votes> votes(static_cast<size_t>(threads));
  // Thread t takes every t-th vertex and votes into its own accumulator.
  parallelFor(
      size_t(threads),
      [&](size_t t) {
        Votes& mine = votes[t];
        mine.facet.assign(size_t(cells) * 4, 0.f);
        mine.source.assign(cells, 0.f);
        mine.sink.assign(cells, 0.f);
        forEachLineOfSight(t, [&](Vertex v, const Eigen::Vector3d& P, double sigma, uint32_t,
                                  const Eigen::Vector3d& C, const Eigen::Vector3d& dir) {
            const Point from(C.x(), C.y(), C.z());
            // From the point back to the photo: free space. The walk stops where it leaves
            // the convex hull (beyond it all is free) or at the photo.
            auto it = dt.segment_traverser_cells_begin(v->point(), from, v->cell());
            const auto end = dt.segment_traverser_cells_end();
            Cell prev = it;
            const Cell last = prev;  // the cell at the point, facing the photo
            for (++it; it != end; ++it) {
              const Cell cur = it;
              int i = -1;
              if (cur->has_neighbor(prev, i)) {
                // Crossing from cur (the photo's side) into prev; weaker near the point.
                Eigen::Vector3d corner[3];
                for (int k = 0; k < 3; ++k) corner[k] = toEigen(cur->vertex((i + k + 1) & 3)->point());
                const Eigen::Vector3d centre = (corner[0] + corner[1] + corner[2]) / 3;
                const double d = (P - centre).dot(dir);
                const double w = 1.0 - std::exp(-d * d / (2 * sigma * sigma));
                mine.facet[size_t(cur->info()) * 4 + size_t(i)] += float(w);
              }
              prev = cur;
              if (dt.is_infinite(cur)) break;
            }
            mine.source[prev->info()] += 1.f;
            // Behind the point, up to `thickness` on: occupied (the first cell fully, those
            // beyond fading as free space's votes fade in front).
            const Eigen::Vector3d B = P + sigma * dir;
            auto behind = dt.segment_traverser_cells_begin(v->point(), Point(B.x(), B.y(), B.z()), last);
            const auto stop = dt.segment_traverser_cells_end();
            float vote = 1.f;
            for (; behind != stop; ++behind) {
              mine.sink[Cell(behind)->info()] += vote;
              vote *= 0.5f;
            }
            ++mine.lines;
        });
      },
      threads);
  CutGraph graph(cells);
  std::vector<float> facet = std::move(votes[0].facet);
  graph.source = std::move(votes[0].source);
  graph.sink = std::move(votes[0].sink);
  rep.lines_of_sight = votes[0].lines;
  for (size_t t = 1; t < votes.size(); ++t) {
    for (size_t i = 0; i < facet.size(); ++i) facet[i] += votes[t].facet[i];
    for (size_t i = 0; i < cells; ++i) graph.source[i] += votes[t].source[i], graph.sink[i] += votes[t].sink[i];
    rep.lines_of_sight += votes[t].lines;
    votes[t] = Votes();
  }
  if (rep.lines_of_sight == 0) throw Error("no line of sight reached a fused point");
  // Weakly supported surfaces (after Jancosek and Pajdla 2011): a point where the free
  // space its lines of sight cross drops sharply (much crossed in front of it, little
  // just behind) occludes what lies behind it, even when few of its own lines say so;
  // a pole or a railing a few pixels wide, against the sky or the ground. The cell
  // behind such a point is voted occupied by the size of the drop.
  if (o.weak_support > 0) {
    // Longest edge of the cell behind the point, in its thicknesses (8: 32 pixel
    // footprints at the default thickness); measured on the temple, the poles and the
    // sample (docs/benchmarks.md).
    constexpr double kWeakCellEdge = 8;
    auto longestEdge = [](Cell c) {
      double longest = 0;
      for (int a = 0; a < 4; ++a)
        for (int b = a + 1; b < 4; ++b)
          longest = std::max(longest, (toEigen(c->vertex(a)->point()) - toEigen(c->vertex(b)->point())).norm());
      return longest;
    };
    std::vector<float> crossed(cells, 0.f);  // free votes into each cell
    for (Cell c : dt.all_cell_handles())
      for (int i = 0; i < 4; ++i) {
        const Cell n = c->neighbor(i);
        crossed[c->info()] += facet[size_t(n->info()) * 4 + size_t(n->index(c))];
      }
    std::vector<std::vector<float>> boost(static_cast<size_t>(threads));
    parallelFor(
        size_t(threads),
        [&](size_t t) {
          std::vector<float>& mine = boost[t];
          mine.assign(cells, 0.f);
          forEachLineOfSight(t, [&](Vertex v, const Eigen::Vector3d& P, double sigma, uint32_t,
                                    const Eigen::Vector3d& C, const Eigen::Vector3d& dir) {
              const Cell front = dt.segment_traverser_cells_begin(v->point(), Point(C.x(), C.y(), C.z()), v->cell());
              const Eigen::Vector3d B = P + sigma * dir;
              auto behind = dt.segment_traverser_cells_begin(v->point(), Point(B.x(), B.y(), B.z()), front);
              if (behind == dt.segment_traverser_cells_end()) return;
              const Cell back = behind;
              if (back == front || dt.is_infinite(back)) return;
              const float drop = crossed[front->info()] - crossed[back->info()];
              // Only a cell about the point's size: a large cell of free space that a
              // few stray points bound is not a thin structure (filled, it swallowed the
              // temple's base and plate: its walls were then too stretched to keep).
              if (longestEdge(back) > kWeakCellEdge * sigma) return;
              if (drop > 0) mine[back->info()] = std::max(mine[back->info()], float(o.weak_support) * drop);
          });
        },
        threads);
    for (size_t c = 0; c < cells; ++c) {
      float best = 0;
      for (const auto& b : boost) best = std::max(best, b[c]);
      graph.sink[c] += best;
    }
  }
  // Beyond the convex hull (infinite cells) the votes decide as inside it: below a
  // ground seen only from above lies the hull's outside, and it is occupied.
  // Edges: each pair of neighbouring cells once, the votes both ways plus the surface
  // quality of their shared facet.
  graph.edges.reserve(size_t(cells) * 2);
  for (Cell c : dt.all_cell_handles()) {
    for (int i = 0; i < 4; ++i) {
      const Cell n = c->neighbor(i);
      if (n->info() < c->info()) continue;
      const int j = n->index(c);
      float q = 0;
      if (o.quality > 0 && !(dt.is_infinite(c) && dt.is_infinite(n)))
        q = float(o.quality * (1.0 - std::min(sphereFacetCosine(dt, c, i), sphereFacetCosine(dt, n, j))));
      graph.edges.push_back({c->info(), n->info(), facet[size_t(c->info()) * 4 + size_t(i)] + q,
                             facet[size_t(n->info()) * 4 + size_t(j)] + q});
    }
  }
  facet.clear();
  facet.shrink_to_fit();
  rep.seconds_visibility = seconds(t1);

  const auto t2 = std::chrono::steady_clock::now();
  say("cutting free space from occupied space (" + std::to_string(cells) + " tetrahedra)");
  throwIfCancelled();
  std::vector<char> inside = minimumCutInside(graph);
  // Pockets: a piece of free space no line of sight starts in, walled in by matter (a
  // fold of the surface through noisy points), is matter; and a piece of matter with no
  // point behind it, floating in free space, is free.
  {
    std::vector<char> seen(cells, 0);
    std::vector<Cell> cellOf(cells);
    for (Cell c : dt.all_cell_handles()) cellOf[c->info()] = c;
    std::vector<uint32_t> piece, stack;
    for (uint32_t start = 0; start < cells; ++start) {
      if (seen[start]) continue;
      const char label = inside[start];
      piece.clear();
      stack = {start};
      seen[start] = 1;
      double evidence = 0;
      while (!stack.empty()) {
        const uint32_t k = stack.back();
        stack.pop_back();
        piece.push_back(k);
        evidence += label ? graph.sink[k] : graph.source[k];
        for (int i = 0; i < 4; ++i) {
          const uint32_t n = cellOf[k]->neighbor(i)->info();
          if (!seen[n] && inside[n] == label) seen[n] = 1, stack.push_back(n);
        }
      }
      if (evidence == 0)
        for (uint32_t k : piece) inside[k] = !label;
    }
  }
  graph = CutGraph();
  rep.seconds_cut = seconds(t2);

  // The surface: facets from an inside cell to an outside one, facing out.
  const auto t3 = std::chrono::steady_clock::now();
  TriangleMesh mesh;
  std::vector<float> vertexFootprint;
  std::vector<int32_t> index(merged.size(), -1);
  auto vertexOf = [&](Vertex v) {
    int32_t& id = index[v->info()];
    if (id < 0) {
      id = int32_t(mesh.points.size());
      const Point& p = v->point();
      mesh.points.emplace_back(float(p.x()), float(p.y()), float(p.z()));
      const Merged& m = merged[v->info()];
      vertexFootprint.push_back(m.footprint);
      if (hasColor) {
        const Eigen::Vector3f c = m.color / float(m.count);
        mesh.colors.push_back({uint8_t(std::lround(c.x())), uint8_t(std::lround(c.y())), uint8_t(std::lround(c.z()))});
      }
    }
    return id;
  };
  for (Cell c : dt.all_cell_handles()) {
    if (!inside[c->info()]) continue;
    for (int i = 0; i < 4; ++i) {
      const Cell n = c->neighbor(i);
      if (inside[n->info()]) continue;
      // The facet opposite vertex i; an infinite cell's only finite facet is opposite
      // the infinite vertex.
      if (dt.is_infinite(c) && !dt.is_infinite(c->vertex(i))) continue;
      Vertex a = c->vertex((i + 1) & 3), b = c->vertex((i + 2) & 3), d = c->vertex((i + 3) & 3);
      const Eigen::Vector3d pa = toEigen(a->point());
      const Eigen::Vector3d normal = (toEigen(b->point()) - pa).cross(toEigen(d->point()) - pa);
      // Facing the outside cell: away from this cell's fourth vertex, or towards the
      // outside neighbour's when this cell is infinite.
      const bool flip = dt.is_infinite(c) ? normal.dot(toEigen(n->vertex(n->index(c))->point()) - pa) < 0
                                          : normal.dot(toEigen(c->vertex(i)->point()) - pa) > 0;
      if (flip) std::swap(b, d);
      mesh.faces.emplace_back(vertexOf(a), vertexOf(b), vertexOf(d));
    }
  }
  dt.clear();
  const size_t faceCount = mesh.faces.size();
  // Faces stretched over a gap no photo resolved: an edge longer than max_edge_pixels
  // footprints of the finest of its ends.
  if (o.max_edge_pixels > 0) {
    std::vector<Eigen::Vector3i> kept;
    for (const auto& f : mesh.faces) {
      float longest = 0, footprint = std::numeric_limits<float>::max();
      for (int k = 0; k < 3; ++k) {
        longest = std::max(longest, (mesh.points[size_t(f[k])] - mesh.points[size_t(f[(k + 1) % 3])]).norm());
        footprint = std::min(footprint, vertexFootprint[size_t(f[k])]);
      }
      if (longest <= float(o.max_edge_pixels) * footprint) kept.push_back(f);
    }
    mesh.faces.swap(kept);
  }
  // Pieces of surface: faces joined by shared vertices; the small ones go, unless they
  // are long (a pole, a rail, a cable: thin, so few faces, but spanning many pixels).
  if (!mesh.faces.empty() && o.min_component_share > 0) {
    std::vector<uint32_t> parent(mesh.points.size());
    std::iota(parent.begin(), parent.end(), 0u);
    auto find = [&](uint32_t x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];
      return x;
    };
    for (const auto& f : mesh.faces)
      for (int k = 1; k < 3; ++k) parent[find(uint32_t(f[k]))] = find(uint32_t(f[0]));
    struct Piece {
      size_t faces = 0, vertices = 0;
      double area = 0, footprint = 0;  // footprint: the mean of its vertices'
      double coarseArea = 0;           // of faces spanning more than kCoarseShare of the scene
      Eigen::AlignedBox3f box;
    };
    // The scene's size: the diagonal of the fused points' box between their 1st and 99th
    // percentiles (as the unsupported-area measure takes it).
    double sceneSize = 0;
    {
      Eigen::Vector3d lo, hi;
      std::vector<float> v(cloud.size());
      for (int a = 0; a < 3; ++a) {
        for (size_t i = 0; i < cloud.size(); ++i) v[i] = cloud.points[i][a];
        const auto at = [&](double q) {
          auto nth = v.begin() + long(q * double(v.size() - 1));
          std::nth_element(v.begin(), nth, v.end());
          return double(*nth);
        };
        lo[a] = at(0.01);
        hi[a] = at(0.99);
      }
      sceneSize = (hi - lo).norm();
    }
    constexpr double kCoarseShare = 0.02;
    std::vector<Piece> pieces(mesh.points.size());
    for (const auto& f : mesh.faces) {
      Piece& piece = pieces[find(uint32_t(f[0]))];
      ++piece.faces;
      const double area = 0.5 * double((mesh.points[size_t(f[1])] - mesh.points[size_t(f[0])])
                                            .cross(mesh.points[size_t(f[2])] - mesh.points[size_t(f[0])])
                                            .norm());
      piece.area += area;
      float longest = 0;
      for (int k = 0; k < 3; ++k)
        longest = std::max(longest, (mesh.points[size_t(f[k])] - mesh.points[size_t(f[(k + 1) % 3])]).norm());
      if (double(longest) > kCoarseShare * sceneSize) piece.coarseArea += area;
    }
    for (size_t v = 0; v < mesh.points.size(); ++v) {
      Piece& piece = pieces[find(uint32_t(v))];
      piece.box.extend(mesh.points[v]);
      piece.footprint += double(vertexFootprint[v]);
      ++piece.vertices;
    }
    size_t largest = 0;
    for (Piece& piece : pieces) {
      largest = std::max(largest, piece.faces);
      if (piece.vertices) piece.footprint /= double(piece.vertices);
    }
    const size_t minimum = size_t(std::ceil(o.min_component_share * double(largest)));
    // Apart from the largest, a piece must be about as dense as the photos resolve (a
    // point every few pixels): a few points spread over a large area (a far, dark
    // backdrop matched here and there) are no surface. And a small piece is kept only
    // when it is long (a pole, a rail).
    constexpr double kLongPiecePixels = 60, kDensePiecePixels2 = 40;
    // Nor is a piece drawn mostly between points more than 2% of the scene apart (its
    // faces' middles lie about 1% of the scene from any point): a far backdrop that the
    // photos resolve only coarsely (DTU without masks).
    auto keep = [&](const Piece& piece) {
      if (piece.faces == largest) return true;
      const double fp = piece.footprint;
      if (piece.area > kDensePiecePixels2 * fp * fp * double(piece.vertices)) return false;
      if (piece.coarseArea > 0.5 * piece.area) return false;
      return piece.faces >= minimum || double(piece.box.diagonal().norm()) >= kLongPiecePixels * fp;
    };
    std::vector<Eigen::Vector3i> kept;
    for (const auto& f : mesh.faces)
      if (keep(pieces[find(uint32_t(f[0]))])) kept.push_back(f);
    mesh.faces.swap(kept);
  }
  rep.dropped_faces = faceCount - mesh.faces.size();
  mesh.dropUnusedVertices();
  if (!mesh.faces.empty()) mesh.computeVertexNormals();
  rep.faces = mesh.faces.size();
  rep.seconds_cleanup = seconds(t3);
  if (report) *report = rep;
  return mesh;
}

}  // namespace parallax
