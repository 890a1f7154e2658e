#include "io/database.h"

#include <sqlite3.h>

#include <cmath>
#include <cstring>

#include "util/error.h"

namespace parallax {
namespace {

const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS cameras (camera_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, model INTEGER NOT NULL,
  width INTEGER NOT NULL, height INTEGER NOT NULL, params BLOB, prior_focal_length INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS images (image_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name TEXT NOT NULL UNIQUE,
  camera_id INTEGER NOT NULL, prior_qw REAL, prior_qx REAL, prior_qy REAL, prior_qz REAL, prior_tx REAL,
  prior_ty REAL, prior_tz REAL, CONSTRAINT image_id_check CHECK(image_id >= 0 and image_id < 2147483647),
  FOREIGN KEY(camera_id) REFERENCES cameras(camera_id));
CREATE UNIQUE INDEX IF NOT EXISTS index_name ON images(name);
CREATE TABLE IF NOT EXISTS keypoints (image_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL,
  cols INTEGER NOT NULL, data BLOB, FOREIGN KEY(image_id) REFERENCES images(image_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS descriptors (image_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL,
  cols INTEGER NOT NULL, data BLOB, FOREIGN KEY(image_id) REFERENCES images(image_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS matches (pair_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL,
  cols INTEGER NOT NULL, data BLOB);
CREATE TABLE IF NOT EXISTS parallax_features (image_id INTEGER PRIMARY KEY NOT NULL, type TEXT NOT NULL,
  descriptor_dim INTEGER NOT NULL, descriptor_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parallax_descriptors (image_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL,
  cols INTEGER NOT NULL, data BLOB, FOREIGN KEY(image_id) REFERENCES images(image_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS two_view_geometries (pair_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL,
  cols INTEGER NOT NULL, data BLOB, config INTEGER NOT NULL, F BLOB, E BLOB, H BLOB, qvec BLOB, tvec BLOB);
)SQL";

struct Statement {
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
      throw Error(std::string("database error: ") + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt); }
  sqlite3_stmt* stmt = nullptr;
};

}  // namespace

Database::Database(const std::filesystem::path& path) : path_(path) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw Error("cannot open database '" + path.string() + "': " + msg);
  }
  try {
    exec(kSchema);
  } catch (const Error& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("'" + path.string() + "' is not a usable COLMAP database (" + e.what() +
                "); remove it and run the import stage again");
  }
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error("database error: " + msg);
  }
}

void Database::beginTransaction() { exec("BEGIN TRANSACTION;"); }
void Database::commit() { exec("COMMIT;"); }

uint32_t Database::addCamera(const Camera& camera) {
  Statement s(db_,
              "INSERT INTO cameras(model, width, height, params, prior_focal_length) VALUES(?, ?, "
              "?, ?, ?);");
  sqlite3_bind_int(s.stmt, 1, camera.model_id);
  sqlite3_bind_int64(s.stmt, 2, camera.width);
  sqlite3_bind_int64(s.stmt, 3, camera.height);
  sqlite3_bind_blob(s.stmt, 4, camera.params.data(), int(camera.params.size() * sizeof(double)),
                    SQLITE_TRANSIENT);
  sqlite3_bind_int(s.stmt, 5, camera.has_prior_focal_length ? 1 : 0);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    throw Error(std::string("database error: ") + sqlite3_errmsg(db_));
  return uint32_t(sqlite3_last_insert_rowid(db_));
}

uint32_t Database::addImage(const std::string& name, uint32_t camera_id) {
  Statement s(db_, "INSERT INTO images(name, camera_id) VALUES(?, ?);");
  sqlite3_bind_text(s.stmt, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.stmt, 2, camera_id);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    throw Error(std::string("database error: ") + sqlite3_errmsg(db_));
  return uint32_t(sqlite3_last_insert_rowid(db_));
}

void Database::clearFeatures() {
  exec(
      "DELETE FROM keypoints; DELETE FROM descriptors; DELETE FROM matches; DELETE FROM "
      "two_view_geometries;"
      " DELETE FROM parallax_features; DELETE FROM parallax_descriptors;");
}

namespace {
void insertBlob(sqlite3* db, const char* table, uint32_t image_id, int rows, int cols,
                const void* data, size_t bytes) {
  std::string sql = std::string("INSERT OR REPLACE INTO ") + table +
                    "(image_id, rows, cols, data) VALUES(?, ?, ?, ?);";
  Statement s(db, sql.c_str());
  sqlite3_bind_int64(s.stmt, 1, image_id);
  sqlite3_bind_int64(s.stmt, 2, rows);
  sqlite3_bind_int64(s.stmt, 3, cols);
  sqlite3_bind_blob(s.stmt, 4, data, int(bytes), SQLITE_STATIC);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    throw Error(std::string("database error: ") + sqlite3_errmsg(db));
}

// Reads (rows, cols, blob) of one image from keypoints or descriptors.
bool selectBlob(sqlite3* db, const char* table, uint32_t image_id, int* rows, int* cols,
                std::vector<uint8_t>* data) {
  std::string sql = std::string("SELECT rows, cols, data FROM ") + table + " WHERE image_id = ?;";
  Statement s(db, sql.c_str());
  sqlite3_bind_int64(s.stmt, 1, image_id);
  if (sqlite3_step(s.stmt) != SQLITE_ROW) return false;
  *rows = sqlite3_column_int(s.stmt, 0);
  *cols = sqlite3_column_int(s.stmt, 1);
  const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(s.stmt, 2));
  data->assign(blob, blob + sqlite3_column_bytes(s.stmt, 2));
  return true;
}
}  // namespace

void Database::clearMatches() { exec("DELETE FROM matches; DELETE FROM two_view_geometries;"); }

void Database::writeFeatures(uint32_t image_id, const std::vector<FeatureKeypoint>& keypoints,
                             const FeatureDescriptors& descriptors, const std::string& type) {
  static_assert(sizeof(FeatureKeypoint) == 6 * sizeof(float),
                "COLMAP stores 6 floats per keypoint");
  insertBlob(db_, "keypoints", image_id, int(keypoints.size()), 6, keypoints.data(),
             keypoints.size() * sizeof(FeatureKeypoint));
  // Learned float descriptors go to their own table, and COLMAP's holds no row for the
  // photo (as hloc leaves it): keypoints and matches stay readable by COLMAP, and nothing
  // there looks like SIFT that is not.
  const bool isFloat = descriptors.isFloat();
  if (isFloat) {
    if (descriptors.values.size() != size_t(descriptors.rows) * size_t(descriptors.cols))
      throw Error("internal error: descriptor matrix size does not match its rows and columns");
    insertBlob(db_, "parallax_descriptors", image_id, descriptors.rows, descriptors.cols,
               descriptors.values.data(), descriptors.values.size() * sizeof(float));
    Statement del(db_, "DELETE FROM descriptors WHERE image_id = ?;");
    sqlite3_bind_int64(del.stmt, 1, image_id);
    sqlite3_step(del.stmt);
  } else {
    insertBlob(db_, "descriptors", image_id, descriptors.rows, descriptors.cols,
               descriptors.data.data(), descriptors.data.size());
    Statement del(db_, "DELETE FROM parallax_descriptors WHERE image_id = ?;");
    sqlite3_bind_int64(del.stmt, 1, image_id);
    sqlite3_step(del.stmt);
  }
  Statement s(
      db_,
      "INSERT OR REPLACE INTO parallax_features(image_id, type, descriptor_dim, descriptor_type) "
      "VALUES(?, ?, ?, ?);");
  sqlite3_bind_int64(s.stmt, 1, image_id);
  sqlite3_bind_text(s.stmt, 2, type.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.stmt, 3, descriptors.cols);
  sqlite3_bind_text(s.stmt, 4, isFloat ? "float32" : "uint8", -1, SQLITE_STATIC);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    throw Error(std::string("database error: ") + sqlite3_errmsg(db_));
}

std::vector<FeatureKeypoint> Database::readKeypoints(uint32_t image_id) const {
  int rows = 0, cols = 0;
  std::vector<uint8_t> blob;
  std::vector<FeatureKeypoint> out;
  if (!selectBlob(db_, "keypoints", image_id, &rows, &cols, &blob)) return out;
  out.resize(size_t(rows));
  for (int r = 0; r < rows; ++r) {
    float v[6] = {0, 0, 1,
                  0, 0, 1};  // COLMAP also allows 2 (x, y) or 4 (x, y, scale, orientation) columns
    std::memcpy(v, blob.data() + size_t(r) * cols * sizeof(float),
                size_t(std::min(cols, 6)) * sizeof(float));
    if (cols == 4) {
      float sc = v[2], o = v[3];
      v[2] = sc * std::cos(o), v[3] = -sc * std::sin(o), v[4] = sc * std::sin(o),
      v[5] = sc * std::cos(o);
    }
    out[r] = {v[0], v[1], v[2], v[3], v[4], v[5]};
  }
  return out;
}

FeatureDescriptors Database::readDescriptors(uint32_t image_id) const {
  FeatureDescriptors d;
  if (descriptorType(image_id) == "float32") {
    std::vector<uint8_t> blob;
    if (!selectBlob(db_, "parallax_descriptors", image_id, &d.rows, &d.cols, &blob)) return d;
    const size_t n = size_t(d.rows) * size_t(d.cols);
    if (blob.size() != n * sizeof(float))
      throw Error("database.db: the learned descriptors of image " + std::to_string(image_id) +
                  " are truncated; run the features stage again");
    d.values.resize(n);
    std::memcpy(d.values.data(), blob.data(), blob.size());
    return d;
  }
  selectBlob(db_, "descriptors", image_id, &d.rows, &d.cols, &d.data);
  return d;
}

std::string Database::descriptorType(uint32_t image_id) const {
  Statement s(db_, "SELECT descriptor_type FROM parallax_features WHERE image_id = ?;");
  sqlite3_bind_int64(s.stmt, 1, image_id);
  if (sqlite3_step(s.stmt) != SQLITE_ROW) return "";
  return reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, 0));
}

std::string Database::featureType(uint32_t image_id) const {
  Statement s(db_, "SELECT type FROM parallax_features WHERE image_id = ?;");
  sqlite3_bind_int64(s.stmt, 1, image_id);
  if (sqlite3_step(s.stmt) != SQLITE_ROW) return "";
  return reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, 0));
}

uint64_t pairId(uint32_t a, uint32_t b) {
  if (a > b) std::swap(a, b);
  return uint64_t(2147483647) * a + b;
}

namespace {
std::vector<uint32_t> flattenMatches(uint32_t id1, uint32_t id2, const FeatureMatches& m) {
  std::vector<uint32_t> flat;
  flat.reserve(m.size() * 2);
  for (const auto& [a, b] : m) {
    flat.push_back(id1 <= id2 ? a : b);
    flat.push_back(id1 <= id2 ? b : a);
  }
  return flat;
}

FeatureMatches unflattenMatches(uint32_t id1, uint32_t id2, const void* blob, int rows) {
  FeatureMatches m(size_t(std::max(rows, 0)));
  const auto* v = static_cast<const uint32_t*>(blob);
  for (int r = 0; r < rows; ++r)
    m[size_t(r)] = id1 <= id2 ? std::make_pair(v[2 * r], v[2 * r + 1])
                              : std::make_pair(v[2 * r + 1], v[2 * r]);
  return m;
}

void bindMatrix(sqlite3_stmt* s, int index, const Eigen::Matrix3d& m) {
  Eigen::Matrix<double, 3, 3, Eigen::RowMajor> row = m;
  sqlite3_bind_blob(s, index, row.data(), int(9 * sizeof(double)), SQLITE_TRANSIENT);
}

Eigen::Matrix3d columnMatrix(sqlite3_stmt* s, int index) {
  Eigen::Matrix<double, 3, 3, Eigen::RowMajor> row = Eigen::Matrix3d::Zero();
  if (sqlite3_column_bytes(s, index) == int(9 * sizeof(double)))
    std::memcpy(row.data(), sqlite3_column_blob(s, index), 9 * sizeof(double));
  return row;
}
}  // namespace

void Database::writeMatches(uint32_t id1, uint32_t id2, const FeatureMatches& matches) {
  std::vector<uint32_t> flat = flattenMatches(id1, id2, matches);
  Statement s(db_, "INSERT OR REPLACE INTO matches(pair_id, rows, cols, data) VALUES(?, ?, 2, ?);");
  sqlite3_bind_int64(s.stmt, 1, sqlite3_int64(pairId(id1, id2)));
  sqlite3_bind_int64(s.stmt, 2, sqlite3_int64(matches.size()));
  sqlite3_bind_blob(s.stmt, 3, flat.data(), int(flat.size() * sizeof(uint32_t)), SQLITE_STATIC);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    throw Error(std::string("database error: ") + sqlite3_errmsg(db_));
}

void Database::writeTwoViewGeometry(uint32_t id1, uint32_t id2, const TwoViewGeometry& g) {
  std::vector<uint32_t> flat = flattenMatches(id1, id2, g.inliers);
  // Stored as seen from the smaller image id, like COLMAP: invert when swapped.
  Eigen::Quaterniond q = g.cam2_from_cam1_rotation;
  Eigen::Vector3d t = g.cam2_from_cam1_translation;
  Eigen::Matrix3d F = g.F, E = g.E, H = g.H;
  if (id1 > id2) {
    q = q.conjugate();
    t = -(q * t);
    F.transposeInPlace();
    E.transposeInPlace();
    if (std::abs(H.determinant()) > 1e-12) H = H.inverse().eval();
  }
  Statement s(db_,
              "INSERT OR REPLACE INTO two_view_geometries(pair_id, rows, cols, data, config, F, E, "
              "H, qvec, tvec) "
              "VALUES(?, ?, 2, ?, ?, ?, ?, ?, ?, ?);");
  sqlite3_bind_int64(s.stmt, 1, sqlite3_int64(pairId(id1, id2)));
  sqlite3_bind_int64(s.stmt, 2, sqlite3_int64(g.inliers.size()));
  sqlite3_bind_blob(s.stmt, 3, flat.data(), int(flat.size() * sizeof(uint32_t)), SQLITE_STATIC);
  sqlite3_bind_int(s.stmt, 4, g.config);
  bindMatrix(s.stmt, 5, F);
  bindMatrix(s.stmt, 6, E);
  bindMatrix(s.stmt, 7, H);
  const double qvec[4] = {q.w(), q.x(), q.y(), q.z()};
  sqlite3_bind_blob(s.stmt, 8, qvec, int(sizeof qvec), SQLITE_TRANSIENT);
  sqlite3_bind_blob(s.stmt, 9, t.data(), int(3 * sizeof(double)), SQLITE_TRANSIENT);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    throw Error(std::string("database error: ") + sqlite3_errmsg(db_));
}

FeatureMatches Database::readMatches(uint32_t id1, uint32_t id2) const {
  Statement s(db_, "SELECT rows, data FROM matches WHERE pair_id = ?;");
  sqlite3_bind_int64(s.stmt, 1, sqlite3_int64(pairId(id1, id2)));
  if (sqlite3_step(s.stmt) != SQLITE_ROW) return {};
  return unflattenMatches(id1, id2, sqlite3_column_blob(s.stmt, 1), sqlite3_column_int(s.stmt, 0));
}

TwoViewGeometry Database::readTwoViewGeometry(uint32_t id1, uint32_t id2) const {
  Statement s(
      db_,
      "SELECT rows, data, config, F, E, H, qvec, tvec FROM two_view_geometries WHERE pair_id = ?;");
  sqlite3_bind_int64(s.stmt, 1, sqlite3_int64(pairId(id1, id2)));
  TwoViewGeometry g;
  if (sqlite3_step(s.stmt) != SQLITE_ROW) return g;
  g.inliers =
      unflattenMatches(id1, id2, sqlite3_column_blob(s.stmt, 1), sqlite3_column_int(s.stmt, 0));
  g.config = sqlite3_column_int(s.stmt, 2);
  g.F = columnMatrix(s.stmt, 3);
  g.E = columnMatrix(s.stmt, 4);
  g.H = columnMatrix(s.stmt, 5);
  if (sqlite3_column_bytes(s.stmt, 6) == int(4 * sizeof(double))) {
    const auto* q = static_cast<const double*>(sqlite3_column_blob(s.stmt, 6));
    g.cam2_from_cam1_rotation = Eigen::Quaterniond(q[0], q[1], q[2], q[3]);
  }
  if (sqlite3_column_bytes(s.stmt, 7) == int(3 * sizeof(double)))
    std::memcpy(g.cam2_from_cam1_translation.data(), sqlite3_column_blob(s.stmt, 7),
                3 * sizeof(double));
  if (id1 > id2) {  // back to the caller's order
    g.cam2_from_cam1_rotation = g.cam2_from_cam1_rotation.conjugate();
    g.cam2_from_cam1_translation = -(g.cam2_from_cam1_rotation * g.cam2_from_cam1_translation);
    g.F.transposeInPlace();
    g.E.transposeInPlace();
    if (std::abs(g.H.determinant()) > 1e-12) g.H = g.H.inverse().eval();
  }
  return g;
}

size_t Database::numVerifiedPairs() const {
  Statement s(db_, "SELECT COUNT(*) FROM two_view_geometries WHERE rows > 0;");
  sqlite3_step(s.stmt);
  return size_t(sqlite3_column_int64(s.stmt, 0));
}

std::vector<std::pair<uint32_t, uint32_t>> Database::verifiedPairs() const {
  Statement s(db_, "SELECT pair_id FROM two_view_geometries WHERE rows > 0 ORDER BY pair_id;");
  std::vector<std::pair<uint32_t, uint32_t>> out;
  constexpr uint64_t kMaxImageId = 2147483647;
  while (sqlite3_step(s.stmt) == SQLITE_ROW) {
    const auto id = uint64_t(sqlite3_column_int64(s.stmt, 0));
    out.emplace_back(uint32_t(id / kMaxImageId), uint32_t(id % kMaxImageId));
  }
  return out;
}

size_t Database::numKeypoints() const {
  Statement s(db_, "SELECT COALESCE(SUM(rows), 0) FROM keypoints;");
  sqlite3_step(s.stmt);
  return size_t(sqlite3_column_int64(s.stmt, 0));
}

std::vector<Camera> Database::readCameras() const {
  Statement s(db_,
              "SELECT camera_id, model, width, height, params, prior_focal_length FROM cameras;");
  std::vector<Camera> out;
  while (sqlite3_step(s.stmt) == SQLITE_ROW) {
    Camera c;
    c.camera_id = uint32_t(sqlite3_column_int64(s.stmt, 0));
    c.model_id = sqlite3_column_int(s.stmt, 1);
    c.width = int(sqlite3_column_int64(s.stmt, 2));
    c.height = int(sqlite3_column_int64(s.stmt, 3));
    const auto* blob = static_cast<const double*>(sqlite3_column_blob(s.stmt, 4));
    int n = sqlite3_column_bytes(s.stmt, 4) / int(sizeof(double));
    c.params.assign(blob, blob + n);
    c.has_prior_focal_length = sqlite3_column_int(s.stmt, 5) != 0;
    out.push_back(c);
  }
  return out;
}

std::vector<DatabaseImage> Database::readImages() const {
  Statement s(db_, "SELECT image_id, name, camera_id FROM images ORDER BY image_id;");
  std::vector<DatabaseImage> out;
  while (sqlite3_step(s.stmt) == SQLITE_ROW) {
    DatabaseImage im;
    im.image_id = uint32_t(sqlite3_column_int64(s.stmt, 0));
    im.name = reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, 1));
    im.camera_id = uint32_t(sqlite3_column_int64(s.stmt, 2));
    out.push_back(im);
  }
  return out;
}

size_t Database::numImages() const {
  Statement s(db_, "SELECT COUNT(*) FROM images;");
  sqlite3_step(s.stmt);
  return size_t(sqlite3_column_int64(s.stmt, 0));
}

}  // namespace parallax
