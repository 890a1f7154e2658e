#include "features/feature_extractor.h"

#include "util/named_registry.h"

namespace parallax {
namespace {
NamedRegistry<FeatureExtractor>& registry() {
  static NamedRegistry<FeatureExtractor> r;
  return r;
}
}  // namespace

void registerFeatureExtractor(FeatureExtractor extractor) { registry().add(std::move(extractor)); }
const FeatureExtractor* findFeatureExtractor(const std::string& name) {
  return registry().find(name);
}

}  // namespace parallax
