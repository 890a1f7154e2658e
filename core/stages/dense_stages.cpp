// The dense stages (DESIGN §2): undistort -> mvs -> fusion -> mesh, writing
// COLMAP's dense workspace under dense/.
#include <chrono>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <functional>
#include <optional>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <mutex>
#include <set>

#include "io/colmap_model.h"
#include "io/ply.h"
#include "mvs/depth_estimator.h"
#include "mvs/fusion.h"
#include "mvs/patch_match.h"
#include "params/stages.h"
#include "pipeline/methods.h"
#include "pipeline/runner.h"
#include "pipeline/stage.h"
#include "scene/edits.h"
#include "stages/builtin_stages.h"
#include "mvs/geometry_eval.h"
#include "surface/delaunay_mesh.h"
#include "surface/mesh_repair.h"
#include "surface/poisson.h"
#include "util/atomic_file.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/parallel.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax {
namespace {

// ---------------------------------------------------------------- undistort

bool isJpeg(const std::string& name) {
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".jpg" || ext == ".jpeg";
}

// The photo without distortion, as a pinhole camera with the same focal length
// and principal point, then scaled by `scale` (area averaging).
cv::Mat undistortPhoto(const cv::Mat& photo, const Camera& cam, double scale) {
  cv::Mat pinhole = photo;
  if (cam.model_id != kPinhole && cam.model_id != kSimplePinhole) {
    cv::Mat mapX(photo.rows, photo.cols, CV_32F), mapY(photo.rows, photo.cols, CV_32F);
    const double fx = cam.focalX(), fy = cam.focalY(), cx = cam.principalX(), cy = cam.principalY();
    for (int v = 0; v < photo.rows; ++v)
      for (int u = 0; u < photo.cols; ++u) {
        const Eigen::Vector3d ray((u + 0.5 - cx) / fx, (v + 0.5 - cy) / fy, 1.0);
        const Eigen::Vector2d src = cam.imgFromCam(ray);
        mapX.at<float>(v, u) = float(src.x() - 0.5);
        mapY.at<float>(v, u) = float(src.y() - 0.5);
      }
    cv::remap(photo, pinhole, mapX, mapY, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  }
  if (scale >= 1.0) return pinhole;
  cv::Mat out;
  cv::resize(pinhole, out,
             cv::Size(int(std::lround(photo.cols * scale)), int(std::lround(photo.rows * scale))), 0,
             0, cv::INTER_AREA);
  return out;
}

// The mask folder the user named (undistort.mask_path), resolved against the project.
std::optional<fs::path> maskFolder(const Workspace& ws, const params::Undistort& params) {
  const std::string& text = params.mask_path;
  if (text.empty()) return std::nullopt;
  fs::path dir = fs::path(text);
  if (dir.is_relative()) dir = ws.root() / dir;
  if (!fs::is_directory(dir))
    throw Error("undistort.mask_path '" + text + "' is not a folder" +
                (fs::path(text).is_relative() ? " (relative paths start at the project folder '" +
                                                    ws.root().string() + "')"
                                              : std::string()) +
                "; give the folder of masks or leave it empty");
  return dir;
}

// What the cleaning edits remove from the sparse model (cameras, points), as part of
// undistort's key: deleting a camera or sparse points makes the dense stages stale,
// and they then leave out what was removed. Empty without such edits.
std::string sparseEditsFingerprint(const Workspace& ws) {
  const EditHistory history = EditHistory::load(ws.root());
  const auto cameras = history.removed(EditTarget::kCameras);
  const auto points = history.removed(EditTarget::kSparsePoints);
  if (cameras.empty() && points.empty()) return {};
  Hasher h;
  h.add(uint64_t(cameras.size())).add(cameras.data(), cameras.size() * sizeof(uint64_t));
  h.add(uint64_t(points.size())).add(points.data(), points.size() * sizeof(uint64_t));
  return "sparse edits " + h.hex();
}

StageOutcome runUndistort(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  if (!hasColmapModel(ws.sparseDir()))
    throw Error("the project has no sparse model (sparse/0); run the sparse stage first");
  // The model as cleaned: cameras and points deleted in the viewer stay out of dense work.
  Reconstruction model = readColmapModel(ws.sparseDir());
  const size_t registered = model.images.size(), points = model.points3D.size();
  applyEdits(EditHistory::load(ws.root()), model);
  const size_t editedOutCameras = registered - model.images.size();
  const size_t editedOutPoints = points - model.points3D.size();
  if (model.images.empty())
    throw Error(registered ? "every registered photo was deleted by the cleaning edits; undo some (Edit > Undo or parallax-cli clean --undo)"
                           : "the sparse model has no registered photos");
  const auto paths = importedPhotoPaths(ws.root());
  const params::Undistort p = params::Undistort::from(ctx.params);
  const int maxSize = p.max_image_size;
  const int quality = p.jpeg_quality;
  const int threads = p.num_threads;
  const std::optional<fs::path> maskDir = maskFolder(ws, p);

  Reconstruction dense;
  std::map<uint32_t, double> scaleOf;
  for (const auto& [id, cam] : model.cameras) {
    const double scale = std::min(1.0, double(maxSize) / std::max(cam.width, cam.height));
    const int w = int(std::lround(cam.width * scale)), h = int(std::lround(cam.height * scale));
    Camera pin = Camera::pinhole(w, h, cam.focalX() * w / cam.width, cam.focalY() * h / cam.height,
                                 cam.principalX() * w / cam.width, cam.principalY() * h / cam.height);
    pin.camera_id = id;
    dense.cameras[id] = pin;
    scaleOf[id] = scale;
  }
  for (const auto& [id, image] : model.images) {
    Image im = image;
    const Camera& cam = model.cameras.at(image.camera_id);
    const Camera& pin = dense.cameras.at(image.camera_id);
    for (Point2D& p : im.points2D) {
      const Eigen::Vector3d ray = cam.camFromImg(p.xy);
      p.xy = pin.imgFromCam(ray);
    }
    dense.images[id] = std::move(im);
  }
  dense.points3D = model.points3D;

  std::vector<const Image*> images;
  for (const auto& [id, im] : model.images) images.push_back(&im);
  std::atomic<size_t> done{0};
  ctx.report.progress(0, images.size(), "undistorting photos");
  fs::create_directories(ws.denseDir());
  writeDirAtomic(ws.denseDir() / "images", [&](const fs::path& tmp) {
    parallelFor(
        images.size(),
        [&](size_t i) {
          throwIfCancelled();
          const Image& im = *images[i];
          auto it = paths.find(im.name);
          if (it == paths.end())
            throw Error("photo '" + im.name + "' is in the model but not among the imported photos;"
                        " rerun import and sparse");
          const cv::Mat photo = cv::imread(it->second.string(), cv::IMREAD_COLOR);
          if (photo.empty())
            throw Error("photo '" + it->second.string() + "' can no longer be read; restore it or "
                        "rerun import");
          const Camera& cam = model.cameras.at(im.camera_id);
          if (photo.cols != cam.width || photo.rows != cam.height)
            throw Error("photo '" + it->second.string() + "' is " + std::to_string(photo.cols) + "x" +
                        std::to_string(photo.rows) + " but was imported as " +
                        std::to_string(cam.width) + "x" + std::to_string(cam.height) +
                        "; rerun import");
          const cv::Mat out = undistortPhoto(photo, cam, scaleOf.at(im.camera_id));
          const fs::path target = tmp / im.name;
          fs::create_directories(target.parent_path());
          std::vector<int> options;
          if (isJpeg(im.name)) options = {cv::IMWRITE_JPEG_QUALITY, quality};
          if (!cv::imwrite(target.string(), out, options))
            throw Error("cannot write '" + target.string() + "' (disk full or not writable?)");
          const size_t d = ++done;
          ctx.report.progress(d, images.size(), im.name);
        },
        threads);
  });
  size_t masked = 0;
  if (maskDir) {
    std::vector<std::string> missing;
    std::mutex missingMutex;
    done = 0;
    ctx.report.progress(0, images.size(), "undistorting masks");
    writeDirAtomic(ws.denseDir() / "masks", [&](const fs::path& tmp) {
      parallelFor(
          images.size(),
          [&](size_t i) {
            throwIfCancelled();
            const Image& im = *images[i];
            const Camera& cam = model.cameras.at(im.camera_id);
            const std::optional<fs::path> file = findMaskFile(*maskDir, im.name);
            if (!file) {
              std::lock_guard<std::mutex> lock(missingMutex);
              missing.push_back(im.name);
              return;
            }
            const cv::Mat mask = cv::imread(file->string(), cv::IMREAD_GRAYSCALE);
            if (mask.empty())
              throw Error("mask '" + file->string() + "' cannot be read as an image; fix or "
                          "remove it");
            if (mask.cols != cam.width || mask.rows != cam.height)
              throw Error("mask '" + file->string() + "' is " + std::to_string(mask.cols) + "x" +
                          std::to_string(mask.rows) + " but its photo '" + im.name + "' is " +
                          std::to_string(cam.width) + "x" + std::to_string(cam.height) +
                          "; masks must have their photo's size");
            cv::Mat out = undistortPhoto(mask, cam, scaleOf.at(im.camera_id));
            cv::threshold(out, out, 127, 255, cv::THRESH_BINARY);
            const fs::path path = tmp / (im.name + ".png");
            fs::create_directories(path.parent_path());
            if (!cv::imwrite(path.string(), out))
              throw Error("cannot write '" + path.string() + "' (disk full or not writable?)");
            ctx.report.progress(++done, images.size(), im.name + " (mask)");
          },
          threads);
    });
    masked = images.size() - missing.size();
    if (masked == 0)
      throw Error("no mask in '" + maskDir->string() + "' matches a photo (looked for NAME, "
                  "NAME.png, STEM.png or the same number, e.g. '" + images.front()->name + ".png'); check "
                  "undistort.mask_path");
    if (!missing.empty())
      ctx.report.warning(std::to_string(missing.size()) + " photo(s) have no mask in '" +
                         maskDir->string() + "' (e.g. '" + missing.front() +
                         "'); their depth is estimated everywhere");
  } else {
    fs::remove_all(ws.denseDir() / "masks");
  }
  writeDirAtomic(ws.denseDir() / "sparse",
                 [&](const fs::path& tmp) { writeColmapModel(tmp, dense, ModelFormat::kBinary); });
  const Camera& first = dense.cameras.begin()->second;
  StageOutcome outcome;
  outcome.summary = std::to_string(images.size()) + " photos undistorted to pinhole, " +
                    std::to_string(first.width) + "x" + std::to_string(first.height);
  if (maskDir) outcome.summary += ", " + std::to_string(masked) + " with masks";
  if (editedOutCameras || editedOutPoints)
    outcome.summary += "; left out as edited: " + std::to_string(editedOutCameras) + " photos, " +
                       std::to_string(editedOutPoints) + " sparse points";
  outcome.outputs = {{"images", images.size()},
                     {"edited_out_photos", editedOutCameras},
                     {"edited_out_points", editedOutPoints},
                     {"width", first.width},
                     {"height", first.height},
                     {"masks", masked}};
  return outcome;
}

// ---------------------------------------------------------------- mvs

// Keeps the images of the current reference and its sources in memory, and no others.
void loadNeeded(const fs::path& denseDir, std::vector<MvsView>& views, const std::set<int>& need) {
  for (size_t i = 0; i < views.size(); ++i) {
    if (need.count(int(i))) {
      if (views[i].rgb.empty()) loadMvsImage(denseDir, views[i]);
    } else {
      std::vector<float>().swap(views[i].rgb);
    }
  }
}

std::set<int> withSources(const MvsView& v, int ref) {
  std::set<int> s(v.sources.begin(), v.sources.end());
  s.insert(ref);
  return s;
}

json readStereoRecord(const fs::path& denseDir, const std::string& folder = "stereo") {
  const fs::path file = denseDir / folder / "mvs.json";
  if (!fs::exists(file)) return json::object();
  try {
    return json::parse(readFile(file));
  } catch (const std::exception&) {
    return json::object();
  }
}

void writeStereoRecord(const fs::path& denseDir, const json& record) {
  writeFileAtomic(denseDir / "stereo" / "mvs.json", record.dump(2));
}

StageOutcome runMvs(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  const fs::path dense = ws.denseDir();
  const params::Mvs p = params::Mvs::from(ctx.params);
  const int threads = p.num_threads;

  // Which method: the learned one when asked for (or auto) and usable, else classical.
  const ResolvedMethod resolved = resolveMethod("mvs", ctx.params);
  if (!resolved.warning.empty()) ctx.report.warning(resolved.warning);
  const std::string& method = resolved.name;
  const DepthEstimator* net =
      resolved.classical ? nullptr : MethodRegistry::instance().find<DepthEstimator>("mvs", method);
  if (!resolved.classical && !net)
    throw Error("mvs." + method + " is registered but is not a depth estimator");

  ViewSelectionOptions selection;
  selection.max_sources = net ? net->numSources(ctx.params) : p.num_sources;
  std::vector<MvsView> views = loadMvsViews(dense, selection);
  if (views.empty()) throw Error("the dense workspace holds no photos; rerun undistort");

  PatchMatchOptions pm;
  pm.window_radius = p.window_radius;
  pm.num_iterations = p.num_iterations;
  pm.min_ncc = p.min_ncc;
  pm.min_consistent_views = p.min_consistent_views;
  pm.threads = threads;
  const bool geometric = !net && p.geom_consistency;
  const std::string finalKind = geometric ? "geometric" : "photometric";

  // Resume: maps written by an interrupted run with the same inputs are kept (not those
  // of another method, e.g. the classical fallback's while a model was missing).
  const std::string key = currentStageKey(ws, "mvs");
  auto matches = [&](const json& r) {
    return r.value("key", "") == key && r.value("method", "") == method;
  };
  // The maps of the last finished run stay until this run finishes: set aside in
  // stereo.previous, put back if it is cancelled or fails (its own maps then wait in
  // stereo.partial for the next run with the same inputs).
  const fs::path stereo = dense / "stereo", previous = dense / "stereo.previous",
                 partial = dense / "stereo.partial";
  if (!matches(readStereoRecord(dense))) {
    if (fs::exists(previous) && matches(readStereoRecord(dense, "stereo.previous"))) {
      fs::remove_all(partial);  // back to the finished maps of these inputs
      if (fs::exists(stereo)) fs::rename(stereo, partial);
      fs::rename(previous, stereo);
    } else {
      // What is in place: the last finished run's maps, unless some are already set
      // aside (then it is what an interrupted run left).
      if (fs::exists(stereo) && !fs::exists(previous)) fs::rename(stereo, previous);
      fs::remove_all(stereo);
      if (fs::exists(partial) && matches(readStereoRecord(dense, "stereo.partial")))
        fs::rename(partial, stereo);
    }
  }
  struct PutBack {
    fs::path stereo, previous, partial;
    bool finished = false;
    ~PutBack() {
      if (finished || !fs::exists(previous)) return;
      std::error_code ec;
      fs::remove_all(partial, ec);
      fs::rename(stereo, partial, ec);
      fs::rename(previous, stereo, ec);
    }
  } putBack{stereo, previous, partial};
  json record = readStereoRecord(dense);
  std::set<std::string> finished;
  if (matches(record))
    for (const auto& name : record.value("finished", json::array())) finished.insert(name);
  fs::create_directories(stereo);
  record = {{"key", key}, {"method", method}, {"kind", finalKind}, {"finished", json::array()}};
  for (const auto& name : finished) record["finished"].push_back(name);
  writeStereoRecord(dense, record);
  writePatchMatchConfig(dense, views);
  auto markFinished = [&](const std::string& tag) {
    record["finished"].push_back(tag);
    finished.insert(tag);
    writeStereoRecord(dense, record);
  };

  const size_t n = views.size();
  const int passes = geometric ? 2 : 1;
  const size_t totalSteps = n * size_t(passes);
  size_t step = 0;
  size_t reused = 0;
  double mapSeconds = 0;
  size_t mapsComputed = 0;
  auto report = [&](size_t i, const std::string& what) {
    ctx.report.progress(step, totalSteps, views[i].name + ": " + what);
  };
  auto skipNoSources = [&](size_t i) {
    if (!views[i].sources.empty() && views[i].depth_max > 0) return false;
    ctx.report.warning("'" + views[i].name +
                       "' shares no well-triangulated sparse points with other photos; no depth map");
    return true;
  };

  // One pass over the views: skips what an interrupted run finished or what has no
  // sources, loads the reference and its sources, computes (nothing: skip), writes,
  // records and announces the map. Only the first pass counts towards the time per map.
  auto pass = [&](const std::string& kind, const std::string& what, bool timed,
                  const std::function<std::optional<DepthMap>(size_t)>& compute) {
    for (size_t i = 0; i < n; ++i, ++step) {
      throwIfCancelled();
      const std::string tag = views[i].name + "." + kind;
      // (A map recorded as finished whose file has gone is computed again.)
      if (finished.count(tag) && fs::exists(depthMapFiles(dense, views[i].name, kind).depth)) {
        ++reused;
        continue;
      }
      if (skipNoSources(i)) continue;
      report(i, what);
      loadNeeded(dense, views, withSources(views[i], int(i)));
      const auto t0 = std::chrono::steady_clock::now();
      std::optional<DepthMap> map = compute(i);
      if (!map) continue;
      applyMask(dense, views[i].name, *map);
      if (timed) {
        mapSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++mapsComputed;
      }
      writeDepthMap(dense, views[i].name, kind, *map);
      markFinished(tag);
      ctx.report.preview("depth", depthMapFiles(dense, views[i].name, kind).depth.string());
    }
  };
  auto cancelCheck = [](int, int) { throwIfCancelled(); };
  if (net) {
    pass("photometric", resolved.label, true, [&](size_t i) -> std::optional<DepthMap> {
      DepthMap map = net->estimate(views, int(i), ctx.params);
      clearTexturelessDepth(views[i], map);
      computeNormalsFromDepth(views[i], map);
      return map;
    });
  } else {
    // Photometric pass (raw maps when a geometric pass follows, filtered otherwise).
    pass("photometric", "photometric pass", true, [&](size_t i) -> std::optional<DepthMap> {
      DepthMap raw;
      DepthMap filtered = patchMatchDepth(views, int(i), pm, nullptr, nullptr, &raw, cancelCheck);
      return geometric ? raw : filtered;
    });
    if (geometric) {
      std::map<int, DepthMap> cache;  // photometric maps of the current view and its sources
      pass("geometric", "geometric pass", false, [&](size_t i) -> std::optional<DepthMap> {
        const std::set<int> need = withSources(views[i], int(i));
        for (auto it = cache.begin(); it != cache.end();)
          it = need.count(it->first) ? std::next(it) : cache.erase(it);
        std::vector<const DepthMap*> maps(n, nullptr);
        for (int v : need) {
          if (!fs::exists(depthMapFiles(dense, views[size_t(v)].name, "photometric").depth))
            continue;
          if (!cache.count(v)) cache[v] = readDepthMap(dense, views[size_t(v)].name, "photometric");
          maps[size_t(v)] = &cache[v];
        }
        if (!maps[i]) return std::nullopt;
        return patchMatchDepth(views, int(i), pm, maps[i], &maps, nullptr, cancelCheck);
      });
    }
  }
  ctx.report.progress(totalSteps, totalSteps, "depth maps done");
  size_t written = 0;
  for (const MvsView& v : views)
    if (fs::exists(depthMapFiles(dense, v.name, finalKind).depth)) ++written;
  if (written == 0) throw Error("no depth map could be computed (see the warnings above)");
  StageOutcome outcome;
  // Nothing computed, every map kept from the last successful run with this key: the
  // maps are those fusion used.
  const json last = ws.stageRecord("mvs");
  outcome.unchanged = mapsComputed == 0 && reused == written &&
                      last.value("output_key", "") == key &&
                      last.value("outputs", json::object()).value("method", "") == method;
  outcome.summary = std::to_string(written) + " of " + std::to_string(n) + " depth maps (" + resolved.label +
                    (reused ? ", " + std::to_string(reused) + " kept from an earlier run" : "") +
                    ")";
  outcome.outputs = {{"method", method},
                     {"kind", finalKind},
                     {"depth_maps", written},
                     {"seconds_per_map", mapsComputed ? mapSeconds / double(mapsComputed)
                                                      : last.value("outputs", json::object())
                                                            .value("seconds_per_map", 0.0)}};
  fs::remove_all(previous);
  fs::remove_all(partial);
  putBack.finished = true;
  return outcome;
}

// ---------------------------------------------------------------- fusion

StageOutcome runFusion(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  const fs::path dense = ws.denseDir();
  const json record = readStereoRecord(dense);
  const std::string kind = record.value("kind", "geometric");
  std::vector<MvsView> views = loadMvsViews(dense);
  std::vector<DepthMap> maps(views.size());
  size_t withMaps = 0;
  ctx.report.progress(0, views.size(), "reading depth maps");
  const params::Fusion p = params::Fusion::from(ctx.params);
  const int threads = p.num_threads;
  parallelFor(
      views.size(),
      [&](size_t i) {
        if (!fs::exists(depthMapFiles(dense, views[i].name, kind).depth)) return;
        maps[i] = readDepthMap(dense, views[i].name, kind);
        loadMvsImage(dense, views[i]);
        if (maps[i].normals.empty()) computeNormalsFromDepth(views[i], maps[i]);
      },
      threads);
  for (const DepthMap& m : maps) withMaps += m.depth.empty() ? 0 : 1;
  if (withMaps == 0) throw Error("no depth maps in dense/stereo; run the mvs stage first");
  FusionOptions o;
  o.min_num_views = p.min_num_views;
  o.max_reproj_error = p.max_reproj_error;
  o.max_depth_error = p.max_depth_error;
  o.max_normal_error_deg = p.max_normal_error;
  o.threads = threads;
  FusedCloud fused = fuseDepthMaps(views, maps, o, [&](size_t done, size_t total) {
    ctx.report.progress(done, total, "fusing " + views[done - 1].name);
  });
  if (fused.cloud.size() == 0)
    throw Error("no point was seen consistently by " + std::to_string(o.min_num_views) +
                " photos; lower fusion.min_num_views or check the depth maps");
  writePly(ws.root() / files::Fusion::fused, fused.cloud);
  writeVisibility(ws.root() / files::Fusion::visibility, fused.visibility);
  // Per-point confidence for the viewer (no file when the maps have none: an older one goes).
  if (!fused.confidence.empty())
    writeConfidence(ws.root() / files::Fusion::confidence, fused.confidence);
  else
    fs::remove(ws.root() / files::Fusion::confidence);
  ctx.report.preview("dense", (ws.root() / files::Fusion::fused).string());
  StageOutcome outcome;
  outcome.summary = std::to_string(fused.cloud.size()) + " points fused from " +
                    std::to_string(withMaps) + " depth maps";
  outcome.outputs = {{"points", fused.cloud.size()}, {"depth_maps", withMaps}};
  return outcome;
}

// ---------------------------------------------------------------- mesh

// Screened Poisson (closed objects, masked photos): a watertight surface trimmed
// where it strays from the points, then cut to what the photos frame.
TriangleMesh poissonSurface(StageContext& ctx, const params::Mesh& p, const TriangleMesh& cloud,
                            json* outputs) {
  PoissonOptions o;
  o.depth = p.depth;
  o.trim_quantile = p.trim_quantile;
  o.trim_distance = p.trim_distance;
  o.outlier_neighbors = p.outlier_neighbors;
  o.outlier_factor = p.outlier_factor;
  o.target_faces = size_t(p.target_faces);
  o.threads = p.num_threads;
  ctx.report.progress(1, 4, "Poisson surface reconstruction");
  PoissonReport rep;
  TriangleMesh mesh = poissonMesh(cloud, o, &rep);
  throwIfCancelled();
  // What no photo frames (Poisson's closing surface behind and beside the scene) goes.
  const Reconstruction cameras = readColmapModel(ctx.workspace.denseDir() / "sparse");
  const size_t before = mesh.faces.size();
  mesh = keepSeenFaces(mesh, cameras, 1, 0.05f);
  *outputs = {{"depth", rep.depth},
              {"outliers_removed", rep.outliers_removed},
              {"untrimmed_faces", rep.untrimmed_faces},
              {"unseen_faces_removed", before - mesh.faces.size()}};
  ctx.report.info("Poisson depth " + std::to_string(rep.depth) + ", " + std::to_string(rep.outliers_removed) +
                  " outlier points removed, " + std::to_string(before - mesh.faces.size()) +
                  " faces no photo frames removed");
  return mesh;
}

// The visibility mesher: tetrahedra cut along the photos' lines of sight.
TriangleMesh delaunaySurface(StageContext& ctx, const params::Mesh& p, const TriangleMesh& cloud,
                             json* outputs) {
  const fs::path vis = ctx.workspace.root() / files::Fusion::visibility;
  if (!fs::exists(vis))
    throw Error("no visibility file (dense/fused.ply.vis) beside the fused cloud; run the fusion stage "
                "again, or set mesh.method=poisson");
  std::vector<std::vector<uint32_t>> visibility;
  try {
    visibility = readVisibility(vis);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + "; run the fusion stage again, or set mesh.method=poisson");
  }
  std::vector<MeshCamera> cameras;
  for (const MvsView& v : loadMvsViews(ctx.workspace.denseDir())) cameras.push_back({v.center(), v.K(0, 0)});
  DelaunayOptions o;
  o.merge_pixels = p.merge_pixels;
  o.max_views = p.max_views;
  o.thickness_pixels = p.thickness;
  o.quality = p.quality;
  o.weak_support = p.weak_support;
  o.min_component_share = p.min_component_share;
  o.max_edge_pixels = p.max_edge;
  o.threads = p.num_threads;
  DelaunayReport rep;
  size_t step = 1;
  TriangleMesh mesh = delaunayMesh(cloud, visibility, cameras, o, &rep, [&](const std::string& what) {
    ctx.report.progress(std::min<size_t>(step++, 3), 4, what);
  });
  if (p.target_faces > 0 && mesh.faces.size() > size_t(p.target_faces)) mesh = decimateMesh(mesh, size_t(p.target_faces));
  *outputs = {{"merged_vertices", rep.vertices},
              {"tetrahedra", rep.cells},
              {"lines_of_sight", rep.lines_of_sight},
              {"dropped_faces", rep.dropped_faces},
              {"seconds", {{"tetrahedralisation", rep.seconds_triangulation},
                           {"visibility", rep.seconds_visibility},
                           {"cut", rep.seconds_cut},
                           {"cleanup", rep.seconds_cleanup}}}};
  ctx.report.info(std::to_string(rep.input_points) + " points merged into " + std::to_string(rep.vertices) +
                  " vertices, " + std::to_string(rep.cells) + " tetrahedra, " + std::to_string(rep.lines_of_sight) +
                  " lines of sight");
  return mesh;
}

StageOutcome runMesh(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  const fs::path fused = ws.root() / files::Fusion::fused;
  if (!fs::exists(fused)) throw Error("no dense point cloud (dense/fused.ply); run fusion first");
  ctx.report.progress(0, 4, "reading the fused cloud");
  const TriangleMesh cloud = readPly(fused);
  const params::Mesh p = params::Mesh::from(ctx.params);
  // auto: Poisson's closed surface for a masked object, the visibility mesher otherwise.
  std::string method = p.method;
  if (method == "auto") {
    const params::Undistort undistort = params::Undistort::from(effectiveParams(ws, "undistort"));
    method = undistort.mask_path.empty() ? "delaunay" : "poisson";
  }
  throwIfCancelled();
  json outputs;
  TriangleMesh mesh = method == "poisson" ? poissonSurface(ctx, p, cloud, &outputs)
                                          : delaunaySurface(ctx, p, cloud, &outputs);
  throwIfCancelled();
  if (mesh.faces.empty()) throw Error("the " + method + " mesher left no surface; see the log above");
  // For texturing and export: no non-manifold edges, no spikes; smoothed if asked.
  RepairReport repair;
  mesh = repairMesh(mesh, &repair);
  smoothKeepingEdges(mesh, p.smooth);
  outputs["repair"] = {{"removed_faces", repair.removed_faces},
                       {"non_manifold_edges", repair.non_manifold_edges},
                       {"spikes", repair.spikes}};
  if (repair.removed_faces + repair.spikes > 0)
    ctx.report.info("repair: " + std::to_string(repair.non_manifold_edges) + " non-manifold edges, " +
                    std::to_string(repair.removed_faces) + " faces removed, " +
                    std::to_string(repair.spikes) + " spikes flattened");
  ctx.report.progress(3, 4, "writing the mesh");
  // One mesh per project: the method's file (COLMAP's names), the other method's goes.
  const fs::path file = ws.root() / (method == "poisson" ? files::Mesh::mesh : files::Mesh::delaunay);
  const fs::path other = ws.root() / (method == "poisson" ? files::Mesh::delaunay : files::Mesh::mesh);
  writePly(file, mesh);
  fs::remove(other);
  ctx.report.preview("mesh", file.string());
  const UnsupportedArea support = unsupportedArea(mesh, cloud.points, {0.01}, 100000);
  StageOutcome outcome;
  std::ostringstream unsupported;
  unsupported << std::setprecision(2) << 100 * support.shares[0];
  outcome.summary = method + ": " + std::to_string(mesh.faces.size()) + " faces, " +
                    std::to_string(mesh.points.size()) + " vertices, " + unsupported.str() +
                    "% of the area farther than 1% of the scene from any fused point";
  outputs.update({{"method", method},
                  {"file", file.lexically_relative(ws.root()).string()},
                  {"faces", mesh.faces.size()},
                  {"vertices", mesh.points.size()},
                  {"unsupported_area_1pct", support.shares[0]}});
  outcome.outputs = outputs;
  return outcome;
}

}  // namespace

void registerDenseStages() {
  StageRegistry::instance().add({"undistort", runUndistort, sparseEditsFingerprint});
  StageRegistry::instance().add({"mvs", runMvs, nullptr});
  StageRegistry::instance().add({"fusion", runFusion, nullptr});
  StageRegistry::instance().add({"mesh", runMesh, nullptr});
}

}  // namespace parallax
