// Stage "ground_truth": for photos made by the synthetic-scene generator, loads
// the exact cameras, 3D points and surface mesh into the project's reference/
// folder (reference/sparse, reference/mesh.ply): what `evaluate-poses` and the
// tests compare the reconstruction with.
#include <algorithm>
#include <optional>

#include "io/colmap_model.h"
#include "io/database.h"
#include "io/ply.h"
#include "params/stages.h"
#include "pipeline/stage.h"
#include "stages/builtin_stages.h"
#include "synthetic/sample_scene.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/hash.h"

namespace fs = std::filesystem;

namespace parallax {
namespace {

std::optional<fs::path> findSample(const Workspace& ws) {
  for (const auto& root : ws.photoRoots()) {
    fs::path dir = fs::is_directory(root) ? root : root.parent_path();
    for (const fs::path& candidate : {dir, dir.parent_path()})
      if (fs::exists(candidate / kSampleManifest)) return candidate;
  }
  return std::nullopt;
}

StageOutcome runGroundTruth(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  StageOutcome outcome;
  auto sample = findSample(ws);
  if (!sample) {
    outcome.skipped = true;
    outcome.summary = "the photos are not a synthetic sample; no ground truth to load";
    return outcome;
  }
  ctx.report.progress(0, 3, "reading ground truth");
  Reconstruction gt = readColmapModel(*sample / "ground_truth" / "sparse");

  // Image ids must be the database's, so the model and database.db agree (COLMAP requires it).
  Database db(ws.databasePath());
  std::map<std::string, uint32_t> idByName;
  for (const auto& im : db.readImages()) idByName[im.name] = im.image_id;
  std::map<std::string, uint32_t> dbCameraByName;
  Reconstruction model;
  model.cameras = gt.cameras;
  std::map<uint32_t, uint32_t> newId;
  for (const auto& [oldId, image] : gt.images) {
    // Names in the project are relative to the common photo folder; match on the file name suffix.
    for (const auto& [name, id] : idByName) {
      if (name == image.name ||
          (name.size() > image.name.size() &&
           name.compare(name.size() - image.name.size(), image.name.size(), image.name) == 0 &&
           name[name.size() - image.name.size() - 1] == '/')) {
        Image copy = image;
        copy.image_id = id;
        copy.name = name;
        model.images[id] = copy;
        newId[oldId] = id;
        break;
      }
    }
  }
  if (model.images.empty())
    throw Error("none of the imported photos appear in the sample's ground truth (" +
                (*sample).string() + ")");

  const auto maxPoints = size_t(params::GroundTruth::from(ctx.params).max_points);
  const size_t stride = gt.points3D.empty()
                            ? 1
                            : std::max<size_t>(1, (gt.points3D.size() + maxPoints - 1) /
                                                      std::max<size_t>(maxPoints, 1));
  size_t index = 0;
  for (const auto& [pid, point] : gt.points3D) {
    if (maxPoints == 0 || index++ % stride != 0) continue;
    Point3D p = point;
    p.track.clear();
    for (const auto& el : point.track)
      if (newId.count(el.image_id)) p.track.push_back({newId[el.image_id], el.point2D_idx});
    if (p.track.size() >= 2) model.points3D[pid] = p;
  }
  // Observations of dropped points must not reference them.
  for (auto& [id, image] : model.images)
    for (auto& p2 : image.points2D)
      if (p2.point3D_id != kInvalidPoint3DId && !model.points3D.count(p2.point3D_id))
        p2.point3D_id = kInvalidPoint3DId;
  model.checkConsistency();

  ctx.report.progress(1, 3, "writing reference/sparse");
  fs::create_directories(ws.referenceDir());
  writeDirAtomic(ws.referenceDir() / "sparse",
                 [&](const fs::path& tmp) { writeColmapModel(tmp, model, ModelFormat::kBinary); });

  size_t faces = 0;
  if (params::GroundTruth::from(ctx.params).load_mesh) {
    ctx.report.progress(2, 3, "loading the ground-truth mesh");
    TriangleMesh mesh = readPly(*sample / "ground_truth" / "mesh.ply");
    faces = mesh.faces.size();
    fs::create_directories(ws.referenceDir());
    writePly(ws.referenceDir() / "mesh.ply", mesh);
    ctx.report.preview("mesh", (ws.referenceDir() / "mesh.ply").string());
  } else {
    std::error_code ignored;
    fs::remove(ws.referenceDir() / "mesh.ply", ignored);
  }
  ctx.report.progress(3, 3, "done");
  outcome.summary = std::to_string(model.images.size()) + " cameras, " +
                    std::to_string(model.points3D.size()) + " points" +
                    (faces ? ", mesh of " + std::to_string(faces) + " faces" : "");
  outcome.outputs = {{"sample", sample->string()},
                     {"num_images", model.images.size()},
                     {"num_points", model.points3D.size()},
                     {"mesh_faces", faces}};
  return outcome;
}

std::string groundTruthInputs(const Workspace& ws) {
  auto sample = findSample(ws);
  if (!sample) return "none";
  Hasher h;
  h.add(sample->string());
  std::error_code ec;
  for (const char* f : {"sample.json", "ground_truth/mesh.ply", "ground_truth/sparse/images.txt",
                        "ground_truth/sparse/points3D.txt", "ground_truth/sparse/cameras.txt"}) {
    fs::path p = *sample / f;
    h.add(f)
        .add(uint64_t(fs::file_size(p, ec)))
        .add(uint64_t(fs::last_write_time(p, ec).time_since_epoch().count()));
  }
  return h.hex();
}

}  // namespace

void registerGroundTruthStage() {
  StageRegistry::instance().add({"ground_truth", runGroundTruth, groundTruthInputs});
}

}  // namespace parallax
