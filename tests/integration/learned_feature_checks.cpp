#include "learned_feature_checks.h"

#include <QtTest>
#include <sqlite3.h>

#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "features/extract.h"
#include "features/feature_eval.h"
#include "features/matching.h"
#include "pipeline/schema.h"
#include "plugin/plugin_manager.h"
#include "stages/builtin_stages.h"
#include "test_support.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax::test {

bool setUpLearnedFeatures(const QString& weightFile) {
  QString models = qEnvironmentVariable("PARALLAX_MODELS");
  if (models.isEmpty()) models = qEnvironmentVariable("PARALLAX_MODELS_DEFAULT");
  if (!QFile::exists(models + "/" + weightFile)) {
    const QString why = weightFile + " not found in PARALLAX_MODELS ('" + models + "')";
    if (underCI()) QTest::qFail(qPrintable(why), __FILE__, __LINE__);
    else QTest::qSkip(qPrintable(why), __FILE__, __LINE__);
    return false;
  }
  qputenv("PARALLAX_MODELS", models.toUtf8());
  qputenv("PARALLAX_PLUGIN_PATH", qgetenv("PARALLAX_PLUGIN_DIR"));
  registerBuiltinStages();
  PluginManager::instance().loadDefault();
  return true;
}

json featureParams(const std::string& method) {
  json p = Schema::instance().requireStage("features").defaults();
  p["method"] = method;
  return p;
}

std::vector<cv::Mat> realPhotos(const fs::path& temple, const fs::path& fountain) {
  std::vector<cv::Mat> photos;
  for (const char* name : {"templeSR0001.png", "templeSR0006.png", "templeSR0011.png"})
    photos.push_back(cv::imread((temple / name).string(), cv::IMREAD_COLOR));
  for (const char* name : {"0000.jpg", "0005.jpg", "0010.jpg"}) {
    cv::Mat m = cv::imread((fountain / "images" / name).string(), cv::IMREAD_COLOR);
    if (!m.empty()) cv::resize(m, m, cv::Size(640, 427), 0, 0, cv::INTER_AREA);
    photos.push_back(m);
  }
  return photos;
}

long long sqlCount(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.string().c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  long long n = -1;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(h);
  return n;
}

bool storedAsLearned(const fs::path& db, const std::string& type, int dims) {
  const long long images = sqlCount(db, "SELECT COUNT(*) FROM images;");
  return sqlCount(db, "SELECT COUNT(*) FROM parallax_descriptors WHERE cols = " + std::to_string(dims) + ";") ==
             images &&
         sqlCount(db, "SELECT COUNT(*) FROM descriptors;") == 0 &&
         sqlCount(db, "SELECT COUNT(*) FROM parallax_features WHERE type = '" + type +
                          "' AND descriptor_dim = " + std::to_string(dims) + " AND descriptor_type = 'float32';") ==
             images &&
         sqlCount(db, "SELECT COUNT(*) FROM keypoints WHERE rows > 100;") == images;
}

void checkWarpAccuracy(const std::string& method, double minMma3, double minRepeat) {
  PARALLAX_REQUIRE_DATA(temple, "middlebury_templeSparseRing");
  PARALLAX_REQUIRE_DATA(fountain, "strecha_fountain-P11");
  const std::vector<cv::Mat> photos = realPhotos(temple, fountain);
  for (const cv::Mat& m : photos) QVERIFY(!m.empty());
  json p = featureParams(method);
  p["learned_rotations"] = "none";
  WarpEvalOptions o;
  o.pairs = 6;
  const WarpEvalResult r = evaluateOnWarps(photos, method, p,
                                           matchOptionsFor(method, Schema::instance().requireStage("matching").defaults()), o);
  qInfo("%s: %.0f keypoints, repeatability %.3f, MMA@1/3/5 %.3f %.3f %.3f, %.0f mutual NN, %.1f ms", method.c_str(),
        r.mean_keypoints, r.repeatability, r.mma.at(1), r.mma.at(3), r.mma.at(5), r.mean_matches, r.extract_ms);
  QVERIFY2(r.mean_keypoints >= 300, qPrintable(QString::number(r.mean_keypoints)));
  QVERIFY2(r.mma.at(3) >= minMma3, qPrintable(QString::number(r.mma.at(3))));
  QVERIFY2(r.repeatability >= minRepeat, qPrintable(QString::number(r.repeatability)));
  QVERIFY(r.mma.at(1) <= r.mma.at(3) && r.mma.at(3) <= r.mma.at(5));

  // Unit descriptors, keypoints inside the photo, strongest first capped at the limit.
  p["max_num_features"] = 500;
  const PhotoFeatures f = extractPhotoFeatures(method, photos[0], p);
  QVERIFY(f.descriptors.isFloat());
  QCOMPARE(size_t(f.descriptors.rows), f.keypoints.size());
  QVERIFY(f.keypoints.size() <= 500 && f.keypoints.size() >= 100);
  for (int i = 0; i < f.descriptors.rows; ++i) {
    double n = 0;
    for (int k = 0; k < f.descriptors.cols; ++k) n += std::pow(f.descriptors.values[size_t(i * f.descriptors.cols + k)], 2);
    QVERIFY(std::abs(n - 1.0) < 1e-4);
    QVERIFY(f.keypoints[size_t(i)].x >= 0 && f.keypoints[size_t(i)].x <= photos[0].cols);
    QVERIFY(f.keypoints[size_t(i)].y >= 0 && f.keypoints[size_t(i)].y <= photos[0].rows);
  }
}

void checkHalfTurn(const std::string& method) {
  PARALLAX_REQUIRE_DATA(temple, "middlebury_templeSparseRing");
  const cv::Mat a = cv::imread((temple / "templeSR0003.png").string(), cv::IMREAD_COLOR);
  QVERIFY(!a.empty());
  cv::Mat b;
  cv::rotate(a, b, cv::ROTATE_180);
  const MatchOptions match = matchOptionsFor(method, Schema::instance().requireStage("matching").defaults());
  auto correct = [&](const std::string& turns) {
    json p = featureParams(method);
    p["learned_rotations"] = turns;
    const PhotoFeatures fa = extractPhotoFeatures(method, a, p), fb = extractPhotoFeatures(method, b, p);
    size_t good = 0;
    for (const auto& [i, j] : matchDescriptors(fa.descriptors, fb.descriptors, match)) {
      const double x = a.cols - fb.keypoints[j].x, y = a.rows - fb.keypoints[j].y;
      good += std::hypot(x - fa.keypoints[i].x, y - fa.keypoints[i].y) <= 3.0;
    }
    return good;
  };
  const size_t upright = correct("none"), turned = correct("half-turn");
  qInfo("%s: %zu correct matches upright only, %zu with the half turn", method.c_str(), upright, turned);
  QVERIFY2(turned >= 200 && turned >= 5 * std::max<size_t>(upright, 1),
           qPrintable(QString("%1 vs %2").arg(turned).arg(upright)));
}

}  // namespace parallax::test
