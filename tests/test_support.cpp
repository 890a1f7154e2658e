#include "test_support.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcessEnvironment>
#include <map>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "pipeline/runner.h"
#include "pipeline/stage.h"
#include "synthetic/sample_scene.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/hash.h"

namespace fs = std::filesystem;

namespace parallax::test {

fs::path tempPath(const QTemporaryDir& dir, const std::string& name) {
  fs::path p = dir.path().toStdString();
  return name.empty() ? p : p / name;
}

QString errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

QString cliPath() { return qEnvironmentVariable("PARALLAX_CLI", "parallax-cli"); }

ProcessResult runCli(const QStringList& args, int timeoutMs) {
  QProcess p;
  p.start(cliPath(), args);
  ProcessResult r;
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished();
    r.err = "timed out";
    return r;
  }
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

std::optional<GltfReport> validateGltf(const fs::path& file, QString* why) {
  const QString script = qEnvironmentVariable("PARALLAX_GLTF_VALIDATE");
  if (script.isEmpty() || !QFileInfo::exists(script)) {
    *why = "PARALLAX_GLTF_VALIDATE does not name packaging/gltf-validate.js";
    return std::nullopt;
  }
  QProcess p;
  p.start("node", {script, QString::fromStdString(file.string())});
  if (!p.waitForStarted(10000)) {
    *why = "node (Node.js) is not installed; packaging/install-deps.sh installs it";
    return std::nullopt;
  }
  p.waitForFinished(120000);
  const QString out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
  const QString err = QString::fromUtf8(p.readAllStandardError()).trimmed();
  if (p.exitStatus() != QProcess::NormalExit || p.exitCode() == 2 || out.isEmpty()) {
    *why = "the glTF validator did not run: " + err;
    return std::nullopt;
  }
  const QJsonObject report = QJsonDocument::fromJson(out.toUtf8()).object();
  GltfReport r;
  r.errors = report.value("errors").toInt(-1);
  r.warnings = report.value("warnings").toInt();
  r.text = out;
  return r;
}

fs::path outputDir() {
  fs::path dir = qEnvironmentVariable("PARALLAX_TEST_OUTPUT", QDir::tempPath()).toStdString();
  fs::create_directories(dir);
  return dir;
}

SampleOptions smallSampleOptions(int views, int points, int width, int height) {
  SampleOptions o;
  o.views = views;
  o.points = points;
  o.width = width;
  o.height = height;
  return o;
}

namespace {
// Generates a sample once per test process and name, and keeps it until exit.
fs::path generatedOnce(const std::string& name, const SampleOptions& options) {
  static std::mutex mutex;
  static QTemporaryDir holder;
  static std::map<std::string, fs::path> made;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = made.find(name);
  if (it != made.end()) return it->second;
  fs::path dir = tempPath(holder, name);
  Reporter quiet(nullptr, "sample");
  generateSample(options, dir, quiet);
  return made[name] = dir;
}
}  // namespace

fs::path sampleDir() { return generatedOnce("sample", smallSampleOptions(24, 3000)); }

fs::path ringSampleDir() { return generatedOnce("ring", smallSampleOptions(24, 100)); }

fs::path projectFrom(const fs::path& sample, const QTemporaryDir& tmp, const std::string& until) {
  registerBuiltinStages();
  fs::path root = tempPath(tmp, "project-" + sample.filename().string());
  Workspace ws = Workspace::create(root);
  ws.addPhotoRoot(sample / "images");
  ws.save();
  if (runPipeline(ws, until, nullptr) != RunResult::kSucceeded)
    throw std::runtime_error("project from " + sample.string() + " failed");
  return root;
}

fs::path sampleProject(const QTemporaryDir& tmp) {
  // The whole pipeline; dense work on small photos with one quick pass, so tests that
  // need a finished project stay fast (test_dense measures the dense stages properly).
  registerBuiltinStages();
  fs::path root = tempPath(tmp, "project-" + sampleDir().filename().string());
  Workspace ws = Workspace::create(root);
  ws.addPhotoRoot(sampleDir() / "images");
  ws.setParamOverride("undistort", "max_image_size", 160);
  ws.setParamOverride("mvs", "geom_consistency", false);
  ws.setParamOverride("mvs", "num_iterations", 2);
  ws.save();
  if (runPipeline(ws, "", nullptr) != RunResult::kSucceeded)
    throw std::runtime_error("project from " + sampleDir().string() + " failed");
  return root;
}

SlowImportProject::SlowImportProject() {
  registerBuiltinStages();
  project = tempPath(tmp, "project");
  Workspace ws = Workspace::create(project);
  ws.addPhotoRoot(sampleDir() / "images");
  ws.save();
  if (runStage(ws, "import", nullptr) != RunResult::kSucceeded)
    throw std::runtime_error("first import failed");
  fs::path big = tempPath(tmp, "big");
  fs::create_directories(big);
  cv::Mat img(2000, 3000, CV_8UC3);
  cv::randu(img, 0, 255);
  cv::GaussianBlur(img, img, cv::Size(3, 3), 1.0);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", img, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
  for (int i = 0; i < 40; ++i)  // distinct bytes (a comment after the image), same decoding cost
    writeFileAtomic(big / ("big_" + std::to_string(i) + ".jpg"),
                    std::string(jpeg.begin(), jpeg.end()) + "#" + std::to_string(i));
  ws.addPhotoRoot(big);
  ws.save();
  databaseHash = hashFile(ws.databasePath());
  photosHash = hashFile(project / "photos.json");
}

bool underCI() { return qEnvironmentVariable("CI") == "true"; }

std::optional<fs::path> dataFolder(const std::string& name, QString* why) {
  QString root = qEnvironmentVariable("PARALLAX_DATA");
  if (root.isEmpty()) root = qEnvironmentVariable("PARALLAX_DATA_DEFAULT");
  fs::path p = fs::path(root.toStdString()) / name;
  if (!root.isEmpty() && fs::is_directory(p)) return p;
  *why =
      QString(
          "real data '%1' not found (set PARALLAX_DATA to the shared data folder; looked in '%2')")
          .arg(QString::fromStdString(name), root);
  return std::nullopt;
}

}  // namespace parallax::test
