// PLY reading and writing (ASCII and binary, either endianness on read), with
// colours, normals and a per-vertex `label` property. Written here rather than
// through Assimp, whose binary PLY exporter corrupts colours.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "scene/geometry_data.h"

namespace parallax {

enum class PlyFormat { kBinary, kAscii };

// Reads vertices (and faces, if any; polygons are fanned into triangles).
// Throws Error naming the file and the problem for malformed or truncated input.
TriangleMesh readPly(const std::filesystem::path& path);

// Writes atomically. Faces are written when `mesh.faces` is non-empty.
// `comments` become header comment lines (e.g. the label classes: "label 3 object").
void writePly(const std::filesystem::path& path, const TriangleMesh& mesh,
              PlyFormat format = PlyFormat::kBinary, const std::vector<std::string>& comments = {});
void writePly(const std::filesystem::path& path, const PointCloud& cloud,
              PlyFormat format = PlyFormat::kBinary, const std::vector<std::string>& comments = {});

}  // namespace parallax
