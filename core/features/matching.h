// Descriptor matching and two-view geometric verification, in COLMAP's terms:
// putative matches per image pair, then the inliers of an essential matrix
// (known intrinsics), fundamental matrix (unknown) or homography (planar scenes
// and pure rotations), with the pair's configuration code.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "geometry/camera.h"
#include "io/database.h"

namespace parallax {

// The unit-vector distance equivalent to a cosine similarity.
inline double distanceForSimilarity(double cosine) { return std::sqrt(std::max(0.0, 2.0 - 2.0 * cosine)); }

struct MatchOptions {
  double max_ratio = 0.8;     // Lowe's ratio test on the two nearest neighbours
  double max_distance = 0.7;  // on unit-normalised descriptors
  bool cross_check = true;    // keep mutual nearest neighbours only
};

// The options the matching stage uses for a feature type (as recorded in the database:
// "rootsift", or a learned method's type): SIFT's ratio test and distance, or for learned
// float descriptors mutual nearest neighbours above learned_min_similarity with the
// ratio test their method gives (FeatureExtractor::matchRatio), from the stage's
// parameters. Error when the type's method is not installed.
MatchOptions matchOptionsFor(const std::string& featureType, const nlohmann::json& matchingParams);

// Exhaustive nearest neighbours on unit-length descriptors: SIFT's uint8 scaled back,
// or learned float descriptors as stored (blocked dot products, AVX2 where the CPU has
// it, both CPU cores through the caller's parallelism over pairs). On unit vectors the
// distance threshold is a cosine-similarity threshold: |x - y|^2 = 2 - 2 cos(x, y)
// (distanceForSimilarity). Photos with different feature types never match. The ratio test applies both
// ways; `ratios`, when given, receives each match's worse ratio of the two.
FeatureMatches matchDescriptors(const FeatureDescriptors& a, const FeatureDescriptors& b,
                                const MatchOptions& options, std::vector<float>* ratios = nullptr);

// Guided matching (COLMAP's guided_matching): for a pair whose geometry is known,
// the nearest neighbours and the ratio test (both ways) are taken only among the
// features that fit it (within `max_error` px of the epipolar line both ways, or of
// the homography transfer both ways for planar/panoramic pairs). It finds the
// correct matches an unconstrained ratio test loses to look-alikes elsewhere in
// the photo, which is what links wide-baseline views into one track.
FeatureMatches guidedMatch(const FeatureDescriptors& a, const std::vector<FeatureKeypoint>& kpsA,
                           const FeatureDescriptors& b, const std::vector<FeatureKeypoint>& kpsB,
                           const TwoViewGeometry& geometry, double max_error,
                           const MatchOptions& options);

struct VerifyOptions {
  double max_error = 4.0;  // pixels (COLMAP's default RANSAC threshold)
  double confidence = 0.999;
  int max_iterations = 10000;
  int min_num_inliers = 15;
  double min_inlier_ratio =
      0.25;  // a model fitting fewer of the matches is chance (COLMAP's default)
  double min_e_f_inlier_ratio = 0.95;  // below this, the intrinsics prior is not trusted
  double max_h_inlier_ratio = 0.8;     // above this, the pair is planar or a pure rotation
};

// `calibrated`: both cameras have trustworthy focal lengths (EXIF prior).
TwoViewGeometry verifyPair(const std::vector<FeatureKeypoint>& kpsA, const Camera& camA,
                           const std::vector<FeatureKeypoint>& kpsB, const Camera& camB,
                           const FeatureMatches& matches, bool calibrated,
                           const VerifyOptions& options);

}  // namespace parallax
