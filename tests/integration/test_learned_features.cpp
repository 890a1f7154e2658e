// Learned features through ALIKE (plugin features_alike) with the shared weights: the
// port finds and matches the same points on photos warped by known homographies, a
// half-turn extraction matches upside-down photos, learned features reconstruct the
// temple ring and the sample through the usual matcher and mapper and are stored where
// COLMAP readers that expect SIFT do not see them, another feature type makes the later
// stages stale, and missing weights are a message naming the file while SIFT runs
// instead. Each other feature plugin runs the same checks in its own folder
// (learned_feature_checks.h).

#include <QtTest>
#include <sqlite3.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "features/extract.h"
#include "features/feature_eval.h"
#include "features/matching.h"
#include "io/colmap_model.h"
#include "pipeline/schema.h"
#include "plugin/plugin_manager.h"
#include "sfm/pose_eval.h"
#include "stages/builtin_stages.h"
#include "learned_feature_checks.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;

namespace {

QString path(const fs::path& p) { return QString::fromStdString(p.string()); }

}  // namespace

class TestLearnedFeatures : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    if (!test::setUpLearnedFeatures("alike/alike-n.pt")) return;
  }

  // The port against geometry alone: keypoints found again and matched to the right
  // place on real photos warped by known homographies (mutual nearest neighbours).
  void portMatchesWarpedPhotosAccurately() {
    PARALLAX_REQUIRE_PLUGIN("features_alike");
    test::checkWarpAccuracy("alike", 0.85, 0.8);
  }

  // Learned detectors are not rotation invariant; the half-turn extraction makes an
  // upside-down copy of a photo match it, point for point.
  void halfTurnMatchesUpsideDownPhotos() {
    PARALLAX_REQUIRE_PLUGIN("features_alike");
    test::checkHalfTurn("alike");
  }

  // ALIKE-n through the whole sparse pipeline on the temple ring (which needs the half
  // turn: its far-side photos are upside down); its descriptors stay out of COLMAP's
  // table, and another feature type (SIFT) makes every later stage stale.
  void learnedFeaturesReconstructTheTempleAndAreStoredApart() {
    PARALLAX_REQUIRE_DATA(temple, "middlebury_templeSparseRing");
    PARALLAX_REQUIRE_PLUGIN("features_alike");
    QTemporaryDir tmp;
    const fs::path project = test::tempPath(tmp, "p");
    auto r = test::runCli({"reconstruct", path(temple), path(project), "--until", "sparse",
                           "--set", "features.method=alike"},
                          600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2((r.out + r.err).contains("alike-n keypoints"), qPrintable(r.out + r.err));
    const fs::path db = project / "database.db";
    const long long images = test::sqlCount(db, "SELECT COUNT(*) FROM images;");
    QVERIFY(test::storedAsLearned(db, "alike-n", 128));
    const Reconstruction model = readColmapModel(project / "sparse" / "0");
    model.checkConsistency();
    const PoseEvaluation ev = evaluatePoses(model, readGroundTruthPoses(temple, "middlebury"));
    qInfo("alike-n on templeSparseRing: %zu/%zu registered, AUC@5 %.3f, median rotation %.3f deg",
          ev.registered, ev.total, ev.auc.at(5), ev.median_rotation_error_deg);
    QCOMPARE(ev.registered, size_t(16));
    QVERIFY(ev.auc.at(5) > 0.8);

    // Another feature type makes features and everything after them stale.
    auto s = test::runCli({"set", path(project), "features.method=sift"});
    QVERIFY2(s.exitCode == 0, qPrintable(s.err));
    const auto st = test::runCli({"status", path(project), "--json"});
    const json j = json::parse(st.out.toStdString());
    std::map<std::string, bool> stale;
    for (const auto& x : j["stages"]) stale[x["stage"]] = x["stale"].get<bool>();
    QVERIFY(stale["features"] && stale["matching"] && stale["sparse"]);
    QVERIFY(!stale["import"]);
    r = test::runCli({"run-stage", path(project), "features"}, 600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    // SIFT's descriptors in COLMAP's table; the learned ones are gone.
    QCOMPARE(test::sqlCount(db, "SELECT COUNT(*) FROM descriptors;"), images);
    QCOMPARE(test::sqlCount(db, "SELECT COUNT(*) FROM parallax_descriptors;"), 0LL);
  }

  // The synthetic sample's clear sky: the networks fire near the photo's corners on the
  // smooth gradient, at the same pixels in every photo; those keypoints matched each other
  // as if the camera stood still and ruined the poses (AUC@5 0.2) until flat keypoints
  // were dropped.
  void alikeReconstructsTheSampleUnderItsSky() {
    PARALLAX_REQUIRE_PLUGIN("features_alike");
    QTemporaryDir tmp;
    const fs::path project = test::tempPath(tmp, "p");
    auto r = test::runCli({"reconstruct", path(test::sampleDir() / "images"), path(project),
                           "--until", "ground_truth", "--set", "features.method=alike"},
                          600000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const Reconstruction model = readColmapModel(project / "sparse" / "0");
    const PoseEvaluation ev =
        evaluatePoses(model, readGroundTruthPoses(project / "reference" / "sparse", "colmap"));
    qInfo("alike-n on the sample: %zu/%zu registered, AUC@5 %.3f, median rotation %.3f deg",
          ev.registered, ev.total, ev.auc.at(5), ev.median_rotation_error_deg);
    QCOMPARE(ev.registered, ev.total);
    QVERIFY(ev.auc.at(5) > 0.8);
  }

  void missingWeightsNameTheFileAndSiftRuns() {
    PARALLAX_REQUIRE_PLUGIN("features_alike");
    QTemporaryDir tmp;
    const fs::path empty = test::tempPath(tmp, "no-models");
    fs::create_directories(empty);
    const QByteArray saved = qgetenv("PARALLAX_MODELS");
    qputenv("PARALLAX_MODELS", QByteArray::fromStdString(empty.string()));
    const QByteArray home = qgetenv("HOME");
    qputenv("HOME", QByteArray::fromStdString(empty.string()));
    const fs::path project = test::tempPath(tmp, "p");
    auto r = test::runCli({"reconstruct", path(test::sampleDir() / "images"), path(project),
                           "--until", "matching", "--set", "features.method=alike"},
                          600000);
    qputenv("PARALLAX_MODELS", saved);
    qputenv("HOME", home);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("alike/alike-n.pt") && r.err.contains("was not found") &&
                 r.err.contains("Using SIFT (features.sift) instead"),
             qPrintable(r.err));
    QVERIFY2((r.out + r.err).contains("rootsift keypoints"), qPrintable(r.out + r.err));
    const fs::path db = project / "database.db";
    QVERIFY(test::sqlCount(db, "SELECT COUNT(*) FROM two_view_geometries WHERE rows > 0;") > 10);
  }
};

QTEST_GUILESS_MAIN(TestLearnedFeatures)
#include "test_learned_features.moc"
