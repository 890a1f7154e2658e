// Weights for plugin networks written with torch::nn: the converted upstream files in
// ../shared/models are zip archives whose data.pkl is a dict name -> tensor
// (models/README.md). Header-only, for plugins (the only code that sees LibTorch).
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "features/feature_extractor.h"
#include "plugin/plugin_api.h"
#include "plugin/plugin_manager.h"
#include "util/error.h"

namespace parallax::torch_plugin {

inline std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

inline std::string shapeText(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << "(";
  for (size_t i = 0; i < sizes.size(); ++i) out << (i ? ", " : "") << sizes[i];
  out << ")";
  return out.str();
}

// The tensors of a model file, located in the model folders; throws Error naming the
// file, where it was looked for and where to get it, or saying it is corrupt.
inline std::map<std::string, torch::Tensor> loadStateDict(const ModelFile& model) {
  const std::filesystem::path path = locateModel(model);  // throws, naming the file
  std::ifstream f(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::map<std::string, torch::Tensor> out;
  try {
    const auto dict = torch::pickle_load(bytes).toGenericDict();
    for (const auto& item : dict) out[item.key().toStringRef()] = item.value().toTensor();
  } catch (const c10::Error& e) {
    throw Error("model file '" + path.string() + "' is corrupt or not a weight archive (" +
                firstLine(e.what_without_backtrace()) + "); download it again from " +
                model.source);
  } catch (const std::exception& e) {
    throw Error("model file '" + path.string() + "' is corrupt or not a weight archive (" +
                firstLine(e.what()) + "); download it again from " + model.source);
  }
  return out;
}

// Copies every parameter and buffer of `module` from `weights` by name; a missing key or a
// different shape means the file holds another network.
inline void assignWeights(torch::nn::Module& module,
                          const std::map<std::string, torch::Tensor>& weights,
                          const ModelFile& model) {
  torch::NoGradGuard noGrad;
  auto assign = [&](const std::string& name, torch::Tensor& target) {
    auto it = weights.find(name);
    if (it == weights.end())
      throw Error("model file '" + model.relative_path + "' lacks the tensor '" + name +
                  "': it is not the " + model.description + "; download it again from " +
                  model.source);
    if (it->second.sizes() != target.sizes())
      throw Error("model file '" + model.relative_path + "': tensor '" + name + "' has shape " +
                  shapeText(it->second.sizes()) + ", the network expects " +
                  shapeText(target.sizes()) + ": it is not the " + model.description);
    target.copy_(it->second);
  };
  for (auto& p : module.named_parameters()) assign(p.key(), p.value());
  for (auto& b : module.named_buffers()) assign(b.key(), b.value());
}

// Intra-op threads for one photo: `threads` > 0, else every core.
inline void setThreads(int threads) {
  at::set_num_threads(threads > 0 ? threads
                                  : int(std::max(1u, std::thread::hardware_concurrency())));
}

// (1, 3, H, W) float in [0, 1] from an 8-bit RGB image.
inline torch::Tensor rgbTensor(const RgbImage& image) {
  return torch::from_blob(const_cast<uint8_t*>(image.rgb.data()), {image.height, image.width, 3},
                          torch::kUInt8)
      .permute({2, 0, 1})
      .unsqueeze(0)
      .to(torch::kFloat32)
      .div_(255.0f)
      .contiguous();
}

}  // namespace parallax::torch_plugin
