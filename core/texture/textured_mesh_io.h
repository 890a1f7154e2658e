// Textured meshes on disk: OBJ + MTL + PNG pages (the project's own copy, and an
// export), binary glTF (GLB, pages embedded as PNG baseColorTextures, one primitive per
// page) and PLY with per-vertex texture coordinates (MeshLab's `TextureFile` comments).
#pragma once

#include <filesystem>

#include "texture/texturing.h"

namespace parallax {

// Writes PATH.obj, PATH-minus-extension.mtl and PATH-minus-extension_N.png, each
// atomically. Texture coordinates are flipped to OBJ's bottom-left origin.
void writeTexturedObj(const std::filesystem::path& path, const TexturedMesh& mesh);
// Reads what writeTexturedObj wrote (and plain OBJ files with v, vt, f v/vt, usemtl and
// map_Kd); throws naming the file and line on damage.
TexturedMesh readTexturedObj(const std::filesystem::path& path);

void writeTexturedGlb(const std::filesystem::path& path, const TexturedMesh& mesh);
// PLY: one file per page set: the mesh with s, t per vertex and a page index per face
// (`texnumber`), pages written beside it as PNG.
void writeTexturedPly(const std::filesystem::path& path, const TexturedMesh& mesh);

RgbImage readRgbImage(const std::filesystem::path& path);
void writeRgbPng(const std::filesystem::path& path, const RgbImage& page);

}  // namespace parallax
