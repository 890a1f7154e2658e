// Exports the texture stage's result (dense/textured/mesh.obj) as GLB, OBJ (+ MTL and
// pages) or PLY (+ pages); shared by `parallax-cli export --what textured` and the GUI.
#pragma once

#include <filesystem>
#include <string>

#include "scene/workspace.h"
#include "texture/texturing.h"

namespace parallax {

// The project's textured mesh file (dense/textured/mesh.obj; may not exist).
std::filesystem::path texturedMeshFile(const Workspace& ws);
// Reads it, or throws saying to run the texture stage.
TexturedMesh readProjectTexturedMesh(const Workspace& ws);

// format: "glb", "obj" or "ply"; `out` a file or a folder (then textured.<ext>).
// Returns the path written; `summary` gets faces and pages.
std::filesystem::path exportTexturedMesh(const Workspace& ws, const std::string& format,
                                         const std::filesystem::path& out, std::string* summary = nullptr);

}  // namespace parallax
