#include "app/cli_commands.h"

#include <filesystem>
#include <algorithm>
#include <iomanip>
#include <sstream>
#include <iostream>

#include "features/extract.h"
#include "features/feature_eval.h"
#include "fields/field_trainer.h"
#include "io/project_export.h"
#include "io/image_probe.h"
#include <opencv2/imgcodecs.hpp>
#include "scene/edits.h"
#include "surface/cleaning.h"
#include "pipeline/runner.h"
#include "pipeline/schema.h"
#include "pipeline/stage.h"
#include "io/colmap_model.h"
#include "sfm/pose_eval.h"
#include "io/mesh_io.h"
#include "io/ply.h"
#include "mvs/geometry_eval.h"
#include "plugin/plugin_manager.h"
#include "synthetic/sample_scene.h"
#include "util/cancel.h"
#include "util/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax::cli {
namespace {

std::shared_ptr<EventSink> makeSink(const Common& c) {
  if (c.json) return std::make_shared<JsonLinesSink>(std::cout);
  return std::make_shared<TerminalSink>();
}

// Loads built-in stages and plugins; plugin load problems are warnings, not fatal.
void prepareEngine() {
  registerBuiltinStages();
  for (const auto& problem : PluginManager::instance().loadDefault())
    std::cerr << "warning: " << problem << "\n";
}

void applyAssignments(Workspace& ws, const std::vector<std::string>& assignments) {
  for (const auto& text : assignments) {
    auto a = Schema::instance().parseAssignment(text);
    ws.setParamOverride(a.stage, a.param, a.value);
  }
}

void printRecovery(const Workspace& ws) {
  for (const auto& note : ws.recoveryNotes()) std::cerr << "recovered: " << note << "\n";
}

void checkPhotoPath(const std::string& p) {
  if (!fs::exists(p)) throw Error("photo path '" + p + "' does not exist");
}

int exitCode(RunResult r) {
  switch (r) {
    case RunResult::kSucceeded:
    case RunResult::kSkipped:
      return kExitOk;
    case RunResult::kCancelled:
      return kExitCancelled;
    case RunResult::kFailed:
      return kExitFailed;
  }
  return kExitFailed;
}

}  // namespace

int newProject(const std::string& project, const std::vector<std::string>& photos) {
  for (const auto& p : photos) checkPhotoPath(p);
  Workspace ws = Workspace::create(project);
  for (const auto& p : photos) ws.addPhotoRoot(p);
  ws.save();
  std::cout << "created project " << ws.root().string() << "\n";
  return kExitOk;
}

int addPhotos(const std::string& project, const std::vector<std::string>& photos) {
  for (const auto& p : photos) checkPhotoPath(p);
  Workspace ws = Workspace::open(project);
  printRecovery(ws);
  for (const auto& p : photos) ws.addPhotoRoot(p);
  ws.save();
  return kExitOk;
}

int setParams(const std::string& project, const std::vector<std::string>& assignments) {
  prepareEngine();
  Workspace ws = Workspace::open(project);
  printRecovery(ws);
  applyAssignments(ws, assignments);
  ws.save();
  return kExitOk;
}

int status(const std::string& project, const Common& common) {
  prepareEngine();
  Workspace ws = Workspace::open(project);
  json out = {{"project", ws.root().string()},
              {"recovered", ws.recoveryNotes()},
              {"stages", json::array()}};
  StageKeyCache keys;
  for (const auto& stage : pipelineStages()) {
    StageState st = stageState(ws, stage, &keys);
    json record = ws.stageRecord(stage);
    out["stages"].push_back({{"stage", stage},
                             {"status", st.status},
                             {"stale", st.stale},
                             {"reason", st.reason},
                             {"summary", record.value("summary", "")},
                             {"message", record.value("message", "")}});
  }
  if (common.json) {
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  std::cout << "project " << ws.root().string() << "\n";
  for (const auto& note : ws.recoveryNotes()) std::cout << "  recovered: " << note << "\n";
  for (const auto& s : out["stages"]) {
    std::cout << "  " << std::left << std::setw(14) << s["stage"].get<std::string>()
              << std::setw(12) << s["status"].get<std::string>()
              << (s["stale"].get<bool>() ? "stale: " + s["reason"].get<std::string>()
                                         : "up to date");
    if (!s["summary"].get<std::string>().empty())
      std::cout << " — " << s["summary"].get<std::string>();
    if (!s["message"].get<std::string>().empty())
      std::cout << " (" << s["message"].get<std::string>() << ")";
    std::cout << "\n";
  }
  return kExitOk;
}

int params(const std::string& stageFilter, const Common& common) {
  prepareEngine();
  const Schema& schema = Schema::instance();
  if (!stageFilter.empty()) schema.requireStage(stageFilter);
  json out = json::array();
  for (const auto& s : schema.stages()) {
    if (!stageFilter.empty() && s.name != stageFilter) continue;
    json js = {{"stage", s.name},
               {"label", s.label},
               {"help", s.help},
               {"after", s.after},
               {"params", json::array()}};
    for (const auto& p : s.params)
      js["params"].push_back({{"name", p.name},
                              {"type", p.typeName()},
                              {"default", p.default_value},
                              {"allowed", p.rangeText()},
                              {"help", p.help}});
    out.push_back(js);
  }
  if (common.json) {
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& s : out) {
    std::cout << s["stage"].get<std::string>() << " — " << s["label"].get<std::string>() << "\n  "
              << s["help"].get<std::string>() << "\n";
    for (const auto& p : s["params"])
      std::cout << "    " << s["stage"].get<std::string>() << "." << p["name"].get<std::string>()
                << " (" << p["type"].get<std::string>() << ", default " << p["default"].dump()
                << ", " << p["allowed"].get<std::string>() << ")\n        "
                << p["help"].get<std::string>() << "\n";
  }
  return kExitOk;
}

int runStage(const std::string& project, const std::string& stage,
             const std::vector<std::string>& assignments, const Common& common) {
  installCancelSignalHandlers();
  prepareEngine();
  Schema::instance().requireStage(stage);
  Workspace ws = Workspace::open(project);
  printRecovery(ws);
  if (!assignments.empty()) {
    applyAssignments(ws, assignments);
    ws.save();
  }
  return exitCode(parallax::runStage(ws, stage, makeSink(common)));
}

int reconstruct(const std::string& photos, const std::string& project, const std::string& until,
                const std::vector<std::string>& assignments, const Common& common) {
  installCancelSignalHandlers();
  prepareEngine();
  checkPhotoPath(photos);
  Workspace ws =
      Workspace::isProject(project) ? Workspace::open(project) : Workspace::create(project);
  printRecovery(ws);
  ws.addPhotoRoot(photos);
  applyAssignments(ws, assignments);
  ws.save();
  RunResult r = runPipeline(ws, until, makeSink(common));
  if (r == RunResult::kSucceeded && !common.json)
    std::cerr << "project: " << ws.root().string() << "\n";
  return exitCode(r);
}

int exportGeometry(const std::string& project, const std::string& what, const std::string& format,
                   const std::string& out) {
  Workspace ws = Workspace::open(project);
  printRecovery(ws);
  std::string summary;
  fs::path written = exportProject(ws, what, format, out, &summary);
  std::cout << "wrote " << written.string() << " (" << summary << ")\n";
  return kExitOk;
}

int evaluatePoses(const std::string& project, const std::string& gt, const std::string& format,
                  int modelIndex, const Common& common) {
  // A project, or a COLMAP model folder (to score another tool's result the same way).
  fs::path modelDir = project;
  if (!hasColmapModel(modelDir)) {
    Workspace ws = Workspace::open(project);
    modelDir = ws.sparseDir().parent_path() / std::to_string(modelIndex);
  }
  if (!hasColmapModel(modelDir))
    throw Error("the project has no sparse model " + modelDir.string() +
                "; run the 'sparse' stage first (parallax-cli reconstruct)");
  const Reconstruction model = readColmapModel(modelDir);
  const PoseSet truth = readGroundTruthPoses(gt, format);
  const PoseEvaluation ev = parallax::evaluatePoses(model, truth);
  size_t matched = 0;
  for (const auto& [id, im] : model.images) matched += truth.count(imageStem(im.name));
  if (matched == 0)
    throw Error("none of the model's " + std::to_string(model.images.size()) +
                " photos appear in the ground truth (names are paired by file stem, e.g. 0003 "
                "for images/0003.jpg); is it the ground truth of these photos?");
  if (common.json) {
    json auc = json::object();
    for (const auto& [t, v] : ev.auc) auc[std::to_string(t)] = v;
    std::cout << json{{"registered", ev.registered},
                      {"total", ev.total},
                      {"auc", auc},
                      {"median_rotation_error_deg", ev.median_rotation_error_deg},
                      {"median_center_error", ev.median_center_error},
                      {"scene_extent", ev.scene_extent}}
                     .dump()
              << "\n";
    return kExitOk;
  }
  std::cout << std::fixed << std::setprecision(3);
  std::cout << "registered          " << ev.registered << "/" << ev.total << "\n";
  for (const auto& [t, v] : ev.auc) std::cout << "AUC@" << t << "deg" << std::string(t < 10 ? 11 : 10, ' ') << v << "\n";
  std::cout << "median rot. error   " << ev.median_rotation_error_deg << " deg\n";
  std::cout << "median centre error " << ev.median_center_error
            << " (ground-truth units; cameras lie " << ev.scene_extent << " from their centre)\n";
  return kExitOk;
}

namespace {

// Accuracy and completeness against a true mesh, after aligning the model's cameras
// onto the true poses; adds "fused"/"mesh" entries and the frame's figures to `result`.
void evaluateAgainstMesh(const GeometryEvalArgs& a, const Workspace& ws,
                         const Reconstruction& model, json& result) {
  if (!fs::exists(a.gtMesh)) throw Error("ground-truth mesh '" + a.gtMesh + "' does not exist");
  const fs::path gtPoses = a.gt.empty() ? ws.referenceDir() / "sparse" : fs::path(a.gt);
  if (a.gt.empty() && !hasColmapModel(gtPoses))
    throw Error("the project has no reference/sparse (only synthetic samples do); give the "
                "ground-truth poses with --gt FILE --format FORMAT");
  const PoseSet truth = readGroundTruthPoses(gtPoses, a.gt.empty() ? "colmap" : a.format);
  // Pair by stem: the model's images and the true poses as two models.
  Reconstruction ours, theirs;
  for (const auto& [id, im] : model.images) {
    auto it = truth.find(imageStem(im.name));
    if (it == truth.end()) continue;
    Image mine = im, true_ = im;
    mine.name = true_.name = it->first;
    true_.cam_from_world = it->second;
    ours.images[id] = mine;
    theirs.images[id] = true_;
  }
  theirs.cameras = model.cameras;  // visibility: our intrinsics at the true poses
  double residual = 0;
  const auto sim = similarityBetweenModels(ours, theirs, &residual);
  if (!sim)
    throw Error("fewer than 3 of the model's photos have ground-truth poses; cannot align");
  TriangleMesh gtMesh = readGeometry(a.gtMesh);
  if (gtMesh.faces.empty()) throw Error("'" + a.gtMesh + "' holds no triangles");
  const SurfaceSamples samples = visibleSurfaceSamples(gtMesh, theirs, size_t(a.samples));
  const double tau = a.tau * samples.diagonal;
  result.update({{"diagonal", samples.diagonal},
                 {"tau", tau},
                 {"aligned_cameras", ours.images.size()},
                 {"alignment_median_residual", residual},
                 {"surface_samples", samples.points.size()}});
  auto evaluate = [&](const std::string& what, const fs::path& file) {
    if (!fs::exists(file)) return;
    TriangleMesh geometry = readPly(file);
    transformGeometry(geometry, *sim);
    std::vector<Eigen::Vector3f> points =
        geometry.faces.empty() ? geometry.points : sampleSurface(geometry, size_t(a.samples));
    const GeometryEvaluation e = parallax::evaluateGeometry(points, gtMesh, samples, tau);
    result[what].update({{"file", file.string()},
                         {"points", geometry.points.size()},
                         {"faces", geometry.faces.size()},
                         {"median_accuracy", e.median_accuracy},
                         {"mean_accuracy", e.mean_accuracy},
                         {"p90_accuracy", e.p90_accuracy},
                         {"median_accuracy_percent", 100.0 * e.median_accuracy / samples.diagonal},
                         {"completeness", e.completeness}});
  };
  evaluate("fused", ws.denseDir() / "fused.ply");
  evaluate("mesh", ws.denseDir() / "meshed-poisson.ply");
}

// Share of the cloud's points / the mesh's vertices inside the photos' masks (the
// model's own frame: no alignment).
void evaluateAgainstMaskFolder(const GeometryEvalArgs& a, const Workspace& ws,
                               const Reconstruction& model, json& result) {
  if (!fs::is_directory(a.masks)) throw Error("mask folder '" + a.masks + "' does not exist");
  for (const auto& [what, file] : {std::pair<std::string, fs::path>{"fused", ws.denseDir() / "fused.ply"},
                                   {"mesh", ws.denseDir() / "meshed-poisson.ply"}}) {
    if (!fs::exists(file)) continue;
    const TriangleMesh geometry = readPly(file);
    const MaskAgreement m = evaluateAgainstMasks(geometry.points, model, a.masks);
    result["masked_photos"] = m.masks;
    result[what].update({{"file", file.string()},
                         {"points", geometry.points.size()},
                         {"faces", geometry.faces.size()},
                         {"inside_masks", m.inside_all},
                         {"inside_mask_projections", m.inside_views}});
  }
}

}  // namespace

int evaluateGeometry(const GeometryEvalArgs& a, const Common& common) {
  if (a.gtMesh.empty() && a.masks.empty())
    throw Error("nothing to evaluate against: give --gt-mesh FILE (the true surface) or "
                "--masks DIR (the photos' object masks), or both");
  Workspace ws = Workspace::open(a.project);
  if (!hasColmapModel(ws.sparseDir()))
    throw Error("the project has no sparse model; run parallax-cli reconstruct first");
  if (!fs::exists(ws.denseDir() / "fused.ply") && !fs::exists(ws.denseDir() / "meshed-poisson.ply"))
    throw Error("the project has no dense cloud or mesh yet; run the dense stages "
                "(parallax-cli reconstruct)");
  const Reconstruction model = readColmapModel(ws.sparseDir());
  json result = json::object();
  if (!a.gtMesh.empty()) evaluateAgainstMesh(a, ws, model, result);
  if (!a.masks.empty()) evaluateAgainstMaskFolder(a, ws, model, result);
  if (common.json) {
    std::cout << result.dump() << "\n";
    return kExitOk;
  }
  std::cout << std::setprecision(4);
  if (!a.gtMesh.empty()) {
    std::cout << "ground truth: " << a.gtMesh << ", bounding-box diagonal "
              << result["diagonal"].get<double>() << ", "
              << result["surface_samples"].get<size_t>() << " surface samples seen by 2+ photos\n";
    std::cout << "alignment: " << result["aligned_cameras"].get<size_t>()
              << " camera centres, median residual "
              << result["alignment_median_residual"].get<double>() << "\n";
    std::cout << "tau = " << result["tau"].get<double>() << " (" << 100 * a.tau
              << "% of the diagonal)\n";
  }
  if (!a.masks.empty())
    std::cout << "masks: " << a.masks << ", " << result["masked_photos"].get<size_t>()
              << " photos with a mask\n";
  for (const char* what : {"fused", "mesh"}) {
    if (!result.contains(what)) continue;
    const json& r = result[what];
    std::cout << (std::string(what) == "fused" ? "dense cloud " : "mesh        ")
              << r["points"].get<size_t>() << " points"
              << (r["faces"].get<size_t>() ? ", " + std::to_string(r["faces"].get<size_t>()) + " faces" : "");
    if (r.contains("median_accuracy"))
      std::cout << ": accuracy median " << r["median_accuracy"].get<double>() << " ("
                << r["median_accuracy_percent"].get<double>() << "% of the diagonal), mean "
                << r["mean_accuracy"].get<double>() << ", 90% " << r["p90_accuracy"].get<double>()
                << "; completeness " << 100 * r["completeness"].get<double>() << "%";
    if (r.contains("inside_masks"))
      std::cout << (r.contains("median_accuracy") ? "; " : ": ")
                << 100 * r["inside_masks"].get<double>()
                << "% inside the masks of every photo they fall in ("
                << 100 * r["inside_mask_projections"].get<double>() << "% of projections)";
    std::cout << "\n";
  }
  return kExitOk;
}

int sample(const std::string& name, const std::string& outDir, int views, int width, int height,
           int seed, const Common& common) {
  installCancelSignalHandlers();
  SampleOptions o;
  o.name = name;
  o.views = views;
  o.width = width;
  o.height = height;
  o.seed = uint32_t(seed);
  Reporter report(makeSink(common), "sample");
  generateSample(o, outDir, report);
  if (!common.json)
    std::cerr << "sample '" << name << "' written to " << fs::absolute(outDir).string()
              << " (photos in images/)\n";
  return kExitOk;
}

int plugins(const Common& common) {
  prepareEngine();
  json out = json::array();
  for (const auto& p : PluginManager::instance().plugins()) {
    json jp = {{"name", p.name},
               {"version", p.version},
               {"library", p.library},
               {"models", json::array()}};
    for (const auto& m : p.models) {
      json jm = {{"file", m.relative_path}, {"description", m.description}};
      try {
        jm["path"] = locateModel(m).string();
      } catch (const Error& e) {
        jm["missing"] = e.what();
      }
      jp["models"].push_back(jm);
    }
    out.push_back(jp);
  }
  if (common.json) {
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "plugin folders:";
  for (const auto& d : PluginManager::pluginDirs()) std::cout << " " << d.string();
  std::cout << "\nmodel folders:";
  for (const auto& d : modelDirs()) std::cout << " " << d.string();
  std::cout << "\n";
  if (out.empty()) std::cout << "no plugins loaded\n";
  for (const auto& p : out) {
    std::cout << p["name"].get<std::string>() << " " << p["version"].get<std::string>() << " ("
              << p["library"].get<std::string>() << ")\n";
    for (const auto& m : p["models"])
      std::cout << "  " << m["file"].get<std::string>() << ": "
                << (m.contains("path") ? m["path"].get<std::string>()
                                       : "MISSING — " + m["missing"].get<std::string>())
                << "\n";
  }
  return kExitOk;
}

namespace {

std::string withThousands(size_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

void printHistory(const EditHistory& h) {
  if (h.edits().empty()) std::cout << "no edits\n";
  for (size_t i = 0; i < h.edits().size(); ++i)
    std::cout << (i < h.applied() ? "  * " : "    ") << i + 1 << ". " << h.edits()[i].label
              << (i < h.applied() ? "" : "   (undone; --redo applies it again)") << "\n";
}

}  // namespace

int clean(const CleanArgs& a) {
  Workspace ws = Workspace::open(a.project);
  printRecovery(ws);
  const fs::path root = ws.root();
  std::vector<std::string> notes;
  EditHistory history = EditHistory::load(root, &notes);
  for (const auto& n : notes) std::cerr << "note: " << n << "\n";
  if (a.undo > 0 || a.redo > 0) {
    for (int i = 0; i < a.undo && history.canUndo(); ++i) {
      std::cout << "undo: " << history.edits()[history.applied() - 1].label << "\n";
      history.undo();
    }
    for (int i = 0; i < a.redo && history.canRedo(); ++i) {
      history.redo();
      std::cout << "redo: " << history.edits()[history.applied() - 1].label << "\n";
    }
    history.save(root);
  }
  const bool anyOperation = !a.crop.empty() || !a.outliers.empty() || !a.radius.empty() ||
                            a.minViews > 0 || a.maxError > 0 || !a.deleteCameras.empty();
  if (anyOperation) {
    if (!a.crop.empty() && a.crop.size() != 6)
      throw Error("--crop takes six numbers: xmin ymin zmin xmax ymax zmax");
    for (int k = 0; k < 3 && a.crop.size() == 6; ++k)
      if (!(a.crop[size_t(k)] < a.crop[size_t(k) + 3]))
        throw Error("--crop: each minimum must be below its maximum (x, y, z)");
    if (!a.outliers.empty() && (a.outliers.size() != 2 || a.outliers[0] < 1 || a.outliers[1] <= 0))
      throw Error("--outliers takes the number of neighbours (at least 1) and a factor (above 0)");
    if (!a.radius.empty() && (a.radius.size() != 2 || a.radius[0] <= 0 || a.radius[1] < 1))
      throw Error("--radius-outliers takes a radius (above 0, scene units) and a minimum number "
                  "of neighbours (at least 1)");
    const std::vector<std::string> have = exportableData(ws);
    auto wanted = [&](const std::string& layer) {
      const bool has = std::count(have.begin(), have.end(), layer) > 0;
      if (a.layers.empty()) return has;
      if (!std::count(a.layers.begin(), a.layers.end(), layer)) return false;
      if (!has) throw Error("the project has no " + layer + " layer to clean yet");
      return true;
    };
    BoundingBox layerBox;  // of the layer being cropped, for the message below
    auto push = [&](EditTarget target, const std::string& what, std::vector<uint64_t> ids,
                    size_t before) {
      const size_t n = ids.size();
      if (what == "Crop to box" && n == before && n > 0) {
        std::ostringstream extent;
        extent << std::setprecision(4);
        if (layerBox.min.x() <= layerBox.max.x())
          extent << " (they span x " << layerBox.min.x() << " to " << layerBox.max.x() << ", y "
                 << layerBox.min.y() << " to " << layerBox.max.y() << ", z " << layerBox.min.z()
                 << " to " << layerBox.max.z() << ")";
        throw Error("the box holds none of the " + std::string(editTargetName(target)) +
                    extent.str() + "; nothing was changed");
      }
      const std::string label = what + ": " + withThousands(n) + " " + editTargetName(target);
      if (history.push(Edit{target, label, std::move(ids)}, root))
        std::cout << label << " removed, " << withThousands(before - n) << " left\n";
      else
        std::cout << what << ": no " << editTargetName(target) << " to remove\n";
    };
    const CropBox box = a.crop.size() == 6
                            ? CropBox::axisAligned({a.crop[0], a.crop[1], a.crop[2]},
                                                   {a.crop[3], a.crop[4], a.crop[5]})
                            : CropBox();
    if (wanted("sparse") || !a.deleteCameras.empty()) {
      Reconstruction model = readColmapModel(ws.sparseDir());
      applyEdits(history, model);
      std::vector<uint64_t> cameras;
      for (const auto& name : a.deleteCameras) {
        bool found = false;
        for (const auto& [id, im] : model.images)
          if (im.name == name) cameras.push_back(id), found = true;
        if (!found)
          throw Error("no registered photo is named '" + name +
                      "' (names as in the photo list, e.g. '" +
                      (model.images.empty() ? std::string("IMG_0001.JPG")
                                            : model.images.begin()->second.name) + "')");
      }
      if (!cameras.empty()) {
        push(EditTarget::kCameras, "Delete camera", cameras, model.images.size());
        applyEdits(history, model);
      }
      if (wanted("sparse")) {
        auto sparseOp = [&](const std::string& what, std::vector<uint64_t> ids) {
          push(EditTarget::kSparsePoints, what, std::move(ids), model.points3D.size());
          model = readColmapModel(ws.sparseDir());
          applyEdits(history, model);
        };
        if (a.crop.size() == 6) {
          layerBox = BoundingBox();
          for (const auto& [id, p] : model.points3D) layerBox.extend(p.xyz.cast<float>());
          sparseOp("Crop to box", sparsePointsOutside(model, box));
        }
        if (a.minViews > 0)
          sparseOp("Seen by fewer than " + std::to_string(a.minViews) + " photos",
                   sparsePointsSeenByFewer(model, size_t(a.minViews)));
        if (a.maxError > 0) {
          std::ostringstream what;
          what << "Reprojection error above " << a.maxError << " px";
          sparseOp(what.str(), sparsePointsWithErrorAbove(model, a.maxError));
        }
        auto pointsOf = [&](std::vector<uint32_t>* ids) {
          std::vector<Eigen::Vector3f> pts;
          for (const auto& [id, p] : model.points3D) pts.push_back(p.xyz.cast<float>()), ids->push_back(uint32_t(id));
          return pts;
        };
        if (!a.outliers.empty()) {
          std::vector<uint32_t> ids;
          const auto pts = pointsOf(&ids);
          sparseOp("Statistical outliers", statisticalOutliers(pts, ids, int(a.outliers[0]), a.outliers[1]));
        }
        if (!a.radius.empty()) {
          std::vector<uint32_t> ids;
          const auto pts = pointsOf(&ids);
          sparseOp("Radius outliers", radiusOutliers(pts, ids, a.radius[0], int(a.radius[1])));
        }
      }
    }
    if (wanted("dense")) {
      const PointCloud original = readPly(ws.denseDir() / "fused.ply");
      auto denseOp = [&](const std::string& what, auto&& select) {
        std::vector<uint32_t> kept;
        const PointCloud cloud = applyEdits(history, original, &kept);
        push(EditTarget::kDensePoints, what, select(cloud, kept), cloud.size());
      };
      if (a.crop.size() == 6)
        denseOp("Crop to box", [&](const PointCloud& c, const std::vector<uint32_t>& ids) {
          layerBox = boundingBox(c);
          return pointsOutside(c.points, ids, box);
        });
      if (!a.outliers.empty())
        denseOp("Statistical outliers", [&](const PointCloud& c, const std::vector<uint32_t>& ids) {
          return statisticalOutliers(c.points, ids, int(a.outliers[0]), a.outliers[1]);
        });
      if (!a.radius.empty())
        denseOp("Radius outliers", [&](const PointCloud& c, const std::vector<uint32_t>& ids) {
          return radiusOutliers(c.points, ids, a.radius[0], int(a.radius[1]));
        });
    }
    if (wanted("mesh") && a.crop.size() == 6) {
      const TriangleMesh original = readPly(editSourceFile(root, EditTarget::kMeshFaces));
      std::vector<uint32_t> kept;
      const TriangleMesh mesh = applyEdits(history, original, &kept);
      layerBox = boundingBox(mesh);
      push(EditTarget::kMeshFaces, "Crop to box", facesOutside(mesh, kept, box), mesh.faces.size());
    }
    history.save(root);
  }
  if (a.history || (!anyOperation && a.undo == 0 && a.redo == 0)) printHistory(history);
  return kExitOk;
}

int evaluateFeatures(const FeatureEvalArgs& args, const Common& common) {
  prepareEngine();
  const Schema& schema = Schema::instance();
  json featureParams = schema.requireStage("features").defaults();
  json matchingParams = schema.requireStage("matching").defaults();
  // The networks as they are (no extra turned copies) unless asked for.
  featureParams["learned_rotations"] = "none";
  for (const auto& text : args.assignments) {
    const auto a = schema.parseAssignment(text);
    if (a.stage == "features")
      featureParams[a.param] = a.value;
    else if (a.stage == "matching")
      matchingParams[a.param] = a.value;
    else
      throw Error("--set " + text + ": only features.* and matching.* parameters apply here");
  }
  // Photos: files as given, folders' images in name order.
  std::vector<fs::path> files;
  for (const auto& p : args.photos) {
    checkPhotoPath(p);
    if (fs::is_directory(p)) {
      std::vector<fs::path> inFolder;
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && hasImageExtension(e.path())) inFolder.push_back(e.path());
      std::sort(inFolder.begin(), inFolder.end());
      files.insert(files.end(), inFolder.begin(), inFolder.end());
    } else {
      files.push_back(p);
    }
  }
  std::vector<cv::Mat> photos;
  for (const auto& f : files) {
    cv::Mat m = cv::imread(f.string(), cv::IMREAD_COLOR);
    if (m.empty()) throw Error("'" + f.string() + "' is not a readable JPEG, PNG or TIFF image");
    photos.push_back(m);
  }
  if (photos.empty()) throw Error("no photos found in the paths given");
  WarpEvalOptions options;
  options.pairs = args.pairs;
  options.seed = args.seed;
  options.max_image_size = args.maxSize;
  options.max_rotation_deg = args.maxRotation;
  options.max_scale = args.maxScale;
  options.min_scale = args.maxScale > 1.0 ? std::max(0.5, 1.0 / args.maxScale) : 1.0;
  options.max_corner_shift = args.maxShift;
  featureParams["max_image_size"] = std::max<long long>(args.maxSize, featureParams["max_image_size"].get<long long>());

  json rows = json::array();
  if (!common.json)
    std::cout << std::left << std::setw(10) << "method" << std::setw(10) << "type" << std::setw(11)
              << "keypoints" << std::setw(8) << "repeat." << std::setw(8) << "MMA@1" << std::setw(8)
              << "MMA@3" << std::setw(8) << "MMA@5" << std::setw(9) << "NN-pairs" << std::setw(10) << "correct@3" << std::setw(10)
              << "pipeline" << std::setw(10) << "prec.@3" << "ms/image\n";
  for (const auto& method : args.methods) {
    json p = featureParams;
    p["method"] = method;
    std::string why;
    if (usableFeatureMethod(p, &why) != method)
      throw Error(method + " features unavailable: " + why);
    const WarpEvalResult r =
        evaluateOnWarps(photos, method, p, matchOptionsFor(method == "alike" ? "alike" : method, matchingParams), options);
    rows.push_back({{"method", r.method},
                    {"type", r.type},
                    {"pairs", r.pairs},
                    {"keypoints", r.mean_keypoints},
                    {"repeatability", r.repeatability},
                    {"mma", {{"1", r.mma.at(1)}, {"3", r.mma.at(3)}, {"5", r.mma.at(5)}}},
                    {"mutual_nn_matches", r.mean_matches},
                    {"correct3", r.mean_correct3},
                    {"pipeline_matches", r.pipeline_matches},
                    {"pipeline_precision3", r.pipeline_precision3},
                    {"extract_ms", r.extract_ms}});
    if (!common.json)
      std::cout << std::left << std::fixed << std::setprecision(3) << std::setw(10) << r.method
                << std::setw(10) << r.type << std::setw(11) << std::setprecision(0)
                << r.mean_keypoints << std::setprecision(3) << std::setw(8) << r.repeatability
                << std::setw(8) << r.mma.at(1) << std::setw(8) << r.mma.at(3) << std::setw(8)
                << r.mma.at(5) << std::setprecision(0) << std::setw(9) << r.mean_matches
                << std::setw(10) << r.mean_correct3 << std::setw(10) << r.pipeline_matches << std::setprecision(3) << std::setw(10)
                << r.pipeline_precision3 << std::setprecision(1) << r.extract_ms
                << std::endl;
  }
  if (common.json) std::cout << json{{"pairs", args.pairs}, {"seed", args.seed}, {"results", rows}}.dump() << "\n";
  return kExitOk;
}

int evaluateField(const std::string& project, const std::string& gtMesh, const Common& common) {
  installCancelSignalHandlers();
  prepareEngine();
  Workspace ws = Workspace::open(project);
  const json params = effectiveParams(ws, "field");
  const std::string method = params.value("method", "nerf");
  const FieldTrainer& trainer = requireFieldTrainer(method);
  const FieldDataset data = loadFieldData(ws, params);
  Reporter report(makeSink(common), "evaluate-field");
  FieldJob job{data, params, ws.root() / "fields" / method, report};
  json result = trainer.evaluate(job);
  if (!gtMesh.empty()) {
    const fs::path meshFile = job.outDir / "mesh.ply";
    if (!fs::exists(meshFile))
      throw Error("the field has no extracted surface (" + meshFile.string() +
                  "); run the field stage with field.mesh_resolution > 0");
    TriangleMesh mesh = readPly(meshFile);
    const TriangleMesh truth = readGeometry(gtMesh);
    if (truth.faces.empty()) throw Error("'" + gtMesh + "' holds no triangles");
    // The truth's frame: a field trained on the project's own cameras (an arbitrary frame)
    // is aligned onto a sample's reference cameras; imported poses are the truth's already.
    Eigen::Matrix4d toTruth = Eigen::Matrix4d::Identity();
    Reconstruction cameras;  // the training views in the truth's frame, for visibility
    if (params.value("poses", "").empty() && hasColmapModel(ws.referenceDir() / "sparse")) {
      cameras = readColmapModel(ws.referenceDir() / "sparse");
      const auto sim = similarityBetweenModels(readColmapModel(ws.sparseDir()), cameras);
      if (!sim) throw Error("fewer than 3 of the project's photos are in reference/sparse; cannot align");
      toTruth = *sim;
      transformGeometry(mesh, toTruth);
    } else {
      cameras = fieldCameras(data);
    }
    // Completeness over what the field could reconstruct: the truth seen by two or more
    // photos, inside the field's box.
    std::vector<Eigen::Vector3f> seen;
    const Eigen::Matrix4d toField = toTruth.inverse();
    for (const auto& p : visibleSurfaceSamples(truth, cameras, 100000).points) {
      const Eigen::Vector3d f = (toField * p.cast<double>().homogeneous()).head<3>();
      if ((f.array() >= data.boxMin.array()).all() && (f.array() <= data.boxMax.array()).all()) seen.push_back(p);
    }
    const ChamferDistance c = chamferDistance(mesh, truth, 100000, &seen);
    result["chamfer"] = {{"to_truth", c.to_truth}, {"from_truth", c.from_truth}, {"chamfer", c.chamfer},
                         {"diagonal", c.diagonal}, {"chamfer_of_diagonal", c.chamfer / c.diagonal},
                         {"truth_samples_seen", seen.size()}};
  }
  if (common.json) {
    std::cout << result.dump() << std::endl;
    return kExitOk;
  }
  std::cout << std::left << std::setw(24) << "view" << std::setw(10) << "PSNR dB" << "SSIM\n";
  for (const auto& v : result["views"])
    std::cout << std::setw(24) << v["view"].get<std::string>() << std::setw(10) << std::fixed
              << std::setprecision(2) << v["psnr"].get<double>() << std::setprecision(4)
              << v["ssim"].get<double>() << "\n";
  std::cout << std::setw(24) << "mean" << std::setw(10) << std::setprecision(2)
            << result["psnr"].get<double>() << std::setprecision(4) << result["ssim"].get<double>()
            << "\n"
            << "renders: " << result["renders"].get<std::string>() << "\n";
  if (result.contains("chamfer")) {
    const json& c = result["chamfer"];
    std::cout << std::setprecision(4) << "surface against " << gtMesh << ": Chamfer "
              << c["chamfer"].get<double>() << " (field to truth " << c["to_truth"].get<double>()
              << ", truth to field " << c["from_truth"].get<double>() << ") = " << std::setprecision(2)
              << 100.0 * c["chamfer_of_diagonal"].get<double>() << "% of the truth's bounding-box diagonal\n"
              << "  (truth to field over the " << c["truth_samples_seen"].get<size_t>()
              << " samples of the truth that two or more photos see inside the field's box)\n";
  }
  return kExitOk;
}

int benchmarkHashGrid(int64_t points, const Common& common) {
  prepareEngine();
  const json r = PluginManager::instance().command("hashgrid-benchmark", {{"points", points}, {"log2_size", 19}});
  if (common.json) {
    std::cout << r.dump() << std::endl;
    return kExitOk;
  }
  std::cout << std::fixed << std::setprecision(2) << "hash grid, " << r["levels"].get<int>()
            << " levels x 2 features, 2^" << r["log2_size"].get<int>() << " entries per level, "
            << points << " points, " << r["threads"].get<int>() << " threads; forward + backward:\n"
            << "  fused C++ kernel   " << r["fused_points_per_s"].get<double>() / 1e6 << " M points/s\n"
            << "  tensor operations  " << r["tensor_ops_points_per_s"].get<double>() / 1e6 << " M points/s\n"
            << "  speed-up           " << r["speedup"].get<double>() << "x (outputs differ by at most "
            << std::scientific << r["max_abs_difference"].get<double>() << ")\n";
  return kExitOk;
}

}  // namespace parallax::cli
