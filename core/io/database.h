// The COLMAP feature database (database.db) with COLMAP 3.8's exact schema, so
// that `colmap` can open a Parallax project's database and vice versa.
#pragma once

#include <Eigen/Geometry>
#include <filesystem>
#include <string>
#include <vector>

#include "geometry/camera.h"

struct sqlite3;

namespace parallax {

// COLMAP's keypoint layout: x, y (pixel centres at +0.5) and the affine shape a11 a12 a21 a22.
struct FeatureKeypoint {
  float x = 0, y = 0;
  float a11 = 1, a12 = 0, a21 = 0, a22 = 1;
  float scale() const;
  float orientation() const;
};

// Descriptors of one photo, row-major rows x cols. SIFT: uint8 in `data` (COLMAP's
// format: unit vectors scaled by 512). Learned features (ALIKE, XFeat): unit-length
// float32 in `values`; the database keeps those in parallax_descriptors, not in
// COLMAP's descriptors table, so readers that expect SIFT never see them.
struct FeatureDescriptors {
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> data;
  std::vector<float> values;
  bool isFloat() const { return !values.empty(); }
};

using FeatureMatches =
    std::vector<std::pair<uint32_t, uint32_t>>;  // (index in image 1, index in image 2)

// COLMAP's TwoViewGeometry::ConfigurationType values.
enum TwoViewConfig : int {
  kUndefined = 0,
  kDegenerate = 1,
  kCalibrated = 2,
  kUncalibrated = 3,
  kPlanar = 4,
  kPanoramic = 5,
  kPlanarOrPanoramic = 6,
};

struct TwoViewGeometry {
  int config = kUndefined;
  FeatureMatches inliers;
  Eigen::Matrix3d F = Eigen::Matrix3d::Zero(), E = Eigen::Matrix3d::Zero(),
                  H = Eigen::Matrix3d::Zero();
  Eigen::Quaterniond cam2_from_cam1_rotation = Eigen::Quaterniond::Identity();
  Eigen::Vector3d cam2_from_cam1_translation = Eigen::Vector3d::Zero();
};

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
