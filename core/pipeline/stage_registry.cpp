#include "pipeline/schema.h"
#include "pipeline/stage.h"
#include "util/error.h"

namespace parallax {

StageRegistry& StageRegistry::instance() {
  static StageRegistry registry;
  return registry;
}

void StageRegistry::add(StageImplementation impl) {
  Schema::instance().requireStage(impl.stage);  // an implementation needs a declared stage
  impls_[impl.stage] = std::move(impl);
}

const StageImplementation* StageRegistry::find(const std::string& stage) const {
  auto it = impls_.find(stage);
  return it == impls_.end() ? nullptr : &it->second;
}

std::vector<std::string> StageRegistry::stages() const {
  std::vector<std::string> names;
  for (const auto& [name, impl] : impls_) names.push_back(name);
  return names;
}

}  // namespace parallax
