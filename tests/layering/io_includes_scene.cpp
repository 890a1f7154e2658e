// Layering probe (test_layering): io/ declares that it uses scene/, so this compiles.
#include "scene/geometry_data.h"

int layeringProbeAllowed() { return int(sizeof(parallax::PointCloud)); }
