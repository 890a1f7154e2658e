// Finds and loads plugins, and locates the model files they need.
// Plugin folders: $PARALLAX_PLUGIN_PATH (colon-separated), then
// <prefix>/lib/parallax/plugins next to the running executable.
// Model folders: $PARALLAX_MODELS, the user data folder
// ($XDG_DATA_HOME or ~/.local/share)/parallax/models, then <prefix>/share/parallax/models.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "plugin/plugin_api.h"

namespace parallax {

class PluginManager {
 public:
  static PluginManager& instance();

  // Loads every plugin in the default folders once; returns problems as messages.
  const std::vector<std::string>& loadDefault();
  // Declares the methods of every plugin in the default folders from the declaration
  // installed beside its library (<plugin>.json) without loading it, so that a process
  // that never loads LibTorch (the GUI) offers the same methods and parameters.
  // Returns problems as messages.
  std::vector<std::string> declareInstalled();
  // Loads one library; throws Error with dlopen's reason or an ABI mismatch.
  const PluginInfo& load(const std::filesystem::path& library);

  const std::vector<PluginInfo>& plugins() const { return plugins_; }
  const PluginInfo* find(const std::string& name) const;
  // Calls a plugin command by name ("plugin.command" or a unique "command").
  nlohmann::json command(const std::string& name,
                         const nlohmann::json& args = nlohmann::json::object()) const;

  static std::vector<std::filesystem::path> pluginDirs();

 private:
  std::vector<PluginInfo> plugins_;
  std::vector<std::string> problems_;
  bool defaultLoaded_ = false;
};

std::vector<std::filesystem::path> modelDirs();
// The path of a model file, or Error naming the file, where it was looked for,
// and where to get it.
std::filesystem::path locateModel(const ModelFile& model);

// The folder of the running executable (for <prefix> lookups).
std::filesystem::path executableDir();

}  // namespace parallax
