// The interface of a neural field: a plugin registers one as a method of the field
// stage (MethodRegistry, kind FieldTrainer), so the field stage and
// `parallax-cli evaluate-field` in core use it without LibTorch.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "fields/field_data.h"
#include "util/events.h"

namespace parallax {

class Workspace;

struct FieldJob {
  const FieldDataset& data;
  const nlohmann::json& params;       // the field stage's
  std::filesystem::path outDir;       // fields/<method>: checkpoint, metrics, renders
  Reporter& report;                   // progress, log, previews; cancellation via throwIfCancelled
};

struct FieldTrainer {
  // Trains on the views not held out; writes a checkpoint, training.json and mesh.ply into outDir
  // and returns a summary (iterations, seconds, held-out PSNR, the PSNR-over-time curve).
  std::function<nlohmann::json(FieldJob&)> train;
  // Loads the checkpoint in outDir and renders the held-out views: PSNR and SSIM per view
  // and on average; renders written to outDir/renders.
  std::function<nlohmann::json(FieldJob&)> evaluate;
};


// Image quality of a render against the reference (both RGB floats in [0, 1], w*h*3):
// PSNR in dB and SSIM (Gaussian window 11, sigma 1.5, as Wang et al. 2004) on the mean
// over channels.
double psnr(const std::vector<float>& a, const std::vector<float>& b);
double ssim(const std::vector<float>& a, const std::vector<float>& b, int width, int height);

}  // namespace parallax
