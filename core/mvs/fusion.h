// Depth-map fusion: each estimated pixel is checked against every other view's
// depth map (relative depth, forward-backward reprojection, normal angle); pixels
// that agree across enough views become one 3D point, averaged over them, with
// its normal, colour and the views that see it. Pixels used once are not fused
// again, so each surface patch yields one point per its finest view's pixel.
#pragma once

#include <functional>
#include <vector>

#include "mvs/dense_scene.h"
#include "scene/geometry_data.h"

namespace parallax {

struct FusionOptions {
  int min_num_views = 2;             // views (the reference included) that must agree
  double max_reproj_error = 3.0;     // pixels
  double max_depth_error = 0.01;     // relative to depth
  double max_normal_error_deg = 20;  // between the views' normals (when they have normals)
  int threads = 0;
};

struct FusedCloud {
  PointCloud cloud;  // points, normals, colours
  std::vector<std::vector<uint32_t>> visibility;  // per point: indices into the views
  // Per point: the mean depth confidence (0..1) of the pixels fused into it, from the
  // maps that have confidence; empty when none has.
  std::vector<float> confidence;
};

// `views` with their images loaded (colours), `maps` one per view (an empty map
// for a view without an estimate). progress(done, total) per reference view.
FusedCloud fuseDepthMaps(const std::vector<MvsView>& views, const std::vector<DepthMap>& maps,
                         const FusionOptions& options,
                         const std::function<void(size_t, size_t)>& progress = {});

// COLMAP's fused.ply.vis: uint64 count, then per point uint32 n and n image indices.
void writeVisibility(const std::filesystem::path& path,
                     const std::vector<std::vector<uint32_t>>& visibility);
std::vector<std::vector<uint32_t>> readVisibility(const std::filesystem::path& path);
// fused.ply.conf: uint64 count, then a float32 confidence per point.
void writeConfidence(const std::filesystem::path& path, const std::vector<float>& confidence);
std::vector<float> readConfidence(const std::filesystem::path& path);

}  // namespace parallax
