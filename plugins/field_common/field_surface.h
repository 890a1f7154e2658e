// The surface of a trained field (field_training.cpp): sampled on a grid over the box,
// cut by the masks and the field's sphere, kept where the photos see it, coloured from
// outside. For field plugins only (LibTorch).
#pragma once

#include <vector>

#include "field_training.h"
#include "util/events.h"

namespace parallax::fields {

// The surface where the model's value crosses its level, sampled on a res^3 grid over the
// box, with vertex colours seen from outside. World units.
// With `masksOf`, what its `maskViews` show on their masks' background is outside.
TriangleMesh extractSurface(FieldModel& model, const UnitBox& box, int res, bool largestOnly,
                            const Reconstruction* seenBy, const FieldDataset* masksOf,
                            const std::vector<size_t>& maskViews, Reporter& report);

}  // namespace parallax::fields
