// parallax-cli's result commands: export, clean (the GUI's cleaning edits, headless),
// sample (synthetic scenes with exact ground truth).
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/cli/cli.h"
#include "io/colmap_model.h"
#include "io/mesh_io.h"
#include "io/ply.h"
#include "io/project_export.h"
#include "params/stages.h"
#include "scene/edits.h"
#include "surface/clean_workflow.h"
#include "synthetic/sample_scene.h"
#include "texture/textured_export.h"
#include "util/cancel.h"
#include "util/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax::cli {
namespace {

struct CleanArgs {
  std::string project;
  std::vector<std::string> layers;  // sparse, dense, mesh; empty: each the project has
  std::vector<double> crop;         // xmin ymin zmin xmax ymax zmax
  std::vector<double> outliers;     // neighbours, factor
  std::vector<double> radius;       // radius, minimum neighbours
  int minViews = 0;
  double maxError = 0;
  std::vector<std::string> deleteCameras;
  int undo = 0, redo = 0;
  bool history = false;
};

int exportGeometry(const std::string& project, const std::string& what, const std::string& format,
                   const std::string& out) {
  Workspace ws = Workspace::open(project);
  printRecovery(ws);
  std::string summary;
  fs::path written = what == "textured" ? exportTexturedMesh(ws, format, out, &summary)
                                        : exportProject(ws, what, format, out, &summary);
  std::cout << "wrote " << written.string() << " (" << summary << ")\n";
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


namespace {

void printHistory(const EditHistory& h) {
  if (h.edits().empty()) std::cout << "no edits\n";
  for (size_t i = 0; i < h.edits().size(); ++i)
    std::cout << (i < h.applied() ? "  * " : "    ") << i + 1 << ". " << h.edits()[i].label
              << (i < h.applied() ? "" : "   (undone; --redo applies it again)") << "\n";
}

size_t layerSize(const CleanLayers& l, EditTarget target) {
  switch (target) {
    case EditTarget::kSparsePoints: return l.sparse ? l.sparse->points3D.size() : 0;
    case EditTarget::kCameras: return l.sparse ? l.sparse->images.size() : 0;
    case EditTarget::kDensePoints: return l.dense ? l.dense->size() : 0;
    case EditTarget::kMeshFaces: return l.mesh ? l.mesh->faces.size() : 0;
  }
  return 0;
}

// A crop box holding none of a layer would empty it: refused, with the layer's extent.
void refuseEmptyingCrop(const CleanLayers& l, const SceneElements& outside) {
  auto check = [](size_t removed, size_t size, EditTarget target, const BoundingBox& box) {
    if (removed == 0 || removed < size) return;
    std::ostringstream extent;
    extent << std::setprecision(4);
    if (box.min.x() <= box.max.x())
      extent << " (they span x " << box.min.x() << " to " << box.max.x() << ", y " << box.min.y()
             << " to " << box.max.y() << ", z " << box.min.z() << " to " << box.max.z() << ")";
    throw Error("the box holds none of the " + std::string(editTargetName(target)) + extent.str() +
                "; nothing was changed");
  };
  if (l.sparse) {
    BoundingBox box;
    for (const auto& [id, p] : l.sparse->points3D) box.extend(p.xyz.cast<float>());
    check(outside.sparse.size(), l.sparse->points3D.size(), EditTarget::kSparsePoints, box);
  }
  if (l.dense) check(outside.dense.size(), l.dense->size(), EditTarget::kDensePoints, boundingBox(*l.dense));
  if (l.mesh) check(outside.faces.size(), l.mesh->faces.size(), EditTarget::kMeshFaces, boundingBox(*l.mesh));
}

// The steps asked for, in the order they run.
std::vector<CleanStep> cleanSteps(const CleanArgs& a) {
  std::vector<CleanStep> steps;
  if (!a.crop.empty()) {
    if (a.crop.size() != 6) throw Error("--crop takes six numbers: xmin ymin zmin xmax ymax zmax");
    for (size_t k = 0; k < 3; ++k)
      if (!(a.crop[k] < a.crop[k + 3]))
        throw Error("--crop: each minimum must be below its maximum (x, y, z)");
    steps.push_back(CleanStep::cropBox(CropBox::axisAligned({a.crop[0], a.crop[1], a.crop[2]},
                                                            {a.crop[3], a.crop[4], a.crop[5]})));
  }
  if (a.minViews > 0 || a.maxError > 0) steps.push_back(CleanStep::sparseFilter(a.minViews, a.maxError));
  if (!a.outliers.empty()) {
    if (a.outliers.size() != 2)
      throw Error("--outliers takes the number of neighbours (at least 1) and a factor (above 0)");
    steps.push_back(CleanStep::statisticalOutliers(int(a.outliers[0]), a.outliers[1]));
  }
  if (!a.radius.empty()) {
    if (a.radius.size() != 2)
      throw Error("--radius-outliers takes a radius (above 0, scene units) and a minimum number "
                  "of neighbours (at least 1)");
    steps.push_back(CleanStep::radiusOutliers(a.radius[0], int(a.radius[1])));
  }
  for (const CleanStep& step : steps)
    if (auto problem = step.problem()) throw Error(*problem);
  return steps;
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
    // Whole actions, as the GUI's undo steps (a step may have edited several layers).
    const auto actions = actionRanges(history);
    auto actionOf = [&](size_t edit) {
      return *std::find_if(actions.begin(), actions.end(), [&](const auto& r) { return edit < r.second; });
    };
    for (int i = 0; i < a.undo && history.canUndo(); ++i)
      for (size_t first = actionOf(history.applied() - 1).first; history.applied() > first;) {
        std::cout << "undo: " << history.edits()[history.applied() - 1].label << "\n";
        history.undo();
      }
    for (int i = 0; i < a.redo && history.canRedo(); ++i)
      for (size_t last = actionOf(history.applied()).second; history.applied() < last;) {
        history.redo();
        std::cout << "redo: " << history.edits()[history.applied() - 1].label << "\n";
      }
    history.save(root);
  }
  const std::vector<CleanStep> steps = cleanSteps(a);
  const bool anyOperation = !steps.empty() || !a.deleteCameras.empty();
  if (anyOperation) {
    const std::vector<std::string> have = exportableData(ws);
    auto wanted = [&](const std::string& layer) {
      const bool has = std::count(have.begin(), have.end(), layer) > 0;
      if (a.layers.empty()) return has;
      if (!std::count(a.layers.begin(), a.layers.end(), layer)) return false;
      if (!has) throw Error("the project has no " + layer + " layer to clean yet");
      return true;
    };
    const bool sparse = wanted("sparse");
    CleaningSession session(root, history, sparse || !a.deleteCameras.empty(), wanted("dense"),
                            wanted("mesh"));
    auto run = [&](const std::string& what, const CleanLayers& layers, const SceneElements& remove) {
      const std::vector<Edit> edits = editsFor(layers, remove, what);
      for (const Edit& e : pushAction(history, edits, root)) {
        const size_t before = layerSize(layers, e.target);
        std::cout << e.label << " removed, " << withThousands(before - e.removed.size()) << " left\n";
      }
      if (edits.empty()) std::cout << what << ": nothing to remove\n";
    };
    if (!a.deleteCameras.empty()) {
      const CleanLayers layers = session.shown();
      SceneElements cameras;
      for (const auto& name : a.deleteCameras) {
        bool found = false;
        for (const auto& [id, im] : layers.sparse->images)
          if (im.name == name) cameras.cameras.push_back(id), found = true;
        if (!found)
          throw Error("no registered photo is named '" + name + "' (names as in the photo list, e.g. '" +
                      (layers.sparse->images.empty() ? std::string("IMG_0001.JPG")
                                                     : layers.sparse->images.begin()->second.name) +
                      "')");
      }
      run("Delete camera", layers, cameras);
    }
    for (const CleanStep& step : steps) {
      CleanLayers layers = session.shown();
      if (!sparse) layers.sparse = nullptr;  // read only for deleting cameras
      const SceneElements remove = selectForRemoval(layers, step);
      if (step.kind == CleanStep::kCropBox) refuseEmptyingCrop(layers, remove);
      run(step.label(), layers, remove);
    }
    history.save(root);
  }
  if (a.history || (!anyOperation && a.undo == 0 && a.redo == 0)) printHistory(history);
  return kExitOk;
}

}  // namespace

void addResultCommands(CommandTable& t) {
  struct Args {
    std::string project, what, format, out, name;
    int views = 16, width = 640, height = 480, seed = 7;
    CleanArgs clean;
  };
  auto a = std::make_shared<Args>();
  Common& common = t.common();

  auto* cExport = t.add("export", "Export geometry: sparse points, dense cloud or mesh as PLY/OBJ/GLB, the textured mesh as GLB/OBJ/PLY with its atlas, or the COLMAP model",
                        [a] { return exportGeometry(a->project, a->what, a->format, a->out); });
  cExport->add_option("project", a->project, "Project folder")->required();
  cExport->add_option("--what", a->what, "sparse, dense, mesh or textured (the texture stage's mesh and atlas: glb, obj or ply)")
      ->required()
      ->check(CLI::IsMember({"sparse", "dense", "mesh", "textured"}));
  cExport->add_option("--format", a->format, "ply, obj, glb, gltf or colmap")
      ->required()
      ->check(CLI::IsMember({"ply", "obj", "glb", "gltf", "colmap"}));
  cExport->add_option("out", a->out, "Output file, or folder (then named after --what)")->required();

  auto* cSample = t.add("sample", "Generate a synthetic scene with exact ground truth (photos, cameras, depth, mesh)",
                        [a, &common] { return sample(a->name, a->out, a->views, a->width, a->height, a->seed, common); });
  cSample->add_option("name", a->name, "Scene name (statue, room, poles)")->required();
  cSample->add_option("outdir", a->out, "Output folder (new or empty)")->required();
  cSample->add_option("--views", a->views, "Number of photos")->capture_default_str();
  cSample->add_option("--width", a->width, "Photo width in pixels")->capture_default_str();
  cSample->add_option("--height", a->height, "Photo height in pixels")->capture_default_str();
  cSample->add_option("--seed", a->seed, "Texture seed")->capture_default_str();
  t.addJson(cSample);

  CleanArgs& c = a->clean;
  auto* cClean = t.add(
      "clean",
      "Clean the result: crop to a box, remove outliers, sparse points seen by few photos or with "
      "a large reprojection error, delete cameras; undo and redo. Edits are kept in the project "
      "(edits.json), shown by the GUI and applied by export",
      [a] { return clean(a->clean); });
  cClean->add_option("project", c.project, "Project folder")->required();
  cClean->add_option("--layer", c.layers, "Layers to clean: sparse, dense, mesh (default: each the project has)")
      ->check(CLI::IsMember({"sparse", "dense", "mesh"}));
  cClean->add_option("--crop", c.crop, "Keep what is inside the box XMIN YMIN ZMIN XMAX YMAX ZMAX (scene units)")
      ->expected(6);
  cClean->add_option("--outliers", c.outliers,
                     "Statistical outliers: NEIGHBOURS FACTOR (e.g. 20 2: mean distance to 20 "
                     "neighbours above 2x theirs)")
      ->expected(2);
  cClean->add_option("--radius-outliers", c.radius,
                     "Radius outliers: RADIUS MIN_NEIGHBOURS (fewer neighbours within RADIUS)")
      ->expected(2);
  cClean->add_option("--min-views", c.minViews, "Sparse: remove points seen by fewer photos")
      ->check(CLI::Range(2, 1000));
  cClean->add_option("--max-error", c.maxError, "Sparse: remove points with a larger mean reprojection error (px)")
      ->check(CLI::Range(0.01, 1000.0));
  cClean->add_option("--delete-camera", c.deleteCameras, "Delete a registered photo's camera (its observations go too)");
  cClean->add_option("--undo", c.undo, "Undo the last N edits")->check(CLI::Range(1, 100000));
  cClean->add_option("--redo", c.redo, "Redo N undone edits")->check(CLI::Range(1, 100000));
  cClean->add_flag("--history", c.history, "List the edits (* = applied)");
}

}  // namespace parallax::cli
