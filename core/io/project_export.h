// Exports what a project holds — sparse points, dense cloud, or mesh — in a
// chosen format; shared by `parallax-cli export` and the GUI's Export dialog.
#pragma once

#include <filesystem>
#include <string>

#include "scene/workspace.h"

namespace parallax {

// what: "sparse", "dense" or "mesh"; format: "ply", "obj", "glb", "gltf" or "colmap"
// (colmap: the sparse model as .bin and .txt into the folder `out`).
// `out` may be a folder (the file is then named after `what`). Returns the path written.
// The project's cleaning edits (edits.json) are applied, so an export holds what the
// viewport shows; `withEdits` false writes the stages' results as computed.
std::filesystem::path exportProject(const Workspace& ws, const std::string& what,
                                    const std::string& format, const std::filesystem::path& out,
                                    std::string* summary = nullptr, bool withEdits = true);

// Which of "sparse", "dense", "mesh" the project has data for.
std::vector<std::string> exportableData(const Workspace& ws);

}  // namespace parallax
