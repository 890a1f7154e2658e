// Cleaning a reconstructed surface for texturing and export: duplicated and
// degenerate triangles, non-manifold edges (more than two faces on one edge, which
// texturing and many editors reject) and spikes (a vertex pulled far out of the
// surface around it) removed; and optional smoothing that keeps edges (bilateral
// mesh denoising, Fleishman et al. 2003): noise along the normals goes, creases stay.
#pragma once

#include <cstddef>

#include "scene/geometry_data.h"

namespace parallax {

struct RepairReport {
  size_t removed_faces = 0;      // duplicated, degenerate or on non-manifold edges
  size_t non_manifold_edges = 0; // before the repair
  size_t spikes = 0;             // vertices moved back into their neighbourhood
};

// Open3D's duplicate, degenerate and non-manifold-edge removal (at an edge with more
// than two faces the smallest go), then spikes flattened; unused vertices dropped,
// normals recomputed. Colours are kept.
TriangleMesh repairMesh(const TriangleMesh& mesh, RepairReport* report = nullptr);

// Edges on which more than two faces meet.
size_t countNonManifoldEdges(const TriangleMesh& mesh);

// `iterations` rounds of bilateral denoising: each vertex moves along its normal by
// a weighted mean of its neighbours' heights above its tangent plane, the weights
// falling with distance (the mean edge length around it) and with height (so a
// crease, whose neighbours stand far off the plane, is kept).
void smoothKeepingEdges(TriangleMesh& mesh, int iterations);

}  // namespace parallax
