// The COLMAP feature database (database.db) with COLMAP 3.8's exact schema, so
// that `colmap` can open a Parallax project's database and vice versa.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "geometry/camera.h"
#include "scene/feature_types.h"

struct sqlite3;

namespace parallax {

// COLMAP's pair identifier: 2147483647 * smaller id + larger id.
uint64_t pairId(uint32_t image_id1, uint32_t image_id2);

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

  // Features. Parallax records the feature type per image in a side table
  // (parallax_features) so that readers expecting SIFT are not misled.
  void clearFeatures();  // keypoints, descriptors, matches and two-view geometries
  void clearMatches();   // matches and two-view geometries
  void writeFeatures(uint32_t image_id, const std::vector<FeatureKeypoint>& keypoints,
                     const FeatureDescriptors& descriptors, const std::string& type);
  std::vector<FeatureKeypoint> readKeypoints(uint32_t image_id) const;
  FeatureDescriptors readDescriptors(uint32_t image_id) const;
  std::string featureType(uint32_t image_id) const;
  // "uint8" (SIFT, COLMAP's table) or "float32" (learned, parallax_descriptors); "" if none.
  std::string descriptorType(uint32_t image_id) const;
  size_t numKeypoints() const;

  // Matches and verified geometries of a pair, stored under COLMAP's pair id
  // (columns swapped when image_id1 > image_id2, as COLMAP does).
  void writeMatches(uint32_t image_id1, uint32_t image_id2, const FeatureMatches& matches);
  void writeTwoViewGeometry(uint32_t image_id1, uint32_t image_id2,
                            const TwoViewGeometry& geometry);
  FeatureMatches readMatches(uint32_t image_id1, uint32_t image_id2) const;
  TwoViewGeometry readTwoViewGeometry(uint32_t image_id1, uint32_t image_id2) const;
  // Pairs whose geometry has at least one inlier.
  size_t numVerifiedPairs() const;
  // Their image ids (smaller first).
  std::vector<std::pair<uint32_t, uint32_t>> verifiedPairs() const;

  void beginTransaction();
  void commit();

 private:
  void exec(const std::string& sql) const;
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

}  // namespace parallax
