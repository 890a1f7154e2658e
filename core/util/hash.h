// Content hashing for staleness keys and duplicate detection (FNV-1a, 64 bit).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace parallax {

class Hasher {
 public:
  Hasher& add(const void* data, size_t size);
  Hasher& add(std::string_view text);
  Hasher& add(uint64_t value);
  uint64_t value() const { return state_; }
  std::string hex() const;

 private:
  uint64_t state_ = 1469598103934665603ULL;
};

std::string hashHex(std::string_view text);
// Hash of a file's bytes; throws Error when it cannot be read.
std::string hashFile(const std::filesystem::path& path);

}  // namespace parallax
