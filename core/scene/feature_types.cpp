#include "scene/feature_types.h"

#include <cmath>

namespace parallax {

float FeatureKeypoint::scale() const { return std::sqrt(a11 * a11 + a21 * a21); }
float FeatureKeypoint::orientation() const { return std::atan2(a21, a11); }

}  // namespace parallax
