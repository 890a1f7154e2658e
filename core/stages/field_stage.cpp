// Stage "field": trains a neural field (a field method from a plugin) on photos with
// known cameras; writes fields/<method>/ (checkpoint, training.json with the PSNR
// curve, mesh.ply).
#include "stages/field_stage.h"

#include "io/colmap_model.h"
#include "params/stages.h"
#include "pipeline/methods.h"
#include "pipeline/stage.h"
#include "plugin/plugin_manager.h"
#include "stages/builtin_stages.h"
#include "util/error.h"
#include "util/hash.h"

namespace fs = std::filesystem;

namespace parallax {

namespace {

// field.poses resolved against the project; empty when the project's own cameras are used.
fs::path posesPath(const Workspace& ws, const std::string& poses) {
  if (poses.empty()) return {};
  const fs::path p(poses);
  return p.is_absolute() ? p : ws.root() / p;
}

}  // namespace

FieldDataset loadFieldData(const Workspace& ws, const nlohmann::json& values) {
  const params::Field params = params::Field::from(values);
  FieldLoadOptions o;
  o.maxImageSize = params.max_image_size;
  const fs::path p = posesPath(ws, params.poses);
  if (p.empty()) return loadProjectField(ws, o);
  // A COLMAP model folder (e.g. a sample's reference/sparse) brings its own points.
  if (fs::is_directory(p) && !fs::exists(p / "cameras_sphere.npz"))
    return loadColmapField(p, importedPhotoRoot(ws), o, false);
  // DTU/IDR cameras (the .npz or its folder) or a transforms.json: the project's own
  // sparse points, when it has them, aligned onto those cameras.
  FieldDataset data = p.extension() == ".npz"   ? loadDtuCameras(p, o)
                      : fs::is_directory(p)     ? loadDtuCameras(p / "cameras_sphere.npz", o)
                                                : loadTransformsJson(p, o);
  if (hasColmapModel(ws.sparseDir())) {
    const std::string note = addModelPoints(data, readColmapModel(ws.sparseDir()));
    if (!note.empty()) data.notes.push_back(note);
  }
  return data;
}

const FieldTrainer& requireFieldTrainer(const nlohmann::json& values) {
  PluginManager::instance().loadDefault();
  const std::string method = params::Field::from(values).method;
  const FieldTrainer* t = MethodRegistry::instance().find<FieldTrainer>("field", method);
  if (!t) {
    std::string dirs;
    for (const auto& d : PluginManager::pluginDirs()) dirs += " " + d.string();
    throw Error((method.empty() ? std::string("no field method is installed")
                                : "no installed plugin provides field." + method) +
                "; field methods are plugins built with LibTorch (PARALLAX_BUILD_TORCH=ON), looked for in" +
                dirs + " (or set PARALLAX_PLUGIN_PATH)");
  }
  return *t;
}

namespace {

StageOutcome runField(StageContext& ctx) {
  const params::Field p = params::Field::from(ctx.params);
  if (!p.enabled) {
    StageOutcome out;
    out.skipped = true;
    out.summary = "no neural field trained (field.enabled is off)";
    return out;
  }
  const std::string& method = p.method;
  const FieldTrainer& trainer = requireFieldTrainer(ctx.params);
  ctx.report.progress(0, 1000, "loading photos and cameras");
  const FieldDataset data = loadFieldData(ctx.workspace, ctx.params);
  for (const auto& note : data.notes) ctx.report.warning(note);
  ctx.report.info(std::to_string(data.views.size()) + " views at " +
                  std::to_string(data.views[0].width) + "x" + std::to_string(data.views[0].height) +
                  " from " + data.source);
  FieldJob job{data, ctx.params, ctx.workspace.root() / "fields" / method, ctx.report};
  const nlohmann::json summary = trainer.train(job);
  StageOutcome out;
  const auto& curve = summary["psnr_curve"];
  std::string psnrText =
      curve.empty()
          ? "no held-out view"
          : std::string(summary.value("psnr_curve_held_out", true) ? "held-out" : "training-view") +
                " PSNR " + std::to_string(curve.back()["psnr"].get<double>()).substr(0, 5) + " dB";
  out.summary = method + ": " + std::to_string(summary["iterations"].get<int64_t>()) +
                " iterations in " + std::to_string(int(summary["train_seconds"].get<double>())) +
                " s, " + psnrText;
  out.outputs = summary;
  return out;
}

std::string fieldInputs(const Workspace& ws) {
  Hasher h;
  std::error_code ec;
  // The poses file (or model folder) named, else the project's cameras (sparse/0 and the
  // undistorted ones): sizes and times of the files with the cameras and points.
  // Read from the project's overrides: the key being computed has just validated them,
  // and effectiveParams would validate every parameter again for this one.
  const std::string poses = ws.paramOverrides("field").value("poses", params::Field{}.poses);
  h.add(poses);
  // Imported cameras take the project's own sparse points when it has them.
  std::vector<fs::path> places = {posesPath(ws, poses), ws.sparseDir()};
  if (poses.empty()) places = {ws.sparseDir(), ws.denseDir() / "sparse"};
  std::vector<fs::path> files;
  for (const fs::path& place : places) {
    files.push_back(place);
    for (const char* f : {"cameras.bin", "images.bin", "points3D.bin", "cameras.txt", "images.txt",
                          "points3D.txt"})
      files.push_back(place / f);
  }
  for (const auto& p : files)
    h.add(p.string())
        .add(uint64_t(fs::file_size(p, ec)))
        .add(uint64_t(fs::last_write_time(p, ec).time_since_epoch().count()));
  return h.hex();
}

}  // namespace

void registerFieldStage() { StageRegistry::instance().add({"field", runField, fieldInputs}); }

}  // namespace parallax
