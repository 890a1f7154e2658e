// Classical multi-view stereo on the CPU: PatchMatch over slanted planes with
// bilaterally weighted normalised cross-correlation (as COLMAP and Gipuma),
// red-black propagation so every core works on one image at once, and a second,
// geometric pass in which each view's depth must also agree with its sources'
// depth maps (forward-backward reprojection), as COLMAP's geom_consistency.
#pragma once

#include <functional>
#include <vector>

#include "mvs/dense_scene.h"

namespace parallax {

struct PatchMatchOptions {
  int window_radius = 4;       // pixels; the window is (2r+1)^2, sampled every window_step
  int window_step = 2;
  double sigma_color = 0.2;    // bilateral weight on grey-value difference (values in [0, 1])
  int num_iterations = 4;      // red-black sweeps of the photometric pass
  int num_geom_iterations = 2; // sweeps of the geometric pass
  int num_best_views = 3;      // the cost is the mean over this many best sources
  double geom_regularizer = 0.3;   // weight of the forward-backward error (per pixel)
  double geom_max_error = 3.0;     // pixels; larger errors cost the same
  // Filtering of the final map.
  double min_ncc = 0.5;            // a source agrees photometrically above this
  double filter_geom_error = 1.0;  // pixels; a source agrees geometrically below this
  int min_consistent_views = 2;    // sources that must agree for a pixel to be kept
  float min_texture_std = 0.004f;  // pixels in flatter 7x7 regions (sky) are dropped
  int threads = 0;
  unsigned seed = 1;
};

// Estimates `views[ref]`'s depth and normals from its sources (views[ref].sources;
// images loaded). With `sourceMaps` (one per view, empty where absent) the cost
// includes geometric consistency and `init` (the view's own photometric map) is the
// starting point; without them random planes are the start. The result is filtered
// (0 depth where too few sources agree); `raw`, if given, receives the unfiltered map.
// `progress(done, total)` is called after each sweep; it may throw to cancel.
DepthMap patchMatchDepth(const std::vector<MvsView>& views, int ref,
                         const PatchMatchOptions& options, const DepthMap* init = nullptr,
                         const std::vector<const DepthMap*>* sourceMaps = nullptr,
                         DepthMap* raw = nullptr,
                         const std::function<void(int, int)>& progress = {});

}  // namespace parallax
