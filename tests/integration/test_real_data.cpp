// Import of the real photo sets in ../shared/data (skipped locally when absent,
// a failure under CI=true): counts, sizes, and that the sets are fully usable.
#include <QtTest>

#include "pipeline/runner.h"
#include "pipeline/stage.h"
#include "test_support.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;

class TestRealData : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { registerBuiltinStages(); }

  void importsEachPhotoSet_data() {
    QTest::addColumn<QString>("folder");
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::newRow("templeSparseRing") << "middlebury_templeSparseRing" << 16 << 640 << 480;
    QTest::newRow("fountain-P11") << "strecha_fountain-P11/images" << 11 << 3072 << 2048;
    QTest::newRow("nerf lego") << "nerf_synthetic_lego_train" << 100 << 800 << 800;
    QTest::newRow("dtu scan24") << "dtu_scan24/images" << 49 << 800 << 600;
  }
  void importsEachPhotoSet() {
    QFETCH(QString, folder);
    QFETCH(int, count);
    QFETCH(int, width);
    QFETCH(int, height);
    PARALLAX_REQUIRE_DATA(data, folder.section('/', 0, 0).toStdString());
    QTemporaryDir tmp;
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    ws.addPhotoRoot(data / folder.section('/', 1).toStdString());
    ws.save();
    auto sink = std::make_shared<CollectingSink>();
    QCOMPARE(int(runStage(ws, "import", sink)), int(RunResult::kSucceeded));
    json photos = json::parse(readFile(ws.root() / "photos.json"));
    QCOMPARE(int(photos["photos"].size()), count);
    QCOMPARE(int(photos["skipped"].size()), 0);
    for (const auto& p : photos["photos"]) {
      QCOMPARE(p["width"].get<int>(), width);
      QCOMPARE(p["height"].get<int>(), height);
    }
  }
};

QTEST_GUILESS_MAIN(TestRealData)
#include "test_real_data.moc"
