#include "io/npz.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "geometry/camera.h"
#include "util/error.h"

namespace parallax {

namespace {

uint64_t readLE(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The value of 'key' in the .npy header's Python dict literal, up to its closing
// delimiter ("'<f4'" -> "<f4", "(4, 4)" -> "4, 4").
std::string headerField(const std::string& header, const std::string& key,
                        const std::string& what) {
  const size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) throw Error(what + ": the .npy header has no '" + key + "'");
  size_t p = header.find(':', k);
  if (p == std::string::npos) throw Error(what + ": malformed .npy header");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  if (p >= header.size()) throw Error(what + ": malformed .npy header");
  const char open = header[p];
  if (open == '\'' || open == '"') {
    const size_t e = header.find(open, p + 1);
    if (e == std::string::npos) throw Error(what + ": malformed .npy header");
    return header.substr(p + 1, e - p - 1);
  }
  if (open == '(') {
    const size_t e = header.find(')', p);
    if (e == std::string::npos) throw Error(what + ": malformed .npy header");
    return header.substr(p + 1, e - p - 1);
  }
  const size_t e = header.find_first_of(",}", p);
  return header.substr(p, e == std::string::npos ? std::string::npos : e - p);
}

}  // namespace

NpyArray parseNpy(const std::string& bytes, const std::string& what) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    throw Error(what + " is not a NumPy .npy array (bad magic)");
  const int major = b[6];
  size_t headerLen, start;
  if (major == 1) {
    headerLen = readLE(b + 8, 2), start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error(what + ": truncated .npy header");
    headerLen = readLE(b + 8, 4), start = 12;
  } else {
    throw Error(what + ": .npy format version " + std::to_string(major) +
                " is not supported (1-3 are)");
  }
  if (start + headerLen > bytes.size()) throw Error(what + ": truncated .npy header");
  const std::string header = bytes.substr(start, headerLen);
  const std::string descr = headerField(header, "descr", what);
  const bool fortran = headerField(header, "fortran_order", what).find("True") != std::string::npos;
  NpyArray a;
  std::stringstream shape(headerField(header, "shape", what));
  for (std::string dim; std::getline(shape, dim, ',');) {
    dim.erase(std::remove(dim.begin(), dim.end(), ' '), dim.end());
    if (dim.empty()) continue;
    a.shape.push_back(size_t(std::stoull(dim)));
  }
  size_t count = 1;
  for (size_t d : a.shape) count *= d;
  if (descr.size() < 3) throw Error(what + ": unsupported dtype '" + descr + "'");
  const char order = descr[0], kind = descr[1];
  const int width = std::atoi(descr.c_str() + 2);
  const bool supported =
      (kind == 'f' && (width == 4 || width == 8)) ||
      ((kind == 'i' || kind == 'u') && (width == 1 || width == 2 || width == 4 || width == 8)) ||
      (kind == 'b' && width == 1);
  if (!supported || (order != '<' && order != '>' && order != '|' && order != '='))
    throw Error(what + ": dtype '" + descr +
                "' is not supported (bool, integers, float32, float64 are)");
  const size_t data = start + headerLen;
  if (data + count * size_t(width) > bytes.size())
    throw Error(what + ": truncated: " + std::to_string(count) + " values of " + descr + " need " +
                std::to_string(count * size_t(width)) + " bytes, the file holds " +
                std::to_string(bytes.size() - data));
  a.values.resize(count);
  unsigned char buf[8];
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(buf, b + data + i * size_t(width), size_t(width));
    if (order == '>') std::reverse(buf, buf + width);
    const uint64_t raw = readLE(buf, width);
    double v;
    if (kind == 'f' && width == 4) {
      float f;
      const auto u = uint32_t(raw);
      std::memcpy(&f, &u, 4);
      v = f;
    } else if (kind == 'f') {
      std::memcpy(&v, &raw, 8);
    } else if (kind == 'i') {
      const int shift = 64 - 8 * width;
      v = double(int64_t(raw << shift) >> shift);
    } else {
      v = double(raw);
    }
    a.values[i] = v;
  }
  if (fortran && a.shape.size() > 1) {
    // Column-major to row-major: the index's digits reversed.
    std::vector<double> c(count);
    const size_t n = a.shape.size();
    std::vector<size_t> idx(n, 0);
    for (size_t f = 0; f < count; ++f) {
      // idx is the multi-index of Fortran position f (first dimension fastest).
      size_t rowMajor = 0;
      for (size_t d = 0; d < n; ++d) rowMajor = rowMajor * a.shape[d] + idx[d];
      c[rowMajor] = a.values[f];
      for (size_t d = 0; d < n; ++d) {
        if (++idx[d] < a.shape[d]) break;
        idx[d] = 0;
      }
    }
    a.values.swap(c);
  }
  return a;
}

std::map<std::string, NpyArray> readNpz(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("'" + path.string() + "' cannot be read; check the path");
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* b = reinterpret_cast<const unsigned char*>(file.data());
  const std::string what = "'" + path.string() + "'";
  // The end-of-central-directory record: the last 22 bytes plus a comment of up to 64 KiB.
  size_t eocd = std::string::npos;
  for (size_t back = 22; back <= std::min<size_t>(file.size(), 22 + 65535); ++back) {
    const size_t p = file.size() - back;
    if (readLE(b + p, 4) == 0x06054b50) {
      eocd = p;
      break;
    }
  }
  if (eocd == std::string::npos)
    throw Error(
        what +
        " is not an .npz file (no zip directory: truncated or another format); copy it again "
        "or name the right file");
  const size_t entries = readLE(b + eocd + 10, 2);
  size_t p = readLE(b + eocd + 16, 4);
  if (p == 0xffffffff) throw Error(what + " is a ZIP64 archive, which is not supported");
  std::map<std::string, NpyArray> arrays;
  for (size_t e = 0; e < entries; ++e) {
    if (p + 46 > file.size() || readLE(b + p, 4) != 0x02014b50)
      throw Error(what + ": its zip directory is corrupt (entry " + std::to_string(e) + ")");
    const auto method = int(readLE(b + p + 10, 2));
    const size_t packed = readLE(b + p + 20, 4), unpacked = readLE(b + p + 24, 4);
    const size_t nameLen = readLE(b + p + 28, 2), extraLen = readLE(b + p + 30, 2),
                 commentLen = readLE(b + p + 32, 2), local = readLE(b + p + 42, 4);
    if (p + 46 + nameLen > file.size()) throw Error(what + ": its zip directory is corrupt");
    std::string name = file.substr(p + 46, nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (packed == 0xffffffff || unpacked == 0xffffffff || local == 0xffffffff)
      throw Error(what + " is a ZIP64 archive, which is not supported");
    if (local + 30 > file.size() || readLE(b + local, 4) != 0x04034b50)
      throw Error(what + ": member '" + name + "' is missing (truncated file?)");
    const size_t data = local + 30 + readLE(b + local + 26, 2) + readLE(b + local + 28, 2);
    if (data + packed > file.size())
      throw Error(what + ": member '" + name + "' is truncated (" +
                  std::to_string(file.size() - data) + " of " + std::to_string(packed) + " bytes)");
    std::string bytes;
    if (method == 0) {
      bytes = file.substr(data, packed);
    } else if (method == 8) {
      bytes.resize(unpacked);
      z_stream z{};
      if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        throw Error("zlib could not start inflating " + what);
      z.next_in = const_cast<Bytef*>(b + data);
      z.avail_in = uInt(packed);
      z.next_out = reinterpret_cast<Bytef*>(bytes.data());
      z.avail_out = uInt(unpacked);
      const int rc = inflate(&z, Z_FINISH);
      inflateEnd(&z);
      if (rc != Z_STREAM_END || z.total_out != unpacked)
        throw Error(what + ": member '" + name + "' does not decompress (corrupt file)");
    } else {
      throw Error(what + ": member '" + name + "' uses zip compression method " +
                  std::to_string(method) + "; only stored and deflated members are supported");
    }
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      name.resize(name.size() - 4);
    arrays[name] = parseNpy(bytes, what + " array '" + name + "'");
  }
  return arrays;
}

namespace {

Eigen::Matrix4d matrix4(const std::map<std::string, NpyArray>& arrays, const std::string& key,
                        const std::filesystem::path& npz) {
  const NpyArray& a = arrays.at(key);
  if (a.shape.size() != 2 || a.shape[1] != 4 || (a.shape[0] != 3 && a.shape[0] != 4))
    throw Error("'" + npz.string() + "': " + key + " is not a 3x4 or 4x4 matrix");
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  for (size_t r = 0; r < a.shape[0]; ++r)
    for (size_t c = 0; c < 4; ++c) m(long(r), long(c)) = a.at(r, c);
  return m;
}

}  // namespace

DtuCameras readDtuCameras(const std::filesystem::path& npz) {
  const auto arrays = readNpz(npz);
  DtuCameras out;
  for (size_t i = 0; arrays.count("world_mat_" + std::to_string(i)); ++i) {
    DtuCameras::View v;
    splitProjectionMatrix(matrix4(arrays, "world_mat_" + std::to_string(i), npz).topRows<3>(), v.K,
                          v.R, v.t);
    out.views.push_back(v);
  }
  if (out.views.empty())
    throw Error("'" + npz.string() +
                "' holds no world_mat_0; expected DTU/IDR cameras (cameras_sphere.npz)");
  if (arrays.count("scale_mat_0")) out.scale = matrix4(arrays, "scale_mat_0", npz);
  return out;
}

}  // namespace parallax
