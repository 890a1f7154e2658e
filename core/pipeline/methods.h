// Methods: the ways of doing a stage (features.sift, mvs.patchmatch, segment.geometric,
// and the learned ones plugins add). A method is declared (name, label, help, parameters) in the
// stage's declaration or a plugin's, and a plugin registers its implementation
// here: one registry for every kind of method, keyed by stage and name, holding the
// kind's interface (FeatureExtractor, DepthEstimator, FieldTrainer, ...). One rule,
// resolveMethod, turns a stage's parameters into the method that will run: the
// requested one, or the stage's classical method with a warning naming the missing
// plugin or weight file.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <typeindex>
#include <vector>

namespace parallax {

// Throws Error naming a missing or corrupt weight file and where to get it.
using MethodCheck = std::function<void(const nlohmann::json& stageParams)>;

class MethodRegistry {
 public:
  static MethodRegistry& instance();

  template <class Interface>
  void add(const std::string& stage, const std::string& name, Interface implementation,
           MethodCheck check = {}, const std::string& plugin = "") {
    addEntry({stage, name, plugin, std::move(check), std::type_index(typeid(Interface)),
              std::make_shared<const Interface>(std::move(implementation))});
  }
  // The implementation of stage.name, or nullptr when none is registered (or it is of
  // another kind). Entries are never removed, so the pointer stays valid.
  template <class Interface>
  const Interface* find(const std::string& stage, const std::string& name) const {
    const Entry* e = entry(stage, name);
    if (!e || e->type != std::type_index(typeid(Interface))) return nullptr;
    return static_cast<const Interface*>(e->implementation.get());
  }

  struct Entry {
    std::string stage, name;
    std::string plugin;  // the library that registered it ("" for core)
    MethodCheck check;
    std::type_index type;
    std::shared_ptr<const void> implementation;
  };
  const Entry* entry(const std::string& stage, const std::string& name) const;
  std::vector<std::string> names(const std::string& stage) const;

 private:
  void addEntry(Entry entry);
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;
};

struct ResolvedMethod {
  std::string name;     // the method that runs ("sift", "patchmatch")
  std::string label;    // as the user reads it ("SIFT", "classical PatchMatch")
  bool classical = false;  // the stage's classical method, built into core
  std::string warning;  // why the requested method does not run; "" when it does
};

// The method `stageParams` ask for, if it is registered and its check passes; for the
// stage's automatic choice ("auto"), the first registered method declared for it that
// passes its check. Otherwise the stage's classical method, with `warning` saying
// what is missing. A stage without a classical method throws Error with that message.
ResolvedMethod resolveMethod(const std::string& stage, const nlohmann::json& stageParams);

}  // namespace parallax
