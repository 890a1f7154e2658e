#include "io/image_probe.h"

#include <exiv2/exiv2.hpp>
#include <opencv2/imgcodecs.hpp>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/hash.h"

namespace fs = std::filesystem;

namespace parallax {
namespace {

std::string sniffFormat(const std::string& bytes) {
  auto starts = [&](const char* magic, size_t n) {
    return bytes.size() >= n && bytes.compare(0, n, magic, n) == 0;
  };
  if (starts("\xFF\xD8\xFF", 3)) return "JPEG";
  if (starts("\x89PNG\r\n\x1a\n", 8)) return "PNG";
  if (starts("II*\0", 4) || starts("MM\0*", 4)) return "TIFF";
  return "";
}

std::string printableStart(const std::string& bytes) {
  std::string s;
  for (size_t i = 0; i < bytes.size() && s.size() < 12; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    s += (c >= 32 && c < 127) ? char(c) : '.';
  }
  return s;
}

// A JPEG whose end-of-image marker is missing lost its tail: libjpeg would
// silently pad it with grey, so we check for the marker ourselves.
bool jpegHasEnd(const std::string& bytes) {
  size_t end = bytes.size();
  while (end > 2 && (bytes[end - 1] == '\0' || bytes[end - 1] == '\n' || bytes[end - 1] == '\r' ||
                     bytes[end - 1] == ' '))
    --end;
  for (size_t i = end; i >= 2 && i + 64 >= end; --i)
    if (static_cast<unsigned char>(bytes[i - 2]) == 0xFF &&
        static_cast<unsigned char>(bytes[i - 1]) == 0xD9)
      return true;
  return false;
}

double rationalValue(const Exiv2::ExifData& exif, const char* key) {
  auto it = exif.findKey(Exiv2::ExifKey(key));
  if (it == exif.end() || it->count() == 0) return 0.0;
  Exiv2::Rational r = it->toRational(0);
  return r.second != 0 ? double(r.first) / double(r.second) : double(it->toLong(0));
}

std::string stringValue(const Exiv2::ExifData& exif, const char* key) {
  auto it = exif.findKey(Exiv2::ExifKey(key));
  if (it == exif.end()) return "";
  std::string s = it->toString();
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

void readExif(const std::string& bytes, ImageInfo& info, int pixelWidth, int pixelHeight) {
  try {
    auto image = Exiv2::ImageFactory::open(reinterpret_cast<const Exiv2::byte*>(bytes.data()),
                                           long(bytes.size()));
    image->readMetadata();
    const Exiv2::ExifData& exif = image->exifData();
    if (exif.empty()) return;
    info.camera_make = stringValue(exif, "Exif.Image.Make");
    info.camera_model = stringValue(exif, "Exif.Image.Model");
    auto orient = exif.findKey(Exiv2::ExifKey("Exif.Image.Orientation"));
    if (orient != exif.end() && orient->count() > 0) {
      long o = orient->toLong(0);
      if (o >= 1 && o <= 8) info.orientation = int(o);
    }
    const double maxSide = std::max(pixelWidth, pixelHeight);
    double f35 = rationalValue(exif, "Exif.Photo.FocalLengthIn35mmFilm");
    double fmm = rationalValue(exif, "Exif.Photo.FocalLength");
    if (f35 > 0) {
      // 35 mm film is 36 mm wide: the long side of the photo spans 36 mm.
      info.focal_length_px = f35 / 36.0 * maxSide;
      info.focal_source = "exif-35mm";
      return;
    }
    double xres = rationalValue(exif, "Exif.Photo.FocalPlaneXResolution");
    long unit = 2;
    auto unitIt = exif.findKey(Exiv2::ExifKey("Exif.Photo.FocalPlaneResolutionUnit"));
    if (unitIt != exif.end() && unitIt->count() > 0) unit = unitIt->toLong(0);
    const double mmPerUnit = unit == 3 ? 10.0 : unit == 4 ? 1.0 : unit == 5 ? 0.001 : 25.4;
    if (fmm > 0 && xres > 0) {
      // Focal plane resolution is pixels per unit of the sensor at the photo's native size.
      double pixelsPerMm = xres / mmPerUnit;
      info.focal_length_px = fmm * pixelsPerMm;
      // EXIF resolution refers to the full sensor; a downscaled photo scales with it.
      double exifWidth = rationalValue(exif, "Exif.Photo.PixelXDimension");
      if (exifWidth > 0 && exifWidth != pixelWidth && exifWidth != pixelHeight)
        info.focal_length_px *= maxSide / exifWidth;
      info.focal_source = "exif-sensor";
    }
  } catch (const Exiv2::Error&) {
    // Unreadable metadata is not fatal: the pixels decoded fine; use the default prior.
  }
}

}  // namespace

bool hasImageExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  for (auto& c : ext) c = char(std::tolower(c));
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".tif" || ext == ".tiff";
}

ImageInfo probeImage(const fs::path& path) {
  if (fs::is_directory(path)) throw Error("is a folder, not a photo");
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) throw Error("cannot be read: " + ec.message());
  if (size == 0) throw Error("is a zero-byte file (an interrupted copy?)");
  std::string bytes = readFile(path);
  ImageInfo info;
  info.format = sniffFormat(bytes);
  if (info.format.empty())
    throw Error("is not a JPEG, PNG or TIFF image (its first bytes are '" + printableStart(bytes) +
                "')");
  if (info.format == "JPEG" && !jpegHasEnd(bytes))
    throw Error("is a truncated JPEG (its end-of-image marker is missing; re-copy the file)");
  // Full decode: the only reliable check for corrupt pixel data. EXIF orientation is applied.
  cv::Mat buffer(1, int(bytes.size()), CV_8U, bytes.data());
  cv::Mat pixels = cv::imdecode(buffer, cv::IMREAD_COLOR);
  if (pixels.empty()) throw Error("is a corrupt " + info.format + " image (it cannot be decoded)");
  info.width = pixels.cols;
  info.height = pixels.rows;
  info.content_hash = Hasher().add(bytes).hex();
  readExif(bytes, info, info.width, info.height);
  if (info.focal_length_px <= 0) {
    info.focal_length_px = 1.2 * std::max(info.width, info.height);
    info.focal_source = "default";
  }
  return info;
}

}  // namespace parallax
