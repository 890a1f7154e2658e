// util/: atomic writes, hashing, parallelFor, cancellation, event throttling.
#include <QtTest>

#include <chrono>
#include <thread>
#include <atomic>
#include <fstream>

#include "test_support.h"
#include "util/atomic_file.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/events.h"
#include "util/hash.h"
#include "util/parallel.h"

namespace fs = std::filesystem;
using namespace parallax;

class TestUtil : public QObject {
  Q_OBJECT
 private slots:
  void atomicWriteReplacesWholeFile() {
    QTemporaryDir tmp;
    fs::path f = test::tempPath(tmp, "a.txt");
    writeFileAtomic(f, "first version");
    writeFileAtomic(f, "second");
    QCOMPARE(QString::fromStdString(readFile(f)), QString("second"));
    for (const auto& e : fs::directory_iterator(f.parent_path()))
      QVERIFY2(e.path().filename().string().find(kTempMarker) == std::string::npos,
               "temporary file left behind");
  }

  void failedWriterLeavesOldFileAndNoTemp() {
    QTemporaryDir tmp;
    fs::path f = test::tempPath(tmp, "b.txt");
    writeFileAtomic(f, "keep me");
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, writeViaTemp(f, [](const fs::path& t) {
                               std::ofstream(t) << "half";
                               throw std::runtime_error("disk on fire");
                             }));
    QCOMPARE(QString::fromStdString(readFile(f)), QString("keep me"));
    QCOMPARE(std::distance(fs::directory_iterator(f.parent_path()), fs::directory_iterator()), 1);
  }

  void atomicDirectorySwap() {
    QTemporaryDir tmp;
    fs::path d = test::tempPath(tmp, "model");
    writeDirAtomic(d, [](const fs::path& t) { std::ofstream(t / "x") << "1"; });
    writeDirAtomic(d, [](const fs::path& t) { std::ofstream(t / "y") << "2"; });
    QVERIFY(fs::exists(d / "y"));
    QVERIFY(!fs::exists(d / "x"));
    QVERIFY_THROWS_EXCEPTION(Error,
                             writeDirAtomic(d, [](const fs::path&) { throw Error("boom"); }));
    QVERIFY2(fs::exists(d / "y"), "a failed write must keep the previous folder");
  }

  void readMissingFileNamesIt() {
    try {
      readFile("/nonexistent/parallax.json");
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY(QString(e.what()).contains("/nonexistent/parallax.json"));
    }
  }

  void hashIsContentBased() {
    QCOMPARE(hashHex("abc"), hashHex("abc"));
    QVERIFY(hashHex("abc") != hashHex("abd"));
    QVERIFY(hashHex("") != hashHex(std::string(1, '\0')));
  }

  void parallelForVisitsEveryIndexOnce() {
    std::vector<std::atomic<int>> hits(1000);
    parallelFor(
        hits.size(), [&](size_t i) { hits[i]++; }, 4);
    for (auto& h : hits) QCOMPARE(h.load(), 1);
  }

  void parallelForPropagatesErrors() {
    QVERIFY_THROWS_EXCEPTION(Error, parallelFor(
                                        100,
                                        [](size_t i) {
                                          if (i == 37) throw Error("bad item");
                                        },
                                        2));
  }

  void cancellationThrowsAtSafePoint() {
    resetCancel();
    throwIfCancelled();
    requestCancel();
    QVERIFY_THROWS_EXCEPTION(Cancelled, throwIfCancelled());
    resetCancel();
  }

  void progressEventsCarryEtaAndAreThrottled() {
    auto sink = std::make_shared<CollectingSink>();
    Reporter r(sink, "stage");
    for (size_t i = 0; i <= 1000; ++i) r.progress(i, 1000, "work");
    auto events = sink->events();
    QVERIFY2(events.size() < 50, "progress must be throttled");
    QCOMPARE(events.front()["done"].get<int>(), 0);
    QCOMPARE(events.back()["done"].get<int>(), 1000);
    QVERIFY(events.back().contains("eta_s"));
    QCOMPARE(events.back()["stage"].get<std::string>(), std::string("stage"));
  }

  void etaIsMeasuredWithinEachPhase() {
    auto sink = std::make_shared<CollectingSink>();
    Reporter r(sink, "stage");
    // A first phase reported as step 1 of 5 at once: no rate yet, so no ETA (it said
    // "1 s" for a decimation that takes ten).
    r.progress(1, 5, "decimating");
    QVERIFY(!sink->events().back().contains("eta_s"));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    // A second, fast phase: its ETA is its own rate (0.1 s a photo), not the two seconds
    // the stage spent before it.
    r.progress(0, 10, "photos");
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    r.progress(5, 10, "photos");
    const auto last = sink->events().back();
    QCOMPARE(last["done"].get<int>(), 5);
    QVERIFY(last.contains("eta_s"));
    QVERIFY2(last["eta_s"].get<double>() < 1.0, qPrintable(QString::number(last["eta_s"].get<double>())));
  }
};

QTEST_GUILESS_MAIN(TestUtil)
#include "test_util.moc"
