// parallax-cli: the headless front end. Everything the GUI does runs through
// here too (the GUI starts `parallax-cli run-stage ... --json` as its workers).
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/cli_commands.h"
#include "util/error.h"

using namespace parallax;

int main(int argc, char** argv) {
  CLI::App app{
      "Parallax: 3D reconstruction from photos.\n"
      "Quick start: parallax-cli sample statue /tmp/statue && parallax-cli reconstruct "
      "/tmp/statue/images /tmp/statue-project"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "parallax-cli 0.1.0");
  cli::Common common;
  std::string project, stage, photos, until, what, format, out, name;
  std::vector<std::string> files, assignments;
  int views = 16, width = 640, height = 480, seed = 7;
  auto addJson = [&](CLI::App* c) {
    c->add_flag("--json", common.json,
                "Print newline-delimited JSON events instead of a progress bar");
  };
  auto addSet = [&](CLI::App* c) {
    c->add_option("--set", assignments,
                  "Set a parameter: stage.param=value (repeatable; see `parallax-cli params`)");
  };

  auto* cNew =
      app.add_subcommand("new", "Create a project folder, optionally with photo folders/files");
  cNew->add_option("project", project, "Project folder to create")->required();
  cNew->add_option("photos", files, "Photo folders or files");

  auto* cAdd = app.add_subcommand("add-photos", "Add photo folders or files to a project");
  cAdd->add_option("project", project, "Project folder")->required();
  cAdd->add_option("photos", files, "Photo folders or files")->required();

  auto* cSet =
      app.add_subcommand("set", "Store parameter values in a project (stage.param=value ...)");
  cSet->add_option("project", project, "Project folder")->required();
  cSet->add_option("assignments", assignments, "stage.param=value")->required();

  auto* cStatus = app.add_subcommand(
      "status", "Show each stage's state, what is stale and why, and any recovery notes");
  cStatus->add_option("project", project, "Project folder")->required();
  addJson(cStatus);

  auto* cParams =
      app.add_subcommand("params", "List stages and their parameters (type, default, range, help)");
  cParams->add_option("stage", stage, "Only this stage");
  addJson(cParams);

  auto* cRun =
      app.add_subcommand("run-stage", "Run one stage of a project (the GUI's worker process)");
  cRun->add_option("project", project, "Project folder")->required();
  cRun->add_option("stage", stage, "Stage name (see `parallax-cli params`)")->required();
  addJson(cRun);
  addSet(cRun);

  auto* cRec = app.add_subcommand(
      "reconstruct", "Run the whole pipeline headless: photos -> project (only stale stages run)");
  cRec->add_option("photos", photos, "Photo folder or file")->required();
  cRec->add_option("project", project, "Project folder (created if absent)")->required();
  cRec->add_option("--until", until, "Stop after this stage");
  addJson(cRec);
  addSet(cRec);

  auto* cExport = app.add_subcommand(
      "export",
      "Export geometry: sparse points, dense cloud or mesh as PLY/OBJ/GLB, or the COLMAP model");
  cExport->add_option("project", project, "Project folder")->required();
  cExport->add_option("--what", what, "sparse, dense or mesh")
      ->required()
      ->check(CLI::IsMember({"sparse", "dense", "mesh"}));
  cExport->add_option("--format", format, "ply, obj, glb, gltf or colmap")
      ->required()
      ->check(CLI::IsMember({"ply", "obj", "glb", "gltf", "colmap"}));
  cExport->add_option("out", out, "Output file, or folder (then named after --what)")->required();

  auto* cSample = app.add_subcommand(
      "sample",
      "Generate a synthetic scene with exact ground truth (photos, cameras, depth, mesh)");
  cSample->add_option("name", name, "Scene name (statue, room)")->required();
  cSample->add_option("outdir", out, "Output folder (new or empty)")->required();
  cSample->add_option("--views", views, "Number of photos")->capture_default_str();
  cSample->add_option("--width", width, "Photo width in pixels")->capture_default_str();
  cSample->add_option("--height", height, "Photo height in pixels")->capture_default_str();
  cSample->add_option("--seed", seed, "Texture seed")->capture_default_str();
  addJson(cSample);

  std::string gt, gtFormat;
  int modelIndex = 0;
  auto* cEval = app.add_subcommand(
      "evaluate-poses",
      "Score a project's camera poses against ground truth: registered, relative-pose AUC@1/3/5/10 "
      "deg, median rotation and camera-centre errors");
  cEval->add_option("project", project, "Project folder, or a COLMAP model folder")->required();
  cEval->add_option("--gt", gt, "Ground-truth file or folder")->required();
  cEval->add_option("--format", gtFormat, "middlebury, strecha, nerf, dtu or colmap")
      ->required()
      ->check(CLI::IsMember({"middlebury", "strecha", "nerf", "dtu", "colmap"}));
  cEval->add_option("--model", modelIndex, "Which model: sparse/N")->capture_default_str();
  addJson(cEval);

  cli::GeometryEvalArgs geo;
  auto* cGeo = app.add_subcommand(
      "evaluate-geometry",
      "Score a project's dense cloud and mesh against a ground-truth mesh: accuracy (distance of "
      "the reconstruction to the true surface) and completeness (share of the surface that two or "
      "more photos see lying within tau of the reconstruction), or against the photos' object "
      "masks (share of the points inside them)");
  cGeo->add_option("project", geo.project, "Project folder")->required();
  cGeo->add_option("--gt-mesh", geo.gtMesh, "Ground-truth mesh (PLY, OBJ, ...)");
  cGeo->add_option("--masks", geo.masks,
                   "Folder of the photos' object masks (white = object; NAME.png, NAME or "
                   "STEM.png): share of points inside them");
  cGeo->add_option("--gt", geo.gt,
                   "Ground-truth poses, to align the reconstruction (default: the project's "
                   "reference/sparse, which synthetic samples have)");
  cGeo->add_option("--format", geo.format, "Format of --gt: middlebury, strecha, nerf, dtu or colmap")
      ->check(CLI::IsMember({"middlebury", "strecha", "nerf", "dtu", "colmap"}))
      ->capture_default_str();
  cGeo->add_option("--tau", geo.tau, "Completeness distance, as a share of the mesh's bounding-box diagonal")
      ->check(CLI::Range(1e-5, 0.5))
      ->capture_default_str();
  cGeo->add_option("--samples", geo.samples, "Ground-truth surface samples")
      ->check(CLI::Range(1000, 10000000))
      ->capture_default_str();
  addJson(cGeo);

  cli::CleanArgs cleanArgs;
  auto* cClean = app.add_subcommand(
      "clean",
      "Clean the result: crop to a box, remove outliers, sparse points seen by few photos or with "
      "a large reprojection error, delete cameras; undo and redo. Edits are kept in the project "
      "(edits.json), shown by the GUI and applied by export");
  cClean->add_option("project", cleanArgs.project, "Project folder")->required();
  cClean->add_option("--layer", cleanArgs.layers, "Layers to clean: sparse, dense, mesh (default: each the project has)")
      ->check(CLI::IsMember({"sparse", "dense", "mesh"}));
  cClean->add_option("--crop", cleanArgs.crop, "Keep what is inside the box XMIN YMIN ZMIN XMAX YMAX ZMAX (scene units)")
      ->expected(6);
  cClean->add_option("--outliers", cleanArgs.outliers,
                     "Statistical outliers: NEIGHBOURS FACTOR (e.g. 20 2: mean distance to 20 "
                     "neighbours above 2x theirs)")
      ->expected(2);
  cClean->add_option("--radius-outliers", cleanArgs.radius,
                     "Radius outliers: RADIUS MIN_NEIGHBOURS (fewer neighbours within RADIUS)")
      ->expected(2);
  cClean->add_option("--min-views", cleanArgs.minViews, "Sparse: remove points seen by fewer photos")
      ->check(CLI::Range(2, 1000));
  cClean->add_option("--max-error", cleanArgs.maxError, "Sparse: remove points with a larger mean reprojection error (px)")
      ->check(CLI::Range(0.01, 1000.0));
  cClean->add_option("--delete-camera", cleanArgs.deleteCameras, "Delete a registered photo's camera (its observations go too)");
  cClean->add_option("--undo", cleanArgs.undo, "Undo the last N edits")->check(CLI::Range(1, 100000));
  cClean->add_option("--redo", cleanArgs.redo, "Redo N undone edits")->check(CLI::Range(1, 100000));
  cClean->add_flag("--history", cleanArgs.history, "List the edits (* = applied)");

  cli::FeatureEvalArgs featureEval;
  auto* cFeat = app.add_subcommand(
      "evaluate-features",
      "Compare feature types on photos warped by known random homographies (rotation, scale, "
      "perspective, brightness and contrast), as HPatches: repeatability, mean matching accuracy at 1/3/5 px, matches and "
      "extraction time");
  cFeat->add_option("photos", featureEval.photos, "Photo files or folders")->required();
  cFeat->add_option("--methods", featureEval.methods, "Feature types: sift, alike, xfeat")
      ->delimiter(',')
      ->check(CLI::IsMember({"sift", "alike", "xfeat"}))
      ->capture_default_str();
  cFeat->add_option("--pairs", featureEval.pairs, "Warped pairs")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cFeat->add_option("--seed", featureEval.seed, "Seed of the random warps")->capture_default_str();
  cFeat->add_option("--max-size", featureEval.maxSize, "Photos downscaled to this longest side first (px)")
      ->check(CLI::Range(64, 20000))
      ->capture_default_str();
  cFeat->add_option("--max-rotation", featureEval.maxRotation, "Largest in-plane rotation of a warp (degrees)")
      ->check(CLI::Range(0.0, 180.0))
      ->capture_default_str();
  cFeat->add_option("--max-scale", featureEval.maxScale, "Warps scale by up to this factor (and down to its inverse, at least 0.5)")
      ->check(CLI::Range(1.0, 4.0))
      ->capture_default_str();
  cFeat->add_option("--max-shift", featureEval.maxShift, "Perspective: corners moved by up to this share of the photo's size")
      ->check(CLI::Range(0.0, 0.4))
      ->capture_default_str();
  cFeat->add_option("--set", featureEval.assignments,
                    "A features.* or matching.* parameter: stage.param=value (repeatable)");
  addJson(cFeat);

  auto* cField = app.add_subcommand(
      "evaluate-field",
      "Render the held-out views (every field.holdout_every-th photo, never trained on) from the "
      "project's trained field: PSNR and SSIM per view and on average; renders in fields/<method>/renders");
  cField->add_option("project", project, "Project folder")->required();
  std::string fieldGtMesh;
  cField->add_option("--gt-mesh", fieldGtMesh,
                     "Ground-truth mesh (PLY, OBJ) in the frame of the field's poses: Chamfer distance of "
                     "the field's extracted surface (fields/<method>/mesh.ply) to it");
  addJson(cField);

  int64_t hashPoints = 262144;
  auto* cHash = app.add_subcommand(
      "benchmark-hashgrid",
      "Throughput of the fused hash-grid kernel against the same encoding built from tensor "
      "operations (points/s, forward + backward; needs the field_nerf plugin)");
  cHash->add_option("--points", hashPoints, "Points per batch")
      ->check(CLI::Range(int64_t(1024), int64_t(1) << 24))
      ->capture_default_str();
  addJson(cHash);

  auto* cPlugins =
      app.add_subcommand("plugins", "List plugins, their model files and whether each is found");
  addJson(cPlugins);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*cNew) return cli::newProject(project, files);
    if (*cAdd) return cli::addPhotos(project, files);
    if (*cSet) return cli::setParams(project, assignments);
    if (*cStatus) return cli::status(project, common);
    if (*cParams) return cli::params(stage, common);
    if (*cRun) return cli::runStage(project, stage, assignments, common);
    if (*cRec) return cli::reconstruct(photos, project, until, assignments, common);
    if (*cExport) return cli::exportGeometry(project, what, format, out);
    if (*cSample) return cli::sample(name, out, views, width, height, seed, common);
    if (*cPlugins) return cli::plugins(common);
    if (*cEval) return cli::evaluatePoses(project, gt, gtFormat, modelIndex, common);
    if (*cGeo) return cli::evaluateGeometry(geo, common);
    if (*cClean) return cli::clean(cleanArgs);
    if (*cFeat) return cli::evaluateFeatures(featureEval, common);
    if (*cField) return cli::evaluateField(project, fieldGtMesh, common);
    if (*cHash) return cli::benchmarkHashGrid(hashPoints, common);
  } catch (const Error& e) {
    std::cerr << "parallax-cli: error: " << e.what() << std::endl;
    return cli::kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << "parallax-cli: internal error: " << e.what() << " (please report this)"
              << std::endl;
    return 3;
  }
  return cli::kExitFailed;
}
