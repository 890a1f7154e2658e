// What a neural field (NeRF, NeuS) is trained on: photos with their cameras at a
// chosen training resolution, optional masks, and the box the scene lives in.
// Poses come from the project's sparse/0 or are imported (NeRF transforms.json).
#pragma once

#include <Eigen/Core>
#include <filesystem>
#include <string>
#include <vector>

#include "scene/reconstruction.h"
#include "surface/iso_surface.h"

namespace parallax {

class Workspace;

struct FieldView {
  std::string name;
  int width = 0, height = 0;  // training resolution
  // Pinhole intrinsics at that resolution; pixel (u, v) covers [u, u+1) x [v, v+1).
  double fx = 0, fy = 0, cx = 0, cy = 0;
  // Camera to world, OpenCV axes (x right, y down, z forward).
  Eigen::Matrix3d rotation = Eigen::Matrix3d::Identity();
  Eigen::Vector3d center = Eigen::Vector3d::Zero();
  std::vector<float> rgba;  // width * height * 4, in [0, 1]; alpha 1 without a mask
  bool hasAlpha = false;    // RGBA photo or a mask: alpha separates object and background
};

struct FieldDataset {
  std::vector<FieldView> views;
  // World-space box that holds the scene; the field is defined inside it.
  Eigen::Vector3d boxMin = Eigen::Vector3d::Constant(-1), boxMax = Eigen::Vector3d::Constant(1);
  // Triangulated scene points (world units) from the COLMAP model the poses came from:
  // surface samples that NeuS may pin its zero level to (Geo-NeuS). Empty for imported
  // transforms.json / DTU cameras.
  std::vector<Eigen::Vector3d> points;
  std::vector<std::vector<uint32_t>> pointViews;  // per point: the views (indices) that see it
  std::string source;  // where the poses came from, for messages
  std::vector<std::string> notes;  // what the user should know (e.g. distortion ignored)
};

struct FieldLoadOptions {
  int maxImageSize = 0;  // longest side at most this (area downscaling); 0 keeps the photos
};

// NeRF's transforms.json (camera-to-world with OpenGL axes, camera_angle_x, file_path
// relative to the json, ".png" added when missing). Throws Error naming the file or photo.
FieldDataset loadTransformsJson(const std::filesystem::path& json, const FieldLoadOptions& options);

// DTU/IDR cameras (cameras_sphere.npz: world_mat_i = K[R|t] per photo, scale_mat_i mapping
// the unit sphere onto the object): photos are images/*.png in name order, masks (optional)
// mask/*.png in name order, put into the photos' alpha. World units (DTU's millimetres) are
// kept; the box is the cube around scale_mat's sphere. Throws Error naming what is wrong.
FieldDataset loadDtuCameras(const std::filesystem::path& npz, const FieldLoadOptions& options);

// The project's registered photos and cameras: the undistorted ones of the undistort
// stage (dense/sparse, dense/images) when it has run, else sparse/0 with the photos as
// imported (the pinhole part of the camera; distortion ignored, with a note). The box
// holds the middle 96% of the sparse points on each axis, padded by a tenth.
FieldDataset loadProjectField(const Workspace& ws, const FieldLoadOptions& options);
// A COLMAP model's registered photos (read from imageDir by name) and cameras.
FieldDataset loadColmapField(const std::filesystem::path& modelDir, const std::filesystem::path& imageDir,
                             const FieldLoadOptions& options, bool undistorted);
// Adds the triangulated points of a COLMAP model (the project's own sparse/0) to a dataset
// whose cameras were imported (DTU, transforms.json), so that NeuS can be pinned by them:
// the model is mapped onto the dataset's cameras by the similarity between the centres of
// photos with the same name, and accepted only when those centres agree to 1% of the
// cameras' spread. With masks, points that most of their photos see on the background are
// left out. Returns what was done, or why nothing was, for the user.
std::string addModelPoints(FieldDataset& data, const Reconstruction& model);
// Where the project's photos were imported from.
std::filesystem::path importedPhotoRoot(const Workspace& ws);

// The box where every camera (all but a tenth of them) sees: the scene an object-centred
// capture frames; used when there are no sparse points.
void boxFromViewFrusta(FieldDataset& data);

// The views `which` (all when empty) as pinhole cameras at their training resolution,
// image ids from 1, with the world mapped by p -> (p - origin) / scale (the field's unit
// cube: origin the box's corner, scale its side).
Reconstruction fieldCameras(const FieldDataset& data, const std::vector<size_t>& which = {},
                            const Eigen::Vector3d& origin = Eigen::Vector3d::Zero(), double scale = 1);

// Object masks as a surface's last word (as NeuS's own DTU meshes are cleaned): every grid
// value (unit-cube grid; world = origin + scale * p) that one of `views` shows on its mask's
// background - projected inside the frame onto a pixel whose 3x3 neighbourhood is all
// background - or that no masked view has in its frame (nothing constrained it there;
// the object is in every photo) is moved to the outside of `level` by `margin` (above it
// for a density, `insideAbove`; below it for a distance). Views without alpha say
// nothing. With `objectRadius` > 0 the object is taken to lie within that distance of the
// cube's centre (unit-cube lengths): what is farther is outside too, so that a surface the
// photos' frames crop closes there. Returns how many values were moved.
size_t carveByMasks(ScalarGrid& grid, float level, bool insideAbove, float margin,
                    const FieldDataset& data, const std::vector<size_t>& views,
                    const Eigen::Vector3d& origin, double scale, double objectRadius = 0);

// The visual hull of `views`' masks as a lower bound on a field's distance to the object:
// a res^3 grid over the unit cube (world = origin + scale * p) holding, for every point that
// carveByMasks would move outside (a mask's background, or in no masked view's frame) or,
// when `sphere`, that lies outside nine tenths of the sphere inscribed in the cube (the
// object is taken to be inside it: a surface cropped by the photos' frames closes before
// the sphere's boundary instead of being cut open there), its distance to the
// nearest point left inside, less a cell's diagonal and a half (the grid's and a lookup's
// error), clamped at 0; 0 inside the hull. The object lies inside its hull, so its signed
// distance is at least this everywhere. Empty values when no view has a mask or nothing is
// left inside.
ScalarGrid visualHullBound(const FieldDataset& data, const std::vector<size_t>& views,
                           const Eigen::Vector3d& origin, double scale, int res, bool sphere);

// Held-out views for evaluation: every `every`-th view (0, every, 2 every, ...); 0 = none.
inline bool isHeldOut(size_t index, int every) { return every > 0 && index % size_t(every) == 0; }

}  // namespace parallax
