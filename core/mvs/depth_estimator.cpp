#include "mvs/depth_estimator.h"

#include "util/named_registry.h"

namespace parallax {
namespace {
NamedRegistry<DepthEstimator>& registry() {
  static NamedRegistry<DepthEstimator> r;
  return r;
}
}  // namespace

void registerDepthEstimator(DepthEstimator estimator) { registry().add(std::move(estimator)); }
const DepthEstimator* findDepthEstimator(const std::string& name) {
  return registry().find(name);
}

}  // namespace parallax
