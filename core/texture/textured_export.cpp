#include "texture/textured_export.h"

#include "params/stages.h"
#include "texture/textured_mesh_io.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax {

fs::path texturedMeshFile(const Workspace& ws) { return ws.root() / files::Texture::textured / "mesh.obj"; }

TexturedMesh readProjectTexturedMesh(const Workspace& ws) {
  const fs::path file = texturedMeshFile(ws);
  if (!fs::exists(file))
    throw Error("the project has no textured mesh yet (dense/textured/mesh.obj); run the texture stage "
                "(parallax-cli run-stage PROJECT texture, or Reconstruct)");
  return readTexturedObj(file);
}

fs::path exportTexturedMesh(const Workspace& ws, const std::string& format, const fs::path& out,
                            std::string* summary) {
  if (format != "glb" && format != "obj" && format != "ply")
    throw Error("a textured mesh exports as glb, obj or ply, not '" + format + "'");
  const TexturedMesh t = readProjectTexturedMesh(ws);
  fs::path file = out;
  if (fs::is_directory(out)) file = out / ("textured." + format);
  if (!file.parent_path().empty() && !fs::exists(file.parent_path()))
    throw Error("the folder " + file.parent_path().string() + " does not exist");
  if (format == "glb") writeTexturedGlb(file, t);
  else if (format == "obj") writeTexturedObj(file, t);
  else writeTexturedPly(file, t);
  if (summary) {
    *summary = std::to_string(t.mesh.faces.size()) + " faces, " + std::to_string(t.pages.size()) +
               (t.pages.size() == 1 ? " texture page" : " texture pages");
  }
  return file;
}

}  // namespace parallax
