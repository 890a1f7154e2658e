// Geometry export/import by file format: PLY (our own writer), OBJ and glTF/GLB
// (through Assimp). Point clouds become point primitives in glTF and OBJ.
#pragma once

#include <filesystem>
#include <string>

#include "scene/geometry_data.h"
#include "scene/labels.h"

namespace parallax {

enum class GeometryFormat { kPly, kObj, kGlb, kGltf };

GeometryFormat geometryFormatFromName(const std::string& name);  // "ply", "obj", "glb", "gltf"
std::string geometryFormatExtension(GeometryFormat format);

// Writes a mesh (or, with no faces, a point cloud) atomically: the files
// appear only once complete (OBJ also writes NAME.mtl beside it).
// With labels and their table: PLY keeps the per-vertex `label` and lists the classes
// in header comments; glTF/GLB and OBJ get one named mesh per class.
void exportGeometry(const std::filesystem::path& path, const TriangleMesh& geometry,
                    GeometryFormat format, const LabelTable* labels = nullptr);

// Reads PLY with our reader and anything else through Assimp (indexed: identical
// vertices are joined, so counts match what was written).
TriangleMesh readGeometry(const std::filesystem::path& path);

}  // namespace parallax
