#include "features/feature_extractor.h"

#include "pipeline/methods.h"

namespace parallax {

const FeatureExtractor* findFeatureExtractor(const std::string& method) {
  return MethodRegistry::instance().find<FeatureExtractor>("features", method);
}

}  // namespace parallax
