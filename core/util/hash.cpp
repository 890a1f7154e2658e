#include "util/hash.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "util/error.h"

namespace parallax {

Hasher& Hasher::add(const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint64_t h = state_;
  for (size_t i = 0; i < size; ++i) {
    h ^= bytes[i];
    h *= 1099511628211ULL;
  }
  state_ = h;
  return *this;
}

Hasher& Hasher::add(std::string_view text) {
  add(static_cast<uint64_t>(text.size()));
  return add(text.data(), text.size());
}

Hasher& Hasher::add(uint64_t value) { return add(&value, sizeof(value)); }

std::string Hasher::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(state_));
  return buf;
}

std::string hashHex(std::string_view text) { return Hasher().add(text).hex(); }

std::string hashFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path.string() + "'");
  Hasher hasher;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hasher.add(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  return hasher.hex();
}

}  // namespace parallax
