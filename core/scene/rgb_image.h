// An 8-bit RGB photo, row-major, 3 bytes per pixel: how photos cross the plugin
// boundary (no OpenCV there), to feature extractors and photo segmenters alike.
#pragma once

#include <cstdint>
#include <vector>

namespace parallax {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

}  // namespace parallax
