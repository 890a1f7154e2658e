// How a field being trained is rendered (field_training.cpp): rays of a view's pixels in
// the unit cube, the learned background, compositing a batch of samples, whole views for
// the curve and the evaluation, and the checkpoint of what is trained (the model's
// networks, the background, the occupancy grid). For field plugins only (LibTorch).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "field_training.h"

namespace parallax::fields {

// Colour of what lies beyond the scene box, from the view direction (a sky, far walls);
// trained with the field when the photos have no alpha.
struct BackgroundImpl : torch::nn::Module {
  BackgroundImpl();
  torch::Tensor forward(const torch::Tensor& dirs);
  torch::nn::Linear layer1{nullptr}, layer2{nullptr};
};
TORCH_MODULE(Background);

// Ray of pixel (x, y) of a view in unit-cube coordinates.
void pixelRay(const FieldView& v, const UnitBox& box, double x, double y, float* o, float* d);

// Whether any photo has an alpha channel (then no background is learned).
bool anyAlpha(const FieldDataset& data);

// The view's photo over a background, RGB (the learned background: the photo as it is),
// at the pixels renderView renders with the same stride.
std::vector<float> reference(const FieldView& v, const float bg[3], int stride = 1);

// An RGB image (0..1, row-major) as an 8-bit PNG.
void writePng(const std::filesystem::path& path, const std::vector<float>& rgb, int w, int h);

struct Renderer {
  FieldModel& model;
  Background background;
  OccupancyGrid occ;
  MarchSettings march;
  bool learnedBackground;

  struct Rendered {
    torch::Tensor rgb, alpha, regulariser;  // (R, 3) over the background, (R), scalar or undefined
  };
  // Colour of a batch of samples' rays over a background: the learned one, or `bg` (R, 3).
  Rendered render(const Samples& all, const Rays& rays, const torch::Tensor& bg, bool training);
  // Every `stride`-th pixel of every `stride`-th row (1: the whole view), row-major.
  std::vector<float> renderView(const FieldView& v, const UnitBox& box, const float white[3],
                                int stride = 1);
  // What is trained: the model's parameters, the background's, the occupancy grid.
  std::vector<torch::Tensor> state();
  void save(const std::filesystem::path& path);
  // Checked before anything is copied: a checkpoint that does not fit leaves the model
  // as it was and says why.
  void load(const std::filesystem::path& path);
};

}  // namespace parallax::fields
