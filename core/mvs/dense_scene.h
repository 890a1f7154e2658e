// The dense workspace (DESIGN §3, COLMAP's layout under dense/): undistorted
// pinhole images in dense/images, their model in dense/sparse, depth, normal and
// confidence maps in dense/stereo. This header holds what every multi-view-stereo
// method shares: the views with their cameras, source-view selection, depth
// ranges from the sparse points, and the map files.
#pragma once

#include <Eigen/Core>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "scene/reconstruction.h"

namespace parallax {

// One undistorted photo as multi-view stereo sees it. Pixel coordinates here are
// array indices: pixel (col, row) has its centre at (col, row), so K's principal
// point is COLMAP's minus 0.5.
struct MvsView {
  uint32_t image_id = 0;
  std::string name;
  int width = 0;
  int height = 0;
  std::vector<float> rgb;  // row-major, 3 floats per pixel in [0, 1]; empty until loaded
  Eigen::Matrix3d K = Eigen::Matrix3d::Identity();
  Eigen::Matrix3d R = Eigen::Matrix3d::Identity();  // camera from world
  Eigen::Vector3d t = Eigen::Vector3d::Zero();
  double depth_min = 0;  // from the sparse points inside its frame; 0 when none
  double depth_max = 0;
  std::vector<int> sources;  // indices of the best source views, best first

  Eigen::Vector3d center() const { return -R.transpose() * t; }
  // Grey values (mean of the channels) in [0, 1].
  std::vector<float> gray() const;
};

struct ViewSelectionOptions {
  int max_sources = 8;
  double min_triangulation_angle_deg = 1.0;  // shared points below this add nothing
  double best_angle_deg = 5.0;               // MVSNet's score peaks here
};

// Reads dense/sparse (PINHOLE cameras only, as the undistort stage writes it),
// computes depth ranges and source views. Images are not loaded.
std::vector<MvsView> loadMvsViews(const std::filesystem::path& denseDir,
                                  const ViewSelectionOptions& options = {});
// Source views and depth ranges from the shared sparse points (MVSNet's score:
// a Gaussian of the triangulation angle summed over shared points).
void selectSourceViews(const Reconstruction& model, std::vector<MvsView>& views,
                       const ViewSelectionOptions& options);
// Loads the undistorted photo (dense/images/NAME) into view.rgb; throws Error
// naming the file if it is missing or unreadable, or its size differs from the model's.
void loadMvsImage(const std::filesystem::path& denseDir, MvsView& view);

// A depth estimate for one view: z-depth (0 = no estimate), optional unit normals
// in camera coordinates (3 per pixel) and a confidence in [0, 1].
struct DepthMap {
  int width = 0;
  int height = 0;
  std::vector<float> depth;
  std::vector<float> normals;
  std::vector<float> confidence;

  size_t validCount() const;
};

// COLMAP's map format: "W&H&C&" then float32 planes (channel-major, row-major).
void writeColmapMap(const std::filesystem::path& path, int width, int height, int channels,
                    const std::vector<float>& interleaved);
std::vector<float> readColmapMap(const std::filesystem::path& path, int* width, int* height,
                                 int* channels);  // returns interleaved channels

// dense/stereo/{depth_maps,normal_maps,confidence_maps}/NAME.<kind>.bin, kind
// "photometric" or "geometric" (COLMAP's names).
struct DepthMapFiles {
  std::filesystem::path depth, normal, confidence;
};
DepthMapFiles depthMapFiles(const std::filesystem::path& denseDir, const std::string& name,
                            const std::string& kind);
void writeDepthMap(const std::filesystem::path& denseDir, const std::string& name,
                   const std::string& kind, const DepthMap& map);
// Reads the maps (normals and confidence when present); throws Error naming a missing file.
DepthMap readDepthMap(const std::filesystem::path& denseDir, const std::string& name,
                      const std::string& kind);

// Clears the depth of pixels whose (2r+1)^2 neighbourhood in the photo is flat
// (grey standard deviation below `min_std`, values in [0, 1]): no method can
// know their depth (sky, blank walls), and learned ones still return one.
size_t clearTexturelessDepth(const MvsView& view, DepthMap& map, int radius = 3,
                             float min_std = 0.004f);

// A photo's mask in a user's mask folder: NAME.png (COLMAP's mask_path), NAME, or
// STEM.png, in that order, then for numbered photos the same number with other
// zero padding (DTU, NeuS: photo 000012.png, mask 012.png); none when there is none.
std::optional<std::filesystem::path> findMaskFile(const std::filesystem::path& dir,
                                                  const std::string& name);
// Masks (white = keep) of the undistorted photos: dense/masks/NAME.png, written
// by the undistort stage when the user gives a mask folder.
std::filesystem::path maskFile(const std::filesystem::path& denseDir, const std::string& name);
// That mask as one byte per pixel (1 = object), at its own size; empty when the photo
// has none. Throws naming the file when it cannot be read.
std::vector<uint8_t> readMask(const std::filesystem::path& denseDir, const std::string& name);
// Clears depth, normals and confidence outside the photo's mask (scaled to the
// map's size); returns the pixels cleared, 0 when the photo has no mask.
size_t applyMask(const std::filesystem::path& denseDir, const std::string& name, DepthMap& map);

// Normals (camera frame, facing the camera) from the depth map's local plane.
void computeNormalsFromDepth(const MvsView& view, DepthMap& map);

// COLMAP's dense/stereo/patch-match.cfg (each reference followed by its sources) and
// stereo/fusion.cfg (the photos to fuse), so that COLMAP's tools read the workspace.
void writePatchMatchConfig(const std::filesystem::path& denseDir,
                           const std::vector<MvsView>& views);

}  // namespace parallax
