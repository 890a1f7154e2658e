// Writes that a crash or a cancel can never leave half done: the data goes to a
// temporary sibling, is flushed to disk, and replaces the target with rename(2).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace parallax {

// Replaces `path` with `contents` atomically.
void writeFileAtomic(const std::filesystem::path& path, std::string_view contents);

// Calls `write(tmp)` to produce the file at a temporary path, then renames it onto `path`.
// Use for writers (SQLite, PLY, images) that need a path rather than a buffer.
void writeViaTemp(const std::filesystem::path& path,
                  const std::function<void(const std::filesystem::path&)>& write);

// Produces a whole directory atomically: `write(tmpDir)` fills a fresh temporary
// directory which then replaces `dir` (old contents are removed only afterwards).
void writeDirAtomic(const std::filesystem::path& dir,
                    const std::function<void(const std::filesystem::path&)>& write);

// Prefix of every temporary name, so that leftovers of a killed run can be found.
constexpr std::string_view kTempMarker = ".parallax-tmp-";

// A fresh temporary name beside `path`: <dir>/.parallax-tmp-<name>-<pid>-<counter>.
std::filesystem::path tempSiblingPath(const std::filesystem::path& path);
// The id of the process that made a temporary name (above), or -1 if it is not one.
long tempWriterPid(const std::string& filename);

std::string readFile(const std::filesystem::path& path);

}  // namespace parallax

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "util/error.h"

namespace parallax {

// A flat array file: uint64 count, then the elements as they are in memory (per-point
// sidecars such as fused.ply.conf and labels/*.labels). Written atomically.
template <class T>
void writeArrayFile(const std::filesystem::path& path, const std::vector<T>& values) {
  static_assert(std::is_trivially_copyable_v<T>);
  const uint64_t count = values.size();
  std::string data(reinterpret_cast<const char*>(&count), sizeof(count));
  data.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  writeFileAtomic(path, data);
}

// Reads one; a truncated or foreign file throws Error naming it, what it should be
// (`what`: "a confidence file") and `remedy` ("rerun the fusion stage").
template <class T>
std::vector<T> readArrayFile(const std::filesystem::path& path, const std::string& what,
                             const std::string& remedy) {
  static_assert(std::is_trivially_copyable_v<T>);
  const std::string data = readFile(path);
  uint64_t count = 0;
  if (data.size() >= sizeof(count)) std::memcpy(&count, data.data(), sizeof(count));
  if (data.size() < sizeof(count) || (data.size() - sizeof(count)) / sizeof(T) != count ||
      (data.size() - sizeof(count)) % sizeof(T) != 0)
    throw Error("'" + path.string() + "' is truncated or not " + what + "; " + remedy);
  std::vector<T> out(count);
  std::memcpy(out.data(), data.data() + sizeof(count), count * sizeof(T));
  return out;
}

}  // namespace parallax
