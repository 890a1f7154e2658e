// COLMAP sparse model files: cameras, images, points3D in text (.txt) or binary
// (.bin), byte-compatible with COLMAP 3.8 so COLMAP, nerfstudio and OpenMVS read them.
#pragma once

#include <filesystem>

#include "scene/reconstruction.h"

namespace parallax {

enum class ModelFormat { kBinary, kText };

// Reads a model folder; prefers .bin when both exist. Throws Error naming the file.
Reconstruction readColmapModel(const std::filesystem::path& dir);
// Writes the three files into `dir` (created if needed); each file is written atomically.
void writeColmapModel(const std::filesystem::path& dir, const Reconstruction& model,
                      ModelFormat format = ModelFormat::kBinary);
bool hasColmapModel(const std::filesystem::path& dir);

}  // namespace parallax
