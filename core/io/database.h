// The COLMAP feature database (database.db) with COLMAP 3.8's exact schema, so
// that `colmap` can open a Parallax project's database and vice versa.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "geometry/camera.h"

struct sqlite3;

namespace parallax {

struct DatabaseImage {
  uint32_t image_id = 0;
  std::string name;
  uint32_t camera_id = 0;
};

class Database {
 public:
  // Opens (creating the schema if needed). Throws Error when the file is not a database.
  explicit Database(const std::filesystem::path& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  uint32_t addCamera(const Camera& camera);
  uint32_t addImage(const std::string& name, uint32_t camera_id);
  std::vector<Camera> readCameras() const;
  std::vector<DatabaseImage> readImages() const;
  size_t numImages() const;

  void beginTransaction();
  void commit();

 private:
  void exec(const std::string& sql) const;
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

}  // namespace parallax
