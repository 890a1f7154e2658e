#include "stages/builtin_stages.h"

#include <mutex>

#include "pipeline/stage.h"

namespace parallax {

void registerBuiltinStages() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerImportStage();
    registerFeaturesStage();
    registerMatchingStage();
    registerGroundTruthStage();
    registerSparseStage();
    registerDenseStages();
    registerTextureStage();
    registerFieldStage();
    registerSegmentStage();
  });
}

}  // namespace parallax
