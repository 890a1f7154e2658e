#include "plugin/plugin_manager.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "pipeline/schema.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax {

void PluginRegistrar::declareMethods(const char* declaration, const nlohmann::json& structDefaults) {
  Schema::instance().addMethods(nlohmann::json::parse(declaration), structDefaults, info_.name);
}

PluginManager& PluginManager::instance() {
  static PluginManager manager;
  return manager;
}

fs::path executableDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

std::vector<fs::path> PluginManager::pluginDirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("PARALLAX_PLUGIN_PATH")) {
    std::string s = env;
    for (size_t start = 0, end; start <= s.size(); start = end + 1) {
      end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) dirs.emplace_back(s.substr(start, end - start));
    }
  }
  dirs.push_back(executableDir().parent_path() / "lib" / "parallax" / "plugins");
  return dirs;
}

const PluginInfo& PluginManager::load(const fs::path& library) {
  for (const auto& p : plugins_)
    if (p.library == library.string()) return p;
  void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw Error("plugin '" + library.string() + "' could not be loaded: " + ::dlerror());
  auto abi = reinterpret_cast<int (*)()>(::dlsym(handle, "parallax_plugin_abi"));
  auto reg =
      reinterpret_cast<void (*)(PluginRegistrar&)>(::dlsym(handle, "parallax_plugin_register"));
  if (!abi || !reg) {
    ::dlclose(handle);
    throw Error("'" + library.string() +
                "' is not a Parallax plugin (no parallax_plugin_register)");
  }
  if (abi() != kPluginAbi) {
    ::dlclose(handle);
    throw Error("plugin '" + library.string() + "' was built for plugin ABI " +
                std::to_string(abi()) + ", this Parallax has ABI " + std::to_string(kPluginAbi) +
                "; rebuild the plugin");
  }
  PluginInfo info;
  info.library = library.string();
  info.name = library.stem().string();
  PluginRegistrar registrar(info);
  reg(registrar);  // handle stays open for the process's lifetime: its code is now registered
  plugins_.push_back(std::move(info));
  return plugins_.back();
}

namespace {

// The plugin libraries in the default folders, each folder's in name order.
std::vector<fs::path> installedLibraries() {
  std::vector<fs::path> all;
  for (const auto& dir : PluginManager::pluginDirs()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> libs;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".so") libs.push_back(e.path());
    std::sort(libs.begin(), libs.end());
    all.insert(all.end(), libs.begin(), libs.end());
  }
  return all;
}

}  // namespace

const std::vector<std::string>& PluginManager::loadDefault() {
  if (defaultLoaded_) return problems_;
  defaultLoaded_ = true;
  for (const auto& lib : installedLibraries()) {
    try {
      load(lib);
    } catch (const std::exception& e) {
      problems_.push_back(e.what());
    }
  }
  return problems_;
}

std::vector<std::string> PluginManager::declareInstalled() {
  std::vector<std::string> problems;
  for (const auto& lib : installedLibraries()) {
    fs::path declaration = lib;
    declaration.replace_extension(".json");
    if (!fs::exists(declaration)) continue;  // a plugin without methods (commands only)
    try {
      std::ifstream in(declaration);
      Schema::instance().addMethods(nlohmann::json::parse(in), {}, lib.stem().string());
    } catch (const std::exception& e) {
      problems.push_back("'" + declaration.string() + "': " + e.what());
    }
  }
  return problems;
}

const PluginInfo* PluginManager::find(const std::string& name) const {
  for (const auto& p : plugins_)
    if (p.name == name) return &p;
  return nullptr;
}

nlohmann::json PluginManager::command(const std::string& name, const nlohmann::json& args) const {
  size_t dot = name.find('.');
  for (const auto& p : plugins_) {
    if (dot != std::string::npos && p.name != name.substr(0, dot)) continue;
    auto it = p.commands.find(dot == std::string::npos ? name : name.substr(dot + 1));
    if (it != p.commands.end()) return it->second(args);
  }
  throw Error("no loaded plugin provides the command '" + name + "' (see `parallax-cli plugins`)");
}

std::vector<fs::path> modelDirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("PARALLAX_MODELS"); env && *env) dirs.emplace_back(env);
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
    dirs.push_back(fs::path(xdg) / "parallax" / "models");
  else if (const char* home = std::getenv("HOME"); home && *home)
    dirs.push_back(fs::path(home) / ".local" / "share" / "parallax" / "models");
  dirs.push_back(executableDir().parent_path() / "share" / "parallax" / "models");
  return dirs;
}

fs::path locateModel(const ModelFile& model) {
  std::string looked;
  for (const auto& dir : modelDirs()) {
    fs::path p = dir / model.relative_path;
    if (fs::is_regular_file(p)) return p;
    looked += (looked.empty() ? "" : ", ") + dir.string();
  }
  throw Error("model file '" + model.relative_path + "' (" + model.description +
              ") was not found; looked in: " + looked + ". Get it from " + model.source +
              " and save it as " + model.relative_path +
              " under one of those folders, or set PARALLAX_MODELS to the folder that holds it");
}

}  // namespace parallax
