// Synthetic scenes with exact ground truth (DESIGN §7): a deterministic,
// display-free generator of textured procedural scenes seen from known cameras.
// Output folder:
//   images/view_NNN.png                 the photos
//   ground_truth/sparse/*.txt           cameras, poses and visible surface points (COLMAP text)
//   ground_truth/depth_maps/NAME.bin    z-depth per pixel (COLMAP depth-map format; 0 = sky)
//   ground_truth/mesh.ply               the surface with vertex colours (and, for the room,
//                                       a per-vertex S3DIS class label)
//   ground_truth/thin.ply               the poles sample: its thin structures alone
//   ground_truth/classes.json           the room's class table (labels/classes.json's format)
//   sample.json                         what was generated, with which options
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "scene/geometry_data.h"
#include "util/events.h"

namespace parallax {

constexpr const char* kSampleManifest = "sample.json";

struct SampleOptions {
  std::string name = "statue";
  int views = 16;
  int width = 640;
  int height = 480;
  int supersample = 2;  // anti-aliasing: render at this factor, then area-downsample
  uint32_t seed = 7;
  int points = 20000;  // surface samples tested for visibility to form GT tracks

  void check() const;  // throws Error naming the bad option
};

std::vector<std::string> sampleNames();
std::string sampleDescription(const std::string& name);

// The scene's surface with vertex colours (what the photos show).
TriangleMesh buildSampleMesh(const SampleOptions& options,
                             std::vector<int>* faceMaterial = nullptr);

// The scene's thin structures alone (the poles sample's poles and rails; empty for the
// others), to score how much of them a mesh keeps.
TriangleMesh sampleThinStructures(const SampleOptions& options);

// `count` points spread uniformly over the scene's surface, with the colour the photos
// show and their normals; for the room, the S3DIS class of what each lies on (labels).
PointCloud sampleScenePoints(const SampleOptions& options, size_t count, uint32_t seed);

// Writes the sample into `outDir` (which must be empty, absent, or a previous sample).
void generateSample(const SampleOptions& options, const std::filesystem::path& outDir,
                    Reporter& report);

// Reads/writes COLMAP's dense depth-map format ("W&H&C&" + float32 row-major).
void writeColmapDepthMap(const std::filesystem::path& path, int width, int height,
                         const std::vector<float>& depth);
std::vector<float> readColmapDepthMap(const std::filesystem::path& path, int* width, int* height);

}  // namespace parallax
