// Layering probe (test_layering): segment/ sits above io/, so io/ cannot see its headers
// and this must not compile.
#include "segment/geometric.h"

int layeringProbeViolation() { return 0; }
