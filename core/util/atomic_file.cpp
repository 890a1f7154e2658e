#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax {

fs::path tempSiblingPath(const fs::path& path) {
  static std::atomic<int> counter{0};
  std::string name = std::string(kTempMarker) + path.filename().string() + "-" +
                     std::to_string(::getpid()) + "-" + std::to_string(counter++);
  return path.parent_path() / name;
}

long tempWriterPid(const std::string& filename) {
  if (filename.rfind(kTempMarker, 0) != 0) return -1;
  size_t counterDash = filename.rfind('-');
  if (counterDash == std::string::npos || counterDash == 0) return -1;
  size_t pidDash = filename.rfind('-', counterDash - 1);
  if (pidDash == std::string::npos) return -1;
  const std::string pid = filename.substr(pidDash + 1, counterDash - pidDash - 1);
  if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stol(pid);
}

namespace {

void syncPath(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void writeViaTemp(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
  fs::path tmp = tempSiblingPath(path);
  try {
    write(tmp);
    syncPath(tmp);
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  syncPath(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

void writeFileAtomic(const fs::path& path, std::string_view contents) {
  writeViaTemp(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) throw Error("cannot write '" + path.string() + "' (disk full or no permission?)");
  });
}

void writeDirAtomic(const fs::path& dir, const std::function<void(const fs::path&)>& write) {
  fs::create_directories(dir.parent_path());
  fs::path tmp = tempSiblingPath(dir);
  fs::path old = tempSiblingPath(dir.parent_path() / (dir.filename().string() + ".old"));
  fs::create_directories(tmp);
  try {
    write(tmp);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
  // Two renames: a crash between them leaves the old outputs under `old`, which
  // Workspace::open() reports and restores.
  bool hadOld = fs::exists(dir);
  if (hadOld) fs::rename(dir, old);
  fs::rename(tmp, dir);
  if (hadOld) fs::remove_all(old);
  syncPath(dir.parent_path());
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot read '" + path.string() +
                "': " + (fs::exists(path) ? "permission denied" : "no such file"));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace parallax
