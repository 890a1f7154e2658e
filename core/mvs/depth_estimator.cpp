#include "mvs/depth_estimator.h"

#include <map>
#include <mutex>

namespace parallax {
namespace {
std::mutex mutex;
std::map<std::string, DepthEstimator>& registry() {
  static std::map<std::string, DepthEstimator> r;
  return r;
}
}  // namespace

void registerDepthEstimator(DepthEstimator estimator) {
  std::lock_guard<std::mutex> lock(mutex);
  registry()[estimator.name] = std::move(estimator);
}

const DepthEstimator* findDepthEstimator(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

}  // namespace parallax
