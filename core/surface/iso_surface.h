// Surfaces of sampled scalar fields (a NeRF's density, a NeuS signed distance): the
// iso-surface of a cubic grid of values, by marching tetrahedra (each cube split into six
// tetrahedra along its main diagonal, the same way in every cube, so neighbouring cubes
// agree on their shared faces and the surface is closed where the field is), and the
// largest connected component of the result.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <vector>

#include "scene/geometry_data.h"

namespace parallax {

struct ScalarGrid {
  int resolution = 0;  // samples per axis; sample (x, y, z) at origin + (x, y, z) * spacing
  Eigen::Vector3d origin = Eigen::Vector3d::Zero();
  double spacing = 1;
  std::vector<float> values;  // x fastest: values[x + res * (y + res * z)]
};

// The iso-surface where the values cross `level`, "inside" being values above it when
// `insideAbove` (density) or below it (signed distance). Triangles face outwards; a vertex
// is the linear interpolation along its grid edge, shared by the triangles around it.
TriangleMesh isoSurface(const ScalarGrid& grid, float level, bool insideAbove);

// Whether a mesh is closed: edges with one face (holes, cuts), edges with more than two,
// and connected components (of faces sharing vertices).
struct MeshTopology {
  size_t components = 0, boundaryEdges = 0, nonManifoldEdges = 0;
  bool closed() const { return components > 0 && boundaryEdges == 0 && nonManifoldEdges == 0; }
};
MeshTopology meshTopology(const TriangleMesh& mesh);

// Keeps the connected component with the most faces (unreferenced vertices dropped).
TriangleMesh largestComponent(const TriangleMesh& mesh);

}  // namespace parallax
