// The plugin path (DESIGN §4) with a real LibTorch plugin: discovery through
// PARALLAX_PLUGIN_PATH, model lookup through PARALLAX_MODELS, and clear messages
// for a missing or corrupt weight file and for a broken plugin library.
#include <QtTest>
#include <cstdlib>
#include <fstream>

#include "plugin/plugin_manager.h"
#include "test_support.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;

namespace {
const char* kProbe = "torch_probe.load_model";

// The shared weights folder, read once before tests redirect PARALLAX_MODELS.
fs::path sharedModels() {
  static const fs::path dir = [] {
    QString d = qEnvironmentVariable("PARALLAX_MODELS");
    if (d.isEmpty()) d = qEnvironmentVariable("PARALLAX_MODELS_DEFAULT");
    return fs::path(d.toStdString());
  }();
  return dir;
}

// Model lookup must not fall back on the developer's own folders during tests.
void isolateModelFolders(const QTemporaryDir& home, const fs::path& models) {
  qputenv("HOME", home.path().toLocal8Bit());
  qunsetenv("XDG_DATA_HOME");
  qputenv("PARALLAX_MODELS", QByteArray::fromStdString(models.string()));
}
}  // namespace

class TestPlugins : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    sharedModels();
    qputenv("PARALLAX_PLUGIN_PATH", PARALLAX_TEST_PLUGIN_DIR);
    const auto& problems = PluginManager::instance().loadDefault();
    QVERIFY2(problems.empty(), problems.empty() ? "" : problems.front().c_str());
  }

  void pluginIsDiscoveredAndDeclaresItsModel() {
    const PluginInfo* p = PluginManager::instance().find("torch_probe");
    QVERIFY(p);
    QCOMPARE(p->models.size(), size_t(1));
    QCOMPARE(p->models[0].relative_path, std::string("alike/alike-t.pt"));
  }

  void loadsRealWeightsThroughParallaxModels() {
    const fs::path models = sharedModels();
    if (!fs::exists(models / "alike" / "alike-t.pt")) {
      QString why = "weights not found in PARALLAX_MODELS ('" +
                    QString::fromStdString(models.string()) + "')";
      if (test::underCI()) QFAIL(qPrintable(why));
      QSKIP(qPrintable(why));
    }
    QTemporaryDir home;
    isolateModelFolders(home, models);
    json r = PluginManager::instance().command(kProbe);
    // Every tensor listed in the keys file was loaded.
    std::ifstream keys(models / "alike" / "alike-t.keys.txt");
    size_t lines = std::count(std::istreambuf_iterator<char>(keys), {}, '\n');
    QCOMPARE(r["tensors"].get<size_t>(), lines);
    QCOMPARE(r["conv1_weight_shape"], json({8, 3, 3, 3}));
    QCOMPARE(r["conv1_output_shape"], json({1, 8, 6, 6}));
    QCOMPARE(QString::fromStdString(r["path"]),
             QString::fromStdString((models / "alike" / "alike-t.pt").string()));
  }

  void missingModelNamesTheFileAndWhereToGetIt() {
    QTemporaryDir home, empty;
    isolateModelFolders(home, empty.path().toStdString());
    QString msg = test::errorOf([] { PluginManager::instance().command(kProbe); });
    QVERIFY2(msg.contains("'alike/alike-t.pt'") && msg.contains("was not found") &&
                 msg.contains(empty.path()) && msg.contains("github.com/Shiaoming/ALIKE"),
             qPrintable(msg));
  }

  void corruptModelFileIsReportedNotCrashed_data() {
    QTest::addColumn<QString>("kind");
    QTest::newRow("garbage") << "garbage";
    QTest::newRow("truncated") << "truncated";
    QTest::newRow("empty") << "empty";
  }
  void corruptModelFileIsReportedNotCrashed() {
    QFETCH(QString, kind);
    QTemporaryDir home, models;
    fs::path file = fs::path(models.path().toStdString()) / "alike" / "alike-t.pt";
    fs::create_directories(file.parent_path());
    std::string content = "this is not a weight file";
    if (kind == "truncated") {
      fs::path real = sharedModels() / "alike" / "alike-t.pt";
      if (!fs::exists(real)) {
        if (test::underCI()) QFAIL("real weights absent under CI");
        QSKIP("real weights absent");
      }
      content = readFile(real);
      content.resize(content.size() / 2);
    } else if (kind == "empty") {
      content.clear();
    }
    writeFileAtomic(file, content);
    isolateModelFolders(home, models.path().toStdString());
    QString msg = test::errorOf([] { PluginManager::instance().command(kProbe); });
    QVERIFY2(msg.contains(QString::fromStdString(file.string())) && msg.contains("corrupt") &&
                 msg.contains("download it again"),
             qPrintable(msg));
  }

  void brokenPluginLibraryIsAMessage() {
    QTemporaryDir dir;
    fs::path lib = fs::path(dir.path().toStdString()) / "broken.so";
    writeFileAtomic(lib, "not an ELF file");
    QString msg = test::errorOf([&] { PluginManager::instance().load(lib); });
    QVERIFY2(msg.contains("broken.so") && msg.contains("could not be loaded"), qPrintable(msg));
  }

  void cliListsPluginsAndModelState() {
    QTemporaryDir home;
    qputenv("HOME", home.path().toLocal8Bit());
    qputenv("PARALLAX_MODELS", home.path().toLocal8Bit());
    auto r = test::runCli({"plugins"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("torch_probe") && r.out.contains("alike/alike-t.pt: MISSING"),
             qPrintable(r.out));
  }
};

QTEST_GUILESS_MAIN(TestPlugins)
#include "test_plugins.moc"
