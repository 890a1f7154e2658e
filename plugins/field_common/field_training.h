// What NeRF and NeuS share: the scene box as a unit cube, rays of a view's pixels, a
// model interface, the training loop (random rays, occupancy grid, pruning of occluded
// samples, compositing over a background, Adam, the held-out PSNR curve, checkpoints),
// held-out evaluation and surface extraction. For fields plugins only (includes LibTorch).
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fields/field_trainer.h"
#include "scene/geometry_data.h"
#include "volume.h"

namespace parallax::fields {

// The scene box as a cube mapped onto the unit cube.
struct UnitBox {
  Eigen::Vector3d min;
  double side = 1;
  explicit UnitBox(const FieldDataset& d) : min(d.boxMin), side((d.boxMax - d.boxMin).maxCoeff()) {}
};

// Marching and occupancy settings from the field stage's parameters.
struct MarchSettings {
  int occupancyResolution = 128;
  float dt = 0;  // step in unit-cube lengths
  int maxSamples = 1024;
  float threshold = 0;  // occupancy density threshold
  explicit MarchSettings(const nlohmann::json& p);
};

// A field being trained: its networks and how samples become densities and colours.
class FieldModel {
 public:
  virtual ~FieldModel() = default;
  virtual std::string name() const = 0;                // "nerf"
  virtual torch::nn::Module& module() = 0;             // every trained parameter
  // Density-like values (per unit-cube length) for the occupancy grid; no gradient.
  virtual torch::Tensor occupancyDensity(const torch::Tensor& positions) = 0;
  // Cheap densities of samples for finding those behind opaque matter; no gradient.
  virtual torch::Tensor densityOnly(const Samples& samples) = 0;
  struct Output {
    torch::Tensor density, color;  // (S), (S, 3); alpha = 1 - exp(-density * delta)
    torch::Tensor regulariser;     // a scalar added to the loss, or undefined
  };
  virtual Output forward(const Samples& samples, bool training) = 0;
  virtual void schedule(double progress) { (void)progress; }  // 0..1 of the training
  // Parameters trained at a tenth of the learning rate (NeuS's sharpness).
  virtual std::vector<torch::Tensor> slowParameters() { return {}; }
  // Weight of the binary cross-entropy between the rendered opacity and the photos' masks
  // (alpha), when every photo has one; 0: masks teach only through random backgrounds.
  virtual double maskWeight() const { return 0; }
  // A loss from structure from motion's sparse points (unit cube): `onSurface` (n, 3) lie on
  // the surface; `freeSpace` (m, 3) lie on lines of sight from the photos that see a point
  // to it, short of it by `clearance`: nothing there. Undefined when the model has none.
  virtual torch::Tensor pointLoss(const torch::Tensor& onSurface, const torch::Tensor& freeSpace) {
    (void)onSurface, (void)freeSpace;
    return {};
  }
  // With masks: points (n, 3) outside the masks' visual hull (or the field's sphere) and a
  // lower bound (n) on their distance to the object, unit cube; a loss that keeps the field
  // empty there. Undefined when the model has none.
  virtual torch::Tensor hullLoss(const torch::Tensor& positions, const torch::Tensor& bound) {
    (void)positions, (void)bound;
    return {};
  }
  virtual bool usesHull() const { return false; }
  // Whether pointLoss is used (the points and lines of sight are gathered only then).
  virtual bool usesPoints() const { return false; }
  // How far short of a point its lines of sight stop (unit cube).
  virtual double clearance() const { return 0.02; }
  // Whether empty space may be skipped yet (a field that starts as a sphere must first be
  // sampled everywhere, or no surface could form away from it).
  virtual bool skipEmptySpace() const { return true; }
  // The marching step as a multiple of field.steps_per_diagonal's (a blurry field early in
  // its training needs fewer samples).
  virtual float stepScale() const { return 1.f; }
  // Whether the field lives in the sphere inscribed in the box (else the whole box).
  virtual bool sphereBounded() const { return false; }
  // The surface: a value per point, the level it crosses, and which side is inside.
  virtual torch::Tensor surfaceValue(const torch::Tensor& positions) = 0;
  virtual float surfaceLevel() const = 0;
  virtual bool insideAbove() const = 0;
  virtual torch::Tensor surfaceColor(const torch::Tensor& positions, const torch::Tensor& viewDirs) = 0;
  virtual nlohmann::json summary() { return nlohmann::json::object(); }
};

// Trains `model` on the views not held out; writes checkpoint.pt, training.json and
// (field.mesh_resolution > 0) mesh.ply into job.outDir; returns the summary.
nlohmann::json trainField(FieldJob& job, FieldModel& model);

// Loads the checkpoint into `model` and renders the held-out views: PSNR/SSIM per view.
nlohmann::json evaluateField(FieldJob& job, FieldModel& model);

// Throws once per process of a field plugin: threads, and no page faults for the big
// per-step buffers.
void prepareProcess();

}  // namespace parallax::fields
