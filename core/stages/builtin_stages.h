// Registration of the stages that live in core.
#pragma once

namespace parallax {

void registerImportStage();
void registerFeaturesStage();
void registerMatchingStage();
void registerGroundTruthStage();
void registerSparseStage();
void registerDenseStages();
void registerFieldStage();
void registerSegmentStage();
void registerTextureStage();

}  // namespace parallax
