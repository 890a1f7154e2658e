// The texture stage: the mesh decimated, textured from the undistorted photos into an
// atlas (texture/texturing.h), kept in dense/textured/ as OBJ + MTL + PNG pages.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "io/colmap_model.h"
#include "io/ply.h"
#include "mvs/dense_scene.h"
#include "params/stages.h"
#include "pipeline/stage.h"
#include "scene/edits.h"
#include "util/hash.h"
#include "stages/builtin_stages.h"
#include "surface/poisson.h"
#include "texture/textured_mesh_io.h"
#include "texture/texturing.h"
#include "util/atomic_file.h"
#include "util/cancel.h"
#include "util/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax {
namespace {

// What the cleaning edits remove from the mesh, as part of the stage's key: deleting
// faces makes the textured mesh stale. Empty without such edits.
std::string meshEditsFingerprint(const Workspace& ws) {
  const std::vector<uint64_t> faces = EditHistory::load(ws.root()).removed(EditTarget::kMeshFaces);
  if (faces.empty()) return {};
  Hasher h;
  h.add(uint64_t(faces.size())).add(faces.data(), faces.size() * sizeof(uint64_t));
  return "mesh edits " + h.hex();
}

StageOutcome runTexture(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  const params::Texture p = params::Texture::from(ctx.params);
  StageOutcome out;
  if (!p.enabled) {
    out.skipped = true;
    out.summary = "no textured mesh (texture.enabled is off)";
    return out;
  }
  fs::path meshFile;
  for (const char* f : {files::Mesh::delaunay, files::Mesh::mesh})
    if (fs::exists(ws.root() / f)) meshFile = ws.root() / f;
  if (meshFile.empty()) throw Error("no mesh (dense/meshed-delaunay.ply or dense/meshed-poisson.ply); run the mesh stage first");
  const fs::path sparse = ws.denseDir() / "sparse";
  if (!hasColmapModel(sparse)) throw Error("no undistorted cameras (dense/sparse); run the undistort stage first");
  ctx.report.progress(0, 5, "reading the mesh");
  TriangleMesh mesh = readPly(meshFile);
  if (mesh.faces.empty()) throw Error("the mesh " + meshFile.filename().string() + " has no faces; run the mesh stage again");
  // The mesh as cleaned in the viewer: faces deleted there are not textured.
  const size_t meshFaces = mesh.faces.size();
  mesh = applyEdits(EditHistory::load(ws.root()), mesh);
  if (mesh.faces.empty())
    throw Error("the cleaning edits removed every face of the mesh; undo some (Edit > Undo or parallax-cli clean --undo)");
  if (mesh.faces.size() < meshFaces)
    ctx.report.info(std::to_string(meshFaces - mesh.faces.size()) + " faces removed by the cleaning edits are left out");
  const size_t inputFaces = mesh.faces.size();
  const size_t target = p.target_faces > 0 ? size_t(p.target_faces)
                                           : std::clamp<size_t>(inputFaces / 10, 20000, 300000);
  if (mesh.faces.size() > target) {
    ctx.report.progress(1, 5, "decimating " + std::to_string(inputFaces) + " faces to " + std::to_string(target));
    mesh = decimateMesh(mesh, target);
  }
  throwIfCancelled();
  const Reconstruction cameras = readColmapModel(sparse);
  const fs::path images = ws.denseDir() / "images";
  TextureOptions o;
  o.page_size = p.page_size;
  o.smoothness = p.smoothness;
  o.outlier_distance = p.outlier_distance;
  o.level_seams = p.level_seams;
  o.seam_feather = p.seam_feather;
  o.threads = p.num_threads;
  TextureReport rep;
  const TexturedMesh textured = textureMesh(
      mesh, cameras,
      [&](const std::string& name) {
        const fs::path f = images / name;
        if (!fs::exists(f)) throw Error("undistorted photo '" + f.string() + "' is missing; rerun the undistort stage");
        try {
          return readRgbImage(f);
        } catch (const Error& e) {
          throw Error(std::string(e.what()) + "; rerun the undistort stage");
        }
      },
      o, &rep,
      [&](const std::string& what, size_t done, size_t total) {
        ctx.report.progress(done, std::max<size_t>(total, 1), what);
      },
      // The undistort stage's masks (undistort.mask_path): a photo without one has none.
      [&](const std::string& name) { return readMask(ws.denseDir(), name); });
  throwIfCancelled();
  ctx.report.progress(4, 5, "writing the textured mesh");
  const fs::path dir = ws.root() / files::Texture::textured;
  writeDirAtomic(dir, [&](const fs::path& tmp) { writeTexturedObj(tmp / "mesh.obj", textured); });
  ctx.report.preview("textured", (dir / "mesh.obj").string());
  const double untextured = double(rep.untextured_faces) / double(std::max<size_t>(rep.faces, 1));
  if (rep.untextured_faces > 0) {
    std::ostringstream w;
    w << std::setprecision(2) << 100 * untextured << "% of the faces (" << rep.untextured_faces
      << ") are seen by no photo well enough to texture them; they are neutral grey";
    ctx.report.warning(w.str());
  }
  std::ostringstream s;
  s << rep.faces << " faces";
  if (rep.faces < inputFaces) s << " (from " << inputFaces << ")";
  s << ", " << rep.charts << " charts from " << rep.views_used << " photos on " << textured.pages.size()
    << (textured.pages.size() == 1 ? " page" : " pages") << " of up to " << textured.pages.front().width << " px";
  if (rep.untextured_faces > 0) s << ", " << std::setprecision(2) << 100 * untextured << "% untextured";
  out.summary = s.str();
  json pages = json::array();
  for (const RgbImage& page : textured.pages) pages.push_back({page.width, page.height});
  out.outputs = {{"faces", rep.faces},
                 {"input_faces", inputFaces},
                 {"charts", rep.charts},
                 {"photos_used", rep.views_used},
                 {"pages", pages},
                 {"untextured_faces", rep.untextured_faces},
                 {"rejected_views", rep.rejected_views},
                 {"seam_edge_share", rep.seam_edge_share},
                 {"atlas_fill", rep.atlas_fill},
                 {"mesh", meshFile.lexically_relative(ws.root()).string()}};
  return out;
}

}  // namespace

void registerTextureStage() { StageRegistry::instance().add({"texture", runTexture, meshEditsFingerprint}); }

}  // namespace parallax
