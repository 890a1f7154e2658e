// Shared helpers for the Qt Test suites: temporary folders, the worker
// executable, the synthetic sample, and real data that must exist under CI.
#pragma once

#include <string>

#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <filesystem>
#include <functional>
#include <optional>

#include "plugin/plugin_manager.h"
#include "synthetic/sample_scene.h"

namespace parallax::test {

std::filesystem::path tempPath(const QTemporaryDir& dir, const std::string& name = "");
// The message of the parallax::Error that `f` throws, or "" when it throws none.
QString errorOf(const std::function<void()>& f);
QString cliPath();

struct ProcessResult {
  int exitCode = -1;
  QString out, err;
};
ProcessResult runCli(const QStringList& args, int timeoutMs = 120000);

// The Khronos glTF validator's verdict on a file (packaging/gltf-validate.js):
// its JSON report, or nullopt with `why` when the validator cannot run here.
struct GltfReport {
  int errors = 0, warnings = 0;
  QString text;  // the report line
};
std::optional<GltfReport> validateGltf(const std::filesystem::path& file, QString* why);

// Options of a small, fast test sample (the shared samples and one-off ones).
SampleOptions smallSampleOptions(int views, int points, int width = 320, int height = 240);
// A small synthetic sample (24 views 15 degrees apart, 320x240), generated once per test process.
std::filesystem::path sampleDir();
// A denser ring (24 views 15 degrees apart, 320x240), generated once per test process.
std::filesystem::path ringSampleDir();
// A project made from `sample` and run up to and including `until`.
std::filesystem::path projectFrom(const std::filesystem::path& sample, const QTemporaryDir& dir,
                                  const std::string& until);
// A project reconstructed from sampleDir() (every stage; dense on 160 px photos), fresh each call.
std::filesystem::path sampleProject(const QTemporaryDir& dir);

// A project whose import succeeded on the sample, then got a folder of 40 large
// JPEGs added: importing again takes seconds, long enough to interrupt or to
// measure the GUI while a worker runs. Hashes of the previous outputs are kept.
struct SlowImportProject {
  SlowImportProject();
  QTemporaryDir tmp;
  std::filesystem::path project;
  std::string databaseHash, photosHash;
};

// Real data folder, or nullopt after QSKIP-worthy reason; under CI=true a missing
// folder is a failure (the caller uses requireData()).
std::optional<std::filesystem::path> dataFolder(const std::string& name, QString* why);
std::filesystem::path outputDir();  // where tests write screenshots and artefacts
bool underCI();

}  // namespace parallax::test

// Skips (locally) or fails (CI=true) when shared data is absent.
#define PARALLAX_REQUIRE_DATA(var, name)                         \
  QString var##_why;                                             \
  auto var##_opt = parallax::test::dataFolder(name, &var##_why); \
  if (!var##_opt) {                                              \
    if (parallax::test::underCI()) QFAIL(qPrintable(var##_why)); \
    QSKIP(qPrintable(var##_why));                                \
  }                                                              \
  const std::filesystem::path var = *var##_opt;

// A test that needs a LibTorch plugin (e.g. "field_neus"): skips when this build was
// configured without it (PARALLAX_BUILD_TORCH=OFF or PARALLAX_PLUGINS leaving it out);
// when it was configured but does not load, fails under CI and skips elsewhere.
#ifndef PARALLAX_CONFIGURED_PLUGINS
#define PARALLAX_CONFIGURED_PLUGINS ""
#endif
#define PARALLAX_REQUIRE_PLUGIN(name)                                                           \
  do {                                                                                          \
    parallax::PluginManager::instance().loadDefault();                                          \
    if (!parallax::PluginManager::instance().find(name)) {                                      \
      const bool configured_ = std::string(PARALLAX_CONFIGURED_PLUGINS).find("," name ",") !=  \
                               std::string::npos;                                               \
      const QString why_ = configured_                                                          \
                               ? QStringLiteral("the " name " plugin was built but does not load") \
                               : QStringLiteral("this build leaves the " name " plugin out");   \
      if (configured_ && parallax::test::underCI()) QFAIL(qPrintable(why_));                    \
      QSKIP(qPrintable(why_));                                                                  \
    }                                                                                           \
  } while (false)
