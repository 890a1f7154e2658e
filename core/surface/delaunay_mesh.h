// The visibility mesher (mesh.method=delaunay; Labatut et al. 2009, as OpenMVS's
// ReconstructMesh): the fused points, merged where they are closer than a pixel
// footprint, are tetrahedralised (CGAL Delaunay); every point's lines of sight to the
// photos that fused it vote the tetrahedra they cross free and the one just behind
// the point occupied; a minimum s-t cut (surface/graph_cut.h) with a surface-quality
// term labels each tetrahedron, and the surface is the facets between the two
// labels. Only what the photos saw becomes surface: nothing is closed over the sky.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "scene/geometry_data.h"

namespace parallax {

// A photo as the mesher needs it: where it was taken and its focal length (pixels).
struct MeshCamera {
  Eigen::Vector3d center = Eigen::Vector3d::Zero();
  double focal_px = 1;
};

struct DelaunayOptions {
  // Points closer than this many pixels (their footprint in their nearest photo)
  // to one already kept merge into it (its lines of sight grow).
  double merge_pixels = 2.0;
  // Lines of sight per point at most (the photos that fused it, nearest first).
  int max_views = 6;
  // How far behind a point, in its pixel footprints, the occupied vote lands.
  double thickness_pixels = 4.0;
  // Weakly supported surfaces (Jancosek and Pajdla): the cell behind a point where the
  // crossing free space drops sharply is voted occupied by this times the drop; 0 = off.
  double weak_support = 1.0;
  // Weight of the surface-quality term against one line of sight.
  double quality = 0.3;
  // Connected pieces with fewer faces than this share of the largest are dropped.
  double min_component_share = 0.005;
  // Faces with an edge longer than this many pixel footprints of their vertices
  // (surface stretched over a gap no photo resolved) are dropped; 0 = keep all.
  double max_edge_pixels = 20;
  int threads = 0;
};

struct DelaunayReport {
  size_t input_points = 0;
  size_t vertices = 0;   // after merging
  size_t cells = 0;      // tetrahedra
  size_t lines_of_sight = 0;
  size_t faces = 0;
  size_t dropped_faces = 0;  // small pieces, long edges, non-manifold
  double seconds_triangulation = 0, seconds_visibility = 0, seconds_cut = 0, seconds_cleanup = 0;
};

// `visibility[i]`: indices into `cameras` of the photos that fused point i (the
// fusion stage's fused.ply.vis). Colours and normals of merged points are averaged
// onto the vertices. Throws Error when there are too few points or no lines of sight.
TriangleMesh delaunayMesh(const PointCloud& cloud, const std::vector<std::vector<uint32_t>>& visibility,
                          const std::vector<MeshCamera>& cameras, const DelaunayOptions& options,
                          DelaunayReport* report = nullptr,
                          const std::function<void(const std::string&)>& progress = {});

}  // namespace parallax
