// Neural fields register here (from plugins: field.nerf, field.neus), so the
// field stage and `parallax-cli evaluate-field` in core can use them without LibTorch.
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
  std::string name;  // "nerf"
  // Trains on the views not held out; writes a checkpoint, training.json and mesh.ply into outDir
  // and returns a summary (iterations, seconds, held-out PSNR, the PSNR-over-time curve).
  std::function<nlohmann::json(FieldJob&)> train;
  // Loads the checkpoint in outDir and renders the held-out views: PSNR and SSIM per view
  // and on average; renders written to outDir/renders.
  std::function<nlohmann::json(FieldJob&)> evaluate;
};

void registerFieldTrainer(FieldTrainer trainer);
const FieldTrainer* findFieldTrainer(const std::string& name);
// The trainer of a method, loading plugins first; Error naming the plugin otherwise.
const FieldTrainer& requireFieldTrainer(const std::string& method);
// The photos and cameras the field stage trains on, from its parameters (`params`).
FieldDataset loadFieldData(const Workspace& ws, const nlohmann::json& params);

// Image quality of a render against the reference (both RGB floats in [0, 1], w*h*3):
// PSNR in dB and SSIM (Gaussian window 11, sigma 1.5, as Wang et al. 2004) on the mean
// over channels.
double psnr(const std::vector<float>& a, const std::vector<float>& b);
double ssim(const std::vector<float>& a, const std::vector<float>& b, int width, int height);

}  // namespace parallax
