// The interface between Parallax and a plugin shared library. A plugin exports
//   extern "C" int  parallax_plugin_abi();                       // == kPluginAbi
//   extern "C" void parallax_plugin_register(parallax::PluginRegistrar&);
// and in register() declares its methods (their declaration, <method>.json, as the
// generated header params/<plugin>.h holds it), registers their implementations,
// its model files and named commands. LibTorch lives only inside plugins.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/methods.h"
#include "pipeline/stage.h"

namespace parallax {

constexpr int kPluginAbi = 2;  // 2: methods declared and registered through the registrar

struct ModelFile {
  std::string relative_path;  // under a models folder, e.g. "alike/alike-n.pt"
  std::string description;    // "ALIKE-n keypoint network weights"
  std::string source;         // where a user obtains it (upstream repository and file)
};

using PluginCommand = std::function<nlohmann::json(const nlohmann::json& args)>;

struct PluginInfo {
  std::string name;
  std::string version;
  std::string library;  // path it was loaded from
  std::vector<ModelFile> models;
  std::map<std::string, PluginCommand> commands;
};

class PluginRegistrar {
 public:
  explicit PluginRegistrar(PluginInfo& info) : info_(info) {}
  void setName(const std::string& name, const std::string& version) {
    info_.name = name;
    info_.version = version;
  }
  void declareModel(const ModelFile& model) { info_.models.push_back(model); }
  // Adds the plugin's methods and their parameters to their stages (Schema::addMethods):
  // `declaration` is the text of its <method>.json, `structDefaults` its generated
  // structs' defaults (params::<plugin>StructDefaults()).
  void declareMethods(const char* declaration, const nlohmann::json& structDefaults);
  // Registers a declared method's implementation (a FeatureExtractor, DepthEstimator, ...).
  template <class Interface>
  void addMethod(const std::string& stage, const std::string& name, Interface implementation,
                 MethodCheck check = {}) {
    MethodRegistry::instance().add(stage, name, std::move(implementation), std::move(check),
                                   info_.name);
  }
  // A named entry point (diagnostics, tools): callable as plugins.command("name", args).
  void addCommand(const std::string& name, PluginCommand command) {
    info_.commands[name] = std::move(command);
  }

 private:
  PluginInfo& info_;
};

}  // namespace parallax

#define PARALLAX_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))
