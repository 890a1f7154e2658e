#include "io/project_export.h"
#include "params/stages.h"

#include "io/colmap_model.h"
#include "io/mesh_io.h"
#include "io/ply.h"
#include "scene/edits.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax {
namespace {

const char* kNoSparse = "the project has no sparse model yet (sparse/0); run Reconstruct first";

}  // namespace

std::vector<std::string> exportableData(const Workspace& ws) {
  std::vector<std::string> out;
  if (hasColmapModel(ws.sparseDir())) out.push_back("sparse");
  if (fs::exists(ws.root() / files::Fusion::fused)) out.push_back("dense");
  if (fs::exists(projectMeshFile(ws.root()))) out.push_back("mesh");
  return out;
}

fs::path exportProject(const Workspace& ws, const std::string& what, const std::string& format,
                       const fs::path& outIn, std::string* summary, bool withEdits) {
  if (what != "sparse" && what != "dense" && what != "mesh")
    throw Error("unknown export content '" + what + "' (choose sparse, dense or mesh)");
  std::vector<std::string> notes;
  const EditHistory edits = withEdits ? EditHistory::load(ws.root(), &notes) : EditHistory();
  fs::path out = outIn;
  const bool toFolder = fs::is_directory(out) || (!out.empty() && out.string().back() == '/');
  if (format == "colmap") {
    if (what != "sparse")
      throw Error("the COLMAP format holds the sparse model; export --what sparse");
    if (!hasColmapModel(ws.sparseDir())) throw Error(kNoSparse);
    Reconstruction model = readColmapModel(ws.sparseDir());
    applyEdits(edits, model);
    writeColmapModel(out, model, ModelFormat::kBinary);
    writeColmapModel(out, model, ModelFormat::kText);
    if (summary)
      *summary = std::to_string(model.images.size()) + " images, " +
                 std::to_string(model.points3D.size()) + " points";
    return out;
  }
  GeometryFormat gf = geometryFormatFromName(format);
  TriangleMesh geometry;
  fs::path meshSource;  // what == "mesh": the file exported
  LabelTable labels;    // the segment stage's classes, when its labels belong to what is exported
  if (what == "sparse") {
    if (!hasColmapModel(ws.sparseDir())) throw Error(kNoSparse);
    Reconstruction model = readColmapModel(ws.sparseDir());
    applyEdits(edits, model);
    for (const auto& [id, p] : model.points3D) {
      geometry.points.push_back(p.xyz.cast<float>());
      geometry.colors.push_back(p.color);
    }
    if (geometry.points.empty() && edits.empty())
      throw Error("the sparse model has no 3D points to export");
  } else if (what == "dense") {
    fs::path fused = ws.root() / files::Fusion::fused;
    if (!fs::exists(fused))
      throw Error(
          "the project has no dense point cloud yet (dense/fused.ply); run the dense stages first");
    PointCloud cloud = readPly(fused);
    cloud.labels = projectDenseLabels(ws.root(), cloud.size(), &labels);
    static_cast<PointCloud&>(geometry) = applyEdits(edits, cloud);
  } else {
    meshSource = projectMeshFile(ws.root());
    if (!fs::exists(meshSource))
      throw Error(
          "the project has no mesh yet (dense/meshed-delaunay.ply or meshed-poisson.ply, fields/<method>/mesh.ply); run "
          "the mesh "
          "stage or train a neural field first");
    TriangleMesh mesh = readPly(meshSource);
    mesh.labels = projectMeshLabels(ws.root(), meshSource, mesh.size(), &labels);
    geometry = applyEdits(edits, mesh);
  }
  if (geometry.points.empty())
    throw Error("nothing is left to export: the cleaning edits removed every element of the " +
                what + " (undo some, or export with the edits left out)");
  if (toFolder)
    out /= what + geometryFormatExtension(gf);
  else if (out.extension().empty())
    out += geometryFormatExtension(gf);
  const bool labelled = geometry.hasLabels() && !labels.classes.empty();
  exportGeometry(out, geometry, gf, labelled ? &labels : nullptr);
  if (summary) {
    *summary = std::to_string(geometry.points.size()) + " vertices, " +
               std::to_string(geometry.faces.size()) + " faces";
    if (what == "mesh") *summary += " from " + fs::relative(meshSource, ws.root()).string();
    if (!edits.empty()) *summary += ", " + std::to_string(edits.applied()) + " edits applied";
    if (labelled) *summary += ", labels by " + labels.method;
    for (const auto& n : notes) *summary += "; " + n;
  }
  return out;
}

}  // namespace parallax
