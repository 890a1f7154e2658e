// Validates a photo and reads what the pipeline needs before any pixels are
// used: format, size after EXIF orientation, and a focal-length prior from EXIF.
#pragma once

#include <filesystem>
#include <string>

namespace parallax {

struct ImageInfo {
  std::string format;  // "JPEG", "PNG" or "TIFF"
  int width = 0;       // after applying the EXIF orientation
  int height = 0;
  int orientation = 1;         // EXIF orientation tag (1 = upright)
  double focal_length_px = 0;  // prior focal length in pixels (never 0 after probing)
  std::string focal_source;  // "exif-35mm", "exif-sensor", or "default" (1.2 * max side, as COLMAP)
  std::string camera_make;
  std::string camera_model;
  std::string content_hash;  // of the file's bytes, for duplicate detection
};

// Throws Error with a one-line reason ("zero-byte file", "not a JPEG, PNG or TIFF
// image", "truncated JPEG", "corrupt PNG: ...") for anything the pipeline cannot use.
ImageInfo probeImage(const std::filesystem::path& path);

bool hasImageExtension(const std::filesystem::path& path);

}  // namespace parallax
