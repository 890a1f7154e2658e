// Dense geometry against a ground-truth surface (`parallax-cli evaluate-geometry`):
// accuracy (distance from reconstructed points to the true mesh) and completeness
// (share of the true surface that photos see, within tau of the reconstruction),
// after a similarity alignment of the reconstruction's cameras onto the true ones.
#pragma once

#include <Eigen/Core>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "scene/geometry_data.h"
#include "scene/reconstruction.h"

namespace parallax {

// The similarity (4x4, scale in the rotation block) that maps `from`'s camera
// centres onto `to`'s, over images with the same name; none with fewer than 3.
std::optional<Eigen::Matrix4d> similarityBetweenModels(const Reconstruction& from,
                                                       const Reconstruction& to,
                                                       double* medianResidual = nullptr);
void transformGeometry(PointCloud& geometry, const Eigen::Matrix4d& similarity);

struct GeometryEvaluation {
  size_t points = 0;           // evaluated points (cloud points, or mesh surface samples)
  double median_accuracy = 0;  // in ground-truth units
  double mean_accuracy = 0;
  double p90_accuracy = 0;
  size_t surface_samples = 0;  // ground-truth samples seen by >= 2 photos
  double tau = 0;
  double completeness = 0;     // share of those samples within tau of the points
  std::vector<uint32_t> missed;  // indices of the samples farther than tau from every point
};

struct SurfaceSamples {
  std::vector<Eigen::Vector3f> points;
  double diagonal = 0;  // of the ground-truth mesh's bounding box
};

// Area-uniform samples of `mesh` that at least `minViews` of `cameras` see
// (in their image, in front, not occluded by the mesh).
SurfaceSamples visibleSurfaceSamples(const TriangleMesh& mesh, const Reconstruction& cameras,
                                     size_t count, int minViews = 2, unsigned seed = 1);

// The faces of `mesh` whose centre at least `minViews` of `cameras` see (in their image,
// in front, not behind the mesh by more than `tolerance` of the depth): what photos
// constrained. The rest (the underside of a ground, the inside of a wall, surfaces outside
// every view) is dropped; unused vertices are kept.
TriangleMesh keepSeenFaces(const TriangleMesh& mesh, const Reconstruction& cameras, int minViews = 1,
                           float tolerance = 0.01f);

// `points` in the ground truth's frame.
GeometryEvaluation evaluateGeometry(const std::vector<Eigen::Vector3f>& points,
                                    const TriangleMesh& truth, const SurfaceSamples& samples,
                                    double tau);

// Reconstructed points against the photos' object masks (white = object), for
// scenes whose ground truth is a silhouette, like DTU: each point is projected
// into every photo of `model` (its frame) that has a mask in `maskDir`.
struct MaskAgreement {
  size_t points = 0;
  size_t masks = 0;            // photos with a mask
  double inside_all = 0;       // share of points inside the mask of every photo they fall in
  double inside_views = 0;     // share of (point, photo) projections inside the mask
};
// `tolerancePx`: masks are grown by this many pixels first (their edges are hand-drawn).
MaskAgreement evaluateAgainstMasks(const std::vector<Eigen::Vector3f>& points,
                                   const Reconstruction& model,
                                   const std::filesystem::path& maskDir, int tolerancePx = 2);

// Chamfer distance between two surfaces: the mean distance from area-uniform samples of
// `mesh` to the nearest samples of `truth` (accuracy) and back (completeness), and their
// mean; with the diagonal of `truth`'s bounding box to put them in proportion.
struct ChamferDistance {
  double to_truth = 0, from_truth = 0, chamfer = 0, diagonal = 0;
  size_t samples = 0;  // per surface
};
// `seen`: the truth's samples completeness is measured from (e.g. those the photos see,
// visibleSurfaceSamples); null: area-uniform samples of the whole truth.
ChamferDistance chamferDistance(const TriangleMesh& mesh, const TriangleMesh& truth,
                                size_t samples = 100000, const std::vector<Eigen::Vector3f>* seen = nullptr);

// Surface the points do not support: the share of a mesh's area farther than each of
// `fractions` of the scene's size from every point of `points` (the fused cloud), the
// sheets a closed surface invents over the sky. The scene's size: the diagonal of the
// points' box between their 1st and 99th percentiles (a few far strays do not count).
struct UnsupportedArea {
  double scene_size = 0;
  std::vector<double> fractions;  // of the scene's size
  std::vector<double> shares;     // of the mesh's area, one per fraction
  size_t samples = 0;
};
UnsupportedArea unsupportedArea(const TriangleMesh& mesh, const std::vector<Eigen::Vector3f>& points,
                                const std::vector<double>& fractions = {0.005, 0.01},
                                size_t samples = 200000);

// Area-uniform samples of a mesh's surface (to evaluate a mesh like a cloud).
std::vector<Eigen::Vector3f> sampleSurface(const TriangleMesh& mesh, size_t count,
                                           unsigned seed = 2);

}  // namespace parallax
