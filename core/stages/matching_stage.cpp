// Stage "matching": putative matches and verified two-view geometries for the
// chosen photo pairs, written to database.db in one SQLite transaction.
#include <algorithm>
#include <mutex>

#include "features/matching.h"
#include "io/database.h"
#include "params/stages.h"
#include "pipeline/stage.h"
#include "stages/builtin_stages.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/parallel.h"

namespace parallax {
namespace {

constexpr size_t kAutoExhaustiveLimit = 150;

std::vector<std::pair<size_t, size_t>> choosePairs(size_t n, const std::string& mode,
                                                   size_t overlap) {
  std::vector<std::pair<size_t, size_t>> pairs;
  const bool exhaustive = mode == "exhaustive" || (mode == "auto" && n <= kAutoExhaustiveLimit);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n && (exhaustive || j <= i + overlap); ++j) pairs.emplace_back(i, j);
  return pairs;
}

StageOutcome runMatching(StageContext& ctx) {
  const params::Matching p = params::Matching::from(ctx.params);
  const bool guided = p.guided;
  VerifyOptions verify;
  verify.max_error = p.max_error;
  verify.min_num_inliers = p.min_num_inliers;
  verify.confidence = p.confidence;
  verify.min_inlier_ratio = p.min_inlier_ratio;

  Database db(ctx.workspace.databasePath());
  const std::vector<DatabaseImage> images = db.readImages();
  std::map<uint32_t, Camera> cameras;
  for (const auto& c : db.readCameras()) cameras[c.camera_id] = c;
  std::vector<std::vector<FeatureKeypoint>> keypoints;
  std::vector<FeatureDescriptors> descriptors;
  for (const auto& im : images) {
    keypoints.push_back(db.readKeypoints(im.image_id));
    descriptors.push_back(db.readDescriptors(im.image_id));
    if (keypoints.back().empty() && descriptors.back().rows == 0)
      ctx.report.warning("'" + im.name + "' has no features; it cannot be matched");
  }
  // Learned float descriptors: mutual nearest neighbours above a cosine similarity, with an
  // optional ratio test (SIFT's ratio and distance thresholds mean little for them).
  const bool learned = std::any_of(descriptors.begin(), descriptors.end(),
                                   [](const FeatureDescriptors& d) { return d.isFloat(); });
  std::string type;  // as recorded with the features ("" for a database from before they were)
  for (const auto& im : images)
    if (!(type = db.featureType(im.image_id)).empty()) break;
  MatchOptions match = matchOptionsFor(type, ctx.params);
  const double strictRatio = match.max_ratio;
  // SIFT pairs that fail with the strict ratio are verified again with a looser one.
  if (!learned) match.max_ratio = std::max(strictRatio, p.fallback_ratio);
  const auto pairs = choosePairs(images.size(), p.mode,
                                 size_t(p.overlap));
  if (pairs.empty()) {
    StageOutcome skipped;
    skipped.skipped = true;
    skipped.summary = "fewer than two photos: nothing to match";
    return skipped;
  }

  db.beginTransaction();  // committed only when every pair is done
  db.clearMatches();
  std::mutex dbMutex;
  std::atomic<size_t> done{0};
  size_t verifiedPairs = 0, totalInliers = 0;
  ctx.report.progress(0, pairs.size(), "matching " + std::to_string(pairs.size()) + " pairs");
  parallelFor(
      pairs.size(),
      [&](size_t k) {
        throwIfCancelled();
        const auto [a, b] = pairs[k];
        std::vector<float> ratios;
        const FeatureMatches loose = matchDescriptors(descriptors[a], descriptors[b], match, &ratios);
        FeatureMatches matches;
        for (size_t m = 0; m < loose.size(); ++m)
          if (ratios[m] <= strictRatio) matches.push_back(loose[m]);
        const Camera& camA = cameras.at(images[a].camera_id);
        const Camera& camB = cameras.at(images[b].camera_id);
        const bool calibrated = camA.has_prior_focal_length && camB.has_prior_focal_length;
        TwoViewGeometry g =
            verifyPair(keypoints[a], camA, keypoints[b], camB, matches, calibrated, verify);
        if (g.inliers.empty() && loose.size() > matches.size()) {
          // Wide baselines and weak texture: the looser ratio often still verifies.
          TwoViewGeometry second =
              verifyPair(keypoints[a], camA, keypoints[b], camB, loose, calibrated, verify);
          // Looser matches hold more chance agreements: demand a clear majority and twice the
          // usual support before trusting them.
          if (int(second.inliers.size()) >= 2 * verify.min_num_inliers &&
              second.inliers.size() * 2 >= loose.size()) {
            g = std::move(second);
            matches = loose;
          }
        }
        // With the pair's geometry known, match again among the features that fit it. Only
        // where that geometry is well supported and general: an epipolar geometry fitted to a
        // handful of matches, or a homography standing in for a non-planar scene, is off
        // away from its inliers, and matches found there would agree with its error.
        const bool general = g.config == kCalibrated || g.config == kUncalibrated;
        if (guided && general && int(g.inliers.size()) >= 2 * verify.min_num_inliers) {
          MatchOptions guidedOptions = match;
          guidedOptions.max_ratio = strictRatio;
          const FeatureMatches more = guidedMatch(descriptors[a], keypoints[a], descriptors[b],
                                                  keypoints[b], g, verify.max_error, guidedOptions);
          if (more.size() > g.inliers.size()) {
            TwoViewGeometry refined =
                verifyPair(keypoints[a], camA, keypoints[b], camB, more, calibrated, verify);
            if (refined.inliers.size() > g.inliers.size()) {
              g = std::move(refined);
              matches = more;
            }
          }
        }
        {
          std::lock_guard<std::mutex> lock(dbMutex);
          db.writeMatches(images[a].image_id, images[b].image_id, matches);
          db.writeTwoViewGeometry(images[a].image_id, images[b].image_id, g);
          if (!g.inliers.empty()) ++verifiedPairs, totalInliers += g.inliers.size();
        }
        ctx.report.progress(++done, pairs.size(),
                            images[a].name + " - " + images[b].name + ": " +
                                std::to_string(g.inliers.size()) + " inliers");
      },
      p.num_threads);
  throwIfCancelled();
  db.commit();
  if (verifiedPairs == 0)
    ctx.report.warning(
        "no photo pair has enough consistent matches: the photos may not overlap, or show a "
        "blank or repetitive surface");
  StageOutcome outcome;
  outcome.summary = std::to_string(verifiedPairs) + " of " + std::to_string(pairs.size()) +
                    " pairs verified, " + std::to_string(totalInliers) + " inlier matches";
  outcome.outputs = {{"num_pairs", pairs.size()},
                     {"verified_pairs", verifiedPairs},
                     {"inlier_matches", totalInliers}};
  return outcome;
}

}  // namespace

void registerMatchingStage() {
  StageRegistry::instance().add({"matching", runMatching, nullptr});
}

}  // namespace parallax
