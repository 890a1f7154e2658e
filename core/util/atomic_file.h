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
