// Test plugin: loads ALIKE-t's weights (a zip archive holding a plain dict of
// tensors) with LibTorch and runs its first convolution, through the same
// plugin interface and model lookup that real learned stages use.
#include <torch/torch.h>

#include <fstream>
#include <iterator>

#include "plugin/plugin_api.h"
#include "plugin/plugin_manager.h"
#include "util/error.h"

using nlohmann::json;

namespace {

const parallax::ModelFile kAlikeT{"alike/alike-t.pt", "ALIKE-t keypoint network weights",
                                  "https://github.com/Shiaoming/ALIKE (models/alike-t.pth, "
                                  "converted to a plain tensor dict; see models/README.md)"};

c10::Dict<c10::IValue, c10::IValue> loadTensorDict(const std::filesystem::path& path,
                                                   const parallax::ModelFile& model) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  try {
    c10::IValue value = torch::pickle_load(bytes);
    if (!value.isGenericDict()) throw parallax::Error("it holds no dictionary of tensors");
    return value.toGenericDict();
  } catch (const c10::Error& e) {
    std::string reason = e.what_without_backtrace();
    reason = reason.substr(0, reason.find('\n'));
    throw parallax::Error("model file '" + path.string() +
                          "' is corrupt or not a PyTorch weight archive (" + reason +
                          "); download it again from " + model.source);
  } catch (const parallax::Error& e) {
    throw parallax::Error("model file '" + path.string() + "' is not usable: " + e.what() +
                          "; download it again from " + model.source);
  }
}

json loadModel(const json& args) {
  const std::string relative =
      args.is_object() ? args.value("model", kAlikeT.relative_path) : kAlikeT.relative_path;
  parallax::ModelFile model = kAlikeT;
  model.relative_path = relative;
  const std::filesystem::path path = parallax::locateModel(model);
  auto dict = loadTensorDict(path, model);
  int64_t parameters = 0;
  for (const auto& entry : dict) parameters += entry.value().toTensor().numel();
  if (!dict.contains("block1.conv1.weight"))
    throw parallax::Error("model file '" + path.string() +
                          "' lacks block1.conv1.weight: it is not ALIKE weights");
  torch::Tensor weight = dict.at("block1.conv1.weight").toTensor();
  torch::Tensor out = torch::conv2d(torch::ones({1, 3, 8, 8}), weight);
  return {{"path", path.string()},
          {"tensors", dict.size()},
          {"parameters", parameters},
          {"conv1_weight_shape", weight.sizes().vec()},
          {"conv1_output_shape", out.sizes().vec()},
          {"conv1_output_sum", out.sum().item<double>()}};
}

}  // namespace

PARALLAX_PLUGIN_EXPORT int parallax_plugin_abi() { return parallax::kPluginAbi; }

PARALLAX_PLUGIN_EXPORT void parallax_plugin_register(parallax::PluginRegistrar& registrar) {
  registrar.setName("torch_probe", "1.0");
  registrar.declareModel(kAlikeT);
  registrar.addCommand("load_model", loadModel);
}
