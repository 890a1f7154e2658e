// parallax-cli's evaluation commands: evaluate-poses, evaluate-geometry,
// evaluate-features, evaluate-field, benchmark-hashgrid.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/cli/cli.h"
#include "features/extract.h"
#include "features/feature_eval.h"
#include "features/matching.h"
#include "io/colmap_model.h"
#include "io/image_probe.h"
#include "io/mesh_io.h"
#include "io/ply.h"
#include "mvs/geometry_eval.h"
#include "params/stages.h"
#include "pipeline/methods.h"
#include "pipeline/schema.h"
#include "plugin/plugin_manager.h"
#include "sfm/pose_eval.h"
#include "stages/field_stage.h"
#include "util/cancel.h"
#include "util/error.h"
#include <opencv2/imgcodecs.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax::cli {
namespace {

struct GeometryEvalArgs {
  std::string project, gtMesh, gt, format = "colmap", masks, missed;
  double tau = 0.01;  // share of the ground-truth mesh's bounding-box diagonal
  int samples = 200000;
};

struct FeatureEvalArgs {
  std::vector<std::string> photos;  // files or folders
  std::vector<std::string> methods;  // features methods; empty: every one installed
  std::vector<std::string> assignments;  // features.* and matching.* parameters
  int pairs = 20;
  unsigned seed = 1;
  int maxSize = 640;
  double maxRotation = 20.0, maxScale = 1.4, maxShift = 0.15;
};

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



// The mesh stage's mesh: the visibility mesher's or Poisson's, whichever it wrote last.
fs::path meshStageFile(const Workspace& ws) {
  const fs::path delaunay = ws.root() / files::Mesh::delaunay, poisson = ws.root() / files::Mesh::mesh;
  if (!fs::exists(delaunay)) return poisson;
  if (!fs::exists(poisson)) return delaunay;
  return fs::last_write_time(delaunay) >= fs::last_write_time(poisson) ? delaunay : poisson;
}

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
    // Where the mesh falls short: the true surface it misses, for a viewer.
    if (what == "mesh" && !a.missed.empty()) {
      PointCloud missed;
      for (uint32_t i : e.missed) missed.points.push_back(samples.points[i]);
      writePly(a.missed, missed);
      result[what]["missed_file"] = a.missed;
    }
  };
  evaluate("fused", ws.root() / files::Fusion::fused);
  evaluate("mesh", meshStageFile(ws));
}

// Share of the cloud's points / the mesh's vertices inside the photos' masks (the
// model's own frame: no alignment).
void evaluateAgainstMaskFolder(const GeometryEvalArgs& a, const Workspace& ws,
                               const Reconstruction& model, json& result) {
  if (!fs::is_directory(a.masks)) throw Error("mask folder '" + a.masks + "' does not exist");
  for (const auto& [what, file] : {std::pair<std::string, fs::path>{"fused", ws.root() / files::Fusion::fused},
                                   {"mesh", meshStageFile(ws)}}) {
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


// The mesh's area the fused points do not support (no ground truth needed).
void evaluateSupport(const Workspace& ws, json& result) {
  const fs::path fused = ws.root() / files::Fusion::fused, mesh = meshStageFile(ws);
  if (!fs::exists(fused) || !fs::exists(mesh)) return;
  const TriangleMesh surface = readPly(mesh);
  if (surface.faces.empty()) return;
  const UnsupportedArea u = unsupportedArea(surface, readPly(fused).points);
  result["scene_size"] = u.scene_size;
  result["mesh"].update({{"file", mesh.string()},
                         {"points", surface.points.size()},
                         {"faces", surface.faces.size()},
                         {"unsupported_area", {{"fractions", u.fractions}, {"shares", u.shares}}}});
}

int evaluateGeometry(const GeometryEvalArgs& a, const Common& common) {
  Workspace ws = Workspace::open(a.project);
  if (!hasColmapModel(ws.sparseDir()))
    throw Error("the project has no sparse model; run parallax-cli reconstruct first");
  if (!fs::exists(ws.root() / files::Fusion::fused) && !fs::exists(meshStageFile(ws)))
    throw Error("the project has no dense cloud or mesh yet; run the dense stages "
                "(parallax-cli reconstruct)");
  const Reconstruction model = readColmapModel(ws.sparseDir());
  json result = json::object();
  if (!a.gtMesh.empty()) evaluateAgainstMesh(a, ws, model, result);
  if (!a.masks.empty()) evaluateAgainstMaskFolder(a, ws, model, result);
  evaluateSupport(ws, result);
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
    if (r.contains("unsupported_area")) {
      const json& u = r["unsupported_area"];
      std::cout << (r.contains("median_accuracy") || r.contains("inside_masks") ? "; " : ": ")
                << "unsupported area";
      for (size_t k = 0; k < u["shares"].size(); ++k)
        std::cout << (k ? ", " : " ") << 100 * u["shares"][k].get<double>() << "% beyond "
                  << 100 * u["fractions"][k].get<double>() << "%";
      std::cout << " of the scene's size (" << result["scene_size"].get<double>() << ") from any fused point";
    }
    std::cout << "\n";
  }
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
  featureParams["max_image_size"] = std::max(args.maxSize, params::Features::from(featureParams).max_image_size);

  json rows = json::array();
  if (!common.json)
    std::cout << std::left << std::setw(10) << "method" << std::setw(10) << "type" << std::setw(11)
              << "keypoints" << std::setw(8) << "repeat." << std::setw(8) << "MMA@1" << std::setw(8)
              << "MMA@3" << std::setw(8) << "MMA@5" << std::setw(9) << "NN-pairs" << std::setw(10) << "correct@3" << std::setw(10)
              << "pipeline" << std::setw(10) << "prec.@3" << "ms/image\n";
  const StageSchema& featuresStage = Schema::instance().requireStage("features");
  std::vector<std::string> methods = args.methods;
  if (methods.empty())
    for (const auto& m : featuresStage.methods) methods.push_back(m.name);
  for (const auto& method : methods) {
    json p = featureParams;
    p["method"] = Schema::instance().validate("features", "method", method);  // names what is offered
    const ResolvedMethod resolved = resolveMethod("features", p);
    if (!resolved.warning.empty()) throw Error(resolved.warning);
    const WarpEvalResult r = evaluateOnWarps(photos, method, p, matchOptionsFor(method, matchingParams), options);
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
  const std::string method = params::Field::from(params).method;
  const FieldTrainer& trainer = requireFieldTrainer(params);
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
    if (params::Field::from(params).poses.empty() && hasColmapModel(ws.referenceDir() / "sparse")) {
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


}  // namespace

void addEvaluateCommands(CommandTable& t) {
  struct Args {
    std::string project, gt, gtFormat, fieldGtMesh;
    int modelIndex = 0;
    int64_t hashPoints = 262144;
    GeometryEvalArgs geo;
    FeatureEvalArgs features;
  };
  auto a = std::make_shared<Args>();
  Common& common = t.common();
  const std::vector<std::string> poseFormats = {"middlebury", "strecha", "nerf", "dtu", "colmap"};

  auto* cEval = t.add("evaluate-poses",
                      "Score a project's camera poses against ground truth: registered, relative-pose AUC@1/3/5/10 "
                      "deg, median rotation and camera-centre errors",
                      [a, &common] { return evaluatePoses(a->project, a->gt, a->gtFormat, a->modelIndex, common); });
  cEval->add_option("project", a->project, "Project folder, or a COLMAP model folder")->required();
  cEval->add_option("--gt", a->gt, "Ground-truth file or folder")->required();
  cEval->add_option("--format", a->gtFormat, "middlebury, strecha, nerf, dtu or colmap")
      ->required()
      ->check(CLI::IsMember(poseFormats));
  cEval->add_option("--model", a->modelIndex, "Which model: sparse/N")->capture_default_str();
  t.addJson(cEval);

  GeometryEvalArgs& geo = a->geo;
  auto* cGeo = t.add(
      "evaluate-geometry",
      "Score a project's dense cloud and mesh against a ground-truth mesh: accuracy (distance of "
      "the reconstruction to the true surface) and completeness (share of the surface that two or "
      "more photos see lying within tau of the reconstruction), or against the photos' object "
      "masks (share of the points inside them)",
      [a, &common] { return evaluateGeometry(a->geo, common); });
  cGeo->add_option("project", geo.project, "Project folder")->required();
  cGeo->add_option("--gt-mesh", geo.gtMesh, "Ground-truth mesh (PLY, OBJ, ...)");
  cGeo->add_option("--missed", geo.missed,
                   "With --gt-mesh: write the true surface the mesh misses (samples farther than tau) "
                   "to this PLY, in the ground truth's frame");
  cGeo->add_option("--masks", geo.masks,
                   "Folder of the photos' object masks (white = object; NAME.png, NAME or "
                   "STEM.png): share of points inside them");
  cGeo->add_option("--gt", geo.gt,
                   "Ground-truth poses, to align the reconstruction (default: the project's "
                   "reference/sparse, which synthetic samples have)");
  cGeo->add_option("--format", geo.format, "Format of --gt: middlebury, strecha, nerf, dtu or colmap")
      ->check(CLI::IsMember(poseFormats))
      ->capture_default_str();
  cGeo->add_option("--tau", geo.tau, "Completeness distance, as a share of the mesh's bounding-box diagonal")
      ->check(CLI::Range(1e-5, 0.5))
      ->capture_default_str();
  cGeo->add_option("--samples", geo.samples, "Ground-truth surface samples")
      ->check(CLI::Range(1000, 10000000))
      ->capture_default_str();
  t.addJson(cGeo);

  FeatureEvalArgs& fe = a->features;
  auto* cFeat = t.add(
      "evaluate-features",
      "Compare feature types on photos warped by known random homographies (rotation, scale, "
      "perspective, brightness and contrast), as HPatches: repeatability, mean matching accuracy at 1/3/5 px, matches and "
      "extraction time",
      [a, &common] { return evaluateFeatures(a->features, common); });
  cFeat->add_option("photos", fe.photos, "Photo files or folders")->required();
  cFeat->add_option("--methods", fe.methods,
                    "Feature methods, comma-separated (`parallax-cli params features` lists them); "
                    "default: every one installed")
      ->delimiter(',');
  cFeat->add_option("--pairs", fe.pairs, "Warped pairs")->check(CLI::Range(1, 10000))->capture_default_str();
  cFeat->add_option("--seed", fe.seed, "Seed of the random warps")->capture_default_str();
  cFeat->add_option("--max-size", fe.maxSize, "Photos downscaled to this longest side first (px)")
      ->check(CLI::Range(64, 20000))
      ->capture_default_str();
  cFeat->add_option("--max-rotation", fe.maxRotation, "Largest in-plane rotation of a warp (degrees)")
      ->check(CLI::Range(0.0, 180.0))
      ->capture_default_str();
  cFeat->add_option("--max-scale", fe.maxScale, "Warps scale by up to this factor (and down to its inverse, at least 0.5)")
      ->check(CLI::Range(1.0, 4.0))
      ->capture_default_str();
  cFeat->add_option("--max-shift", fe.maxShift, "Perspective: corners moved by up to this share of the photo's size")
      ->check(CLI::Range(0.0, 0.4))
      ->capture_default_str();
  cFeat->add_option("--set", fe.assignments, "A features.* or matching.* parameter: stage.param=value (repeatable)");
  t.addJson(cFeat);

  auto* cField = t.add(
      "evaluate-field",
      "Render the held-out views (every field.holdout_every-th photo, never trained on) from the "
      "project's trained field: PSNR and SSIM per view and on average; renders in fields/<method>/renders",
      [a, &common] { return evaluateField(a->project, a->fieldGtMesh, common); });
  cField->add_option("project", a->project, "Project folder")->required();
  cField->add_option("--gt-mesh", a->fieldGtMesh,
                     "Ground-truth mesh (PLY, OBJ) in the frame of the field's poses: Chamfer distance of "
                     "the field's extracted surface (fields/<method>/mesh.ply) to it");
  t.addJson(cField);

  auto* cHash = t.add("benchmark-hashgrid",
                      "Throughput of the fused hash-grid kernel against the same encoding built from tensor "
                      "operations (points/s, forward + backward; needs a field plugin)",
                      [a, &common] { return benchmarkHashGrid(a->hashPoints, common); });
  cHash->add_option("--points", a->hashPoints, "Points per batch")
      ->check(CLI::Range(int64_t(1024), int64_t(1) << 24))
      ->capture_default_str();
  t.addJson(cHash);
}

}  // namespace parallax::cli
