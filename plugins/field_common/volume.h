// Ray marching through an occupancy grid and volume compositing, fused C++ kernels for
// fields trained on the CPU (NeRF, NeuS). For fields plugins only (includes LibTorch).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <vector>

namespace parallax::fields {

// Rays in the field's unit cube [0, 1]^3.
struct Rays {
  std::vector<float> origin, direction;  // n * 3; directions unit length
  size_t size() const { return origin.size() / 3; }
};

// Samples of a batch of rays, ray-major: ray r owns samples [start[r], start[r] + count[r]).
struct Samples {
  torch::Tensor positions;  // (S, 3) in [0, 1]^3
  torch::Tensor directions;  // (S, 3)
  torch::Tensor deltas;     // (S) segment lengths
  std::vector<int64_t> start, count;
  int64_t size() const { return positions.defined() ? positions.size(0) : 0; }
};

// A grid of G^3 cells over the unit cube: which cells may hold matter. Cells hold a
// running maximum of the density seen there; occupied means above a threshold.
constexpr int kOccupancyResolution = 128;  // cells along the unit cube
class OccupancyGrid {
 public:
  explicit OccupancyGrid(int resolution = kOccupancyResolution);
  int resolution() const { return res_; }
  bool occupied(int64_t cell) const { return bits_[size_t(cell)] != 0; }
  // Cell centres with a random offset inside the cell, for `count` cells chosen at random
  // (count <= 0: all cells); returns positions (m, 3) and the chosen cell ids.
  std::pair<torch::Tensor, std::vector<int64_t>> sampleCells(int64_t count, std::mt19937& rng) const;
  // Folds new densities into the cells (decayed maximum) and recomputes the bits.
  void update(const std::vector<int64_t>& cells, const torch::Tensor& density, float decay,
              float threshold);
  double occupiedFraction() const;
  torch::Tensor state() const;  // densities, for checkpoints
  void setState(const torch::Tensor& densities, float threshold);

 private:
  void applyThreshold(float threshold);
  int res_;
  std::vector<float> density_;
  std::vector<uint8_t> bits_;
};

// March each ray through the unit cube with step `dt`, keeping samples in occupied cells
// (empty cells are skipped whole), at most `maxSamples` per ray. `jitter` offsets each
// ray's first sample by a random fraction of a step (training). `sphere`: only inside the
// sphere inscribed in the cube (NeuS: the scene in a sphere, the rest is background).
Samples marchRays(const Rays& rays, const OccupancyGrid& grid, float dt, int maxSamples,
                  std::mt19937* jitter, bool sphere = false);

// Keeps, per ray, the samples before transmittance falls below `minTransmittance` given
// their densities (no gradient): the matter behind an opaque surface is not trained.
Samples pruneOccluded(const Samples& samples, const torch::Tensor& density, float minTransmittance);

// Emission-absorption compositing: colour (R, 3) and opacity (R) per ray from densities
// (S) and colours (S, 3), differentiable with respect to both.
std::pair<torch::Tensor, torch::Tensor> composite(const torch::Tensor& density,
                                                  const torch::Tensor& color,
                                                  const Samples& samples);

// Real spherical harmonics up to degree 4 (16 values) of unit directions (n, 3).
torch::Tensor sphericalHarmonics4(const torch::Tensor& directions);

}  // namespace parallax::fields
