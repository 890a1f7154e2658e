// Stage "sparse": incremental structure from motion on database.db's verified
// matches, written as COLMAP binary models sparse/0 (the largest), sparse/1, ...
// While it runs, the current model is written to the live-preview folder after
// each registration so the viewport can show cameras and points appearing.
#include <chrono>
#include <opencv2/imgcodecs.hpp>

#include "io/colmap_model.h"
#include "io/database.h"
#include "params/stages.h"
#include "pipeline/stage.h"
#include "sfm/incremental_mapper.h"
#include "stages/builtin_stages.h"
#include "util/atomic_file.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/parallel.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax {
namespace {

MapperOptions mapperOptions(const json& values) {
  const params::Sparse p = params::Sparse::from(values);
  MapperOptions o;
  o.init_min_num_inliers = p.init_min_num_inliers;
  o.init_min_tri_angle_deg = p.init_min_tri_angle;
  o.abs_pose_max_error_px = p.abs_pose_max_error;
  o.abs_pose_min_num_inliers = p.abs_pose_min_num_inliers;
  o.max_reproj_error_px = p.max_reproj_error;
  o.min_tri_angle_deg = p.min_tri_angle;
  o.ba.refine_focal_length = p.refine_focal_length;
  o.ba.refine_principal_point = p.refine_principal_point;
  o.ba.refine_extra_params = p.refine_extra_params;
  o.ba.num_threads = p.num_threads;
  o.local_ba_num_images = p.local_ba_num_images;
  o.multiple_models = p.multiple_models;
  o.min_model_size = p.min_model_size;
  return o;
}

// Mean colour of each point over the photos that see it.
void colorize(Reconstruction& model, const std::map<std::string, fs::path>& paths, int threads) {
  std::vector<const Image*> images;
  for (const auto& [id, im] : model.images) images.push_back(&im);
  std::vector<std::map<uint64_t, Eigen::Vector3d>> sums(images.size());
  parallelFor(
      images.size(),
      [&](size_t i) {
        auto it = paths.find(images[i]->name);
        if (it == paths.end()) return;
        const cv::Mat bgr = cv::imread(it->second.string(), cv::IMREAD_COLOR);
        if (bgr.empty()) return;
        for (const Point2D& p2 : images[i]->points2D) {
          if (p2.point3D_id == kInvalidPoint3DId) continue;
          const int x = std::clamp(int(p2.xy.x()), 0, bgr.cols - 1);
          const int y = std::clamp(int(p2.xy.y()), 0, bgr.rows - 1);
          const cv::Vec3b c = bgr.at<cv::Vec3b>(y, x);
          // Eigen vectors are not zeroed on construction: insert a zero sum first.
          auto slot = sums[i].try_emplace(p2.point3D_id, Eigen::Vector3d::Zero()).first;
          slot->second += Eigen::Vector3d(c[2], c[1], c[0]);
        }
      },
      threads);
  std::map<uint64_t, std::pair<Eigen::Vector3d, int>> total;
  for (const auto& s : sums)
    for (const auto& [pid, c] : s) {
      auto& t = total.try_emplace(pid, Eigen::Vector3d::Zero(), 0).first->second;
      t.first += c;
      ++t.second;
    }
  for (auto& [pid, point] : model.points3D) {
    auto it = total.find(pid);
    if (it == total.end()) continue;
    const Eigen::Vector3d c = it->second.first / it->second.second;
    point.color = {uint8_t(std::lround(c.x())), uint8_t(std::lround(c.y())),
                   uint8_t(std::lround(c.z()))};
  }
}

// Mean reprojection error of every point (COLMAP's points3D error column).
void computeErrors(Reconstruction& model) {
  for (auto& [pid, point] : model.points3D) {
    double sum = 0;
    for (const TrackElement& el : point.track) sum += model.observationError(point, el);
    point.error = point.track.empty() ? 0.0 : sum / double(point.track.size());
  }
}

// Keeps only the cameras the model's images use (COLMAP writes those).
void pruneCameras(Reconstruction& model) {
  std::set<uint32_t> used;
  for (const auto& [id, im] : model.images) used.insert(im.camera_id);
  for (auto it = model.cameras.begin(); it != model.cameras.end();)
    it = used.count(it->first) ? std::next(it) : model.cameras.erase(it);
}

struct LivePreview {
  fs::path dir;
  ~LivePreview() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

StageOutcome runSparse(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  const MapperOptions options = mapperOptions(ctx.params);
  ctx.report.progress(0, 1, "reading matches");
  SfmInput input;
  {
    Database db(ws.databasePath());
    input = loadSfmInput(db);
  }
  LivePreview live{ws.livePreviewDir()};
  auto lastPreview = std::chrono::steady_clock::now() - std::chrono::hours(1);
  auto observer = [&](const MapperProgress& p, const Reconstruction& model) {
    throwIfCancelled();
    if (p.milestone) ctx.report.info(p.message);
    ctx.report.progress(p.registered, p.total_images,
                        p.message + " (" + std::to_string(p.registered) + " photos, " +
                            std::to_string(p.num_points) + " points)");
    const auto now = std::chrono::steady_clock::now();
    if (now - lastPreview < std::chrono::milliseconds(500)) return;
    lastPreview = now;
    Reconstruction snapshot = model;
    pruneCameras(snapshot);
    writeDirAtomic(live.dir, [&](const fs::path& tmp) {
      writeColmapModel(tmp, snapshot, ModelFormat::kBinary);
    });
    ctx.report.preview("sparse-live", live.dir.string());
  };
  MapperResult result = runIncrementalMapper(input, options, observer);
  throwIfCancelled();

  ctx.report.progress(0, 1, "colouring points");
  const auto paths = importedPhotoPaths(ws.root());
  for (Reconstruction& model : result.models) {
    pruneCameras(model);
    computeErrors(model);
    colorize(model, paths, options.ba.num_threads);
    model.checkConsistency();
  }
  throwIfCancelled();
  const fs::path sparseRoot = ws.sparseDir().parent_path();
  writeDirAtomic(sparseRoot, [&](const fs::path& tmp) {
    for (size_t m = 0; m < result.models.size(); ++m)
      writeColmapModel(tmp / std::to_string(m), result.models[m], ModelFormat::kBinary);
  });
  ctx.report.preview("sparse", ws.sparseDir().string());
  for (const auto& note : result.notes) ctx.report.warning(note);

  const Reconstruction& best = result.models.front();
  size_t observations = 0;
  double errorSum = 0;
  for (const auto& [pid, p] : best.points3D) {
    observations += p.track.size();
    errorSum += p.error * double(p.track.size());
  }
  StageOutcome outcome;
  char summary[256];
  std::snprintf(summary, sizeof summary, "%zu of %zu photos registered, %zu points, %.2f px mean "
                "reprojection error%s",
                best.images.size(), input.images.size(), best.points3D.size(),
                observations ? errorSum / double(observations) : 0.0,
                result.models.size() > 1
                    ? (", " + std::to_string(result.models.size()) + " models").c_str()
                    : "");
  outcome.summary = summary;
  json models = json::array();
  for (const auto& m : result.models)
    models.push_back({{"num_images", m.images.size()}, {"num_points", m.points3D.size()}});
  outcome.outputs = {{"num_images", input.images.size()},
                     {"registered", best.images.size()},
                     {"num_points", best.points3D.size()},
                     {"mean_reprojection_error_px",
                      observations ? errorSum / double(observations) : 0.0},
                     {"mean_track_length",
                      best.points3D.empty() ? 0.0
                                            : double(observations) / double(best.points3D.size())},
                     {"models", models}};
  return outcome;
}

}  // namespace

void registerSparseStage() {
  StageRegistry::instance().add({"sparse", runSparse, nullptr});
}

}  // namespace parallax
