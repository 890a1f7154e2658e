// What the field stage and `parallax-cli evaluate-field` share: the trainer of the
// chosen method and the photos and cameras it trains on.
#pragma once

#include <nlohmann/json.hpp>

#include "fields/field_trainer.h"
#include "scene/workspace.h"

namespace parallax {

// The trainer of the field stage's method (its parameters `values`), loading plugins
// first; Error saying what is missing otherwise.
const FieldTrainer& requireFieldTrainer(const nlohmann::json& values);
// The photos and cameras the field stage trains on, from its parameters.
FieldDataset loadFieldData(const Workspace& ws, const nlohmann::json& values);

}  // namespace parallax
