// The import stage: formats, EXIF focal priors and orientation, and every bad
// file (corrupt, truncated, zero-byte, not an image, unsupported, duplicate)
// reported by name and skipped while the import goes on.
#include <QtTest>
#include <exiv2/exiv2.hpp>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/database.h"
#include "io/image_probe.h"
#include "pipeline/runner.h"
#include "pipeline/stage.h"
#include "test_support.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;

namespace {

cv::Mat texturedImage(int w, int h, int seed) {
  cv::Mat img(h, w, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(img, cv::RNG::UNIFORM, 0, 255);
  cv::GaussianBlur(img, img, cv::Size(5, 5), 1.5);
  return img;
}

void writeImage(const fs::path& p, const cv::Mat& img) { QVERIFY(cv::imwrite(p.string(), img)); }

void setExif(const fs::path& p, const std::function<void(Exiv2::ExifData&)>& edit) {
  auto image = Exiv2::ImageFactory::open(p.string());
  image->readMetadata();
  Exiv2::ExifData exif = image->exifData();
  edit(exif);
  image->setExifData(exif);
  image->writeMetadata();
}

json photosJson(const fs::path& root) { return json::parse(readFile(root / "photos.json")); }

QString skipReason(const json& photos, const std::string& file) {
  for (const auto& s : photos["skipped"])
    if (fs::path(s["file"].get<std::string>()).filename() == file)
      return QString::fromStdString(s["reason"]);
  return {};
}

const json* photo(const json& photos, const std::string& name) {
  for (const auto& p : photos["photos"])
    if (p["name"] == name) return &p;
  return nullptr;
}

}  // namespace

class TestImport : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir tmp_;
  fs::path photos_, project_;
  json result_;

 private slots:
  void initTestCase() {
    registerBuiltinStages();
    photos_ = test::tempPath(tmp_, "photos");
    fs::create_directories(photos_ / "sub");
    writeImage(photos_ / "good.png", texturedImage(320, 240, 1));
    writeImage(photos_ / "sub" / "nested.tif", texturedImage(320, 240, 2));
    writeImage(photos_ / "f35.jpg", texturedImage(640, 480, 3));
    setExif(photos_ / "f35.jpg", [](Exiv2::ExifData& e) {
      e["Exif.Image.Make"] = "TestCam";
      e["Exif.Image.Model"] = "Model 1";
      e["Exif.Photo.FocalLengthIn35mmFilm"] = uint16_t(28);
    });
    writeImage(photos_ / "sensor.jpg", texturedImage(640, 480, 4));
    setExif(photos_ / "sensor.jpg", [](Exiv2::ExifData& e) {
      e["Exif.Photo.FocalLength"] = Exiv2::Rational(40, 10);              // 4 mm
      e["Exif.Photo.FocalPlaneXResolution"] = Exiv2::Rational(1600, 10);  // 160 px per cm
      e["Exif.Photo.FocalPlaneResolutionUnit"] = uint16_t(3);             // cm
    });
    writeImage(photos_ / "rotated.jpg", texturedImage(640, 480, 5));
    setExif(photos_ / "rotated.jpg",
            [](Exiv2::ExifData& e) { e["Exif.Image.Orientation"] = uint16_t(6); });
    fs::copy_file(photos_ / "good.png", photos_ / "zz-copy-of-good.png");
    std::ofstream(photos_ / "empty.jpg");
    std::ofstream(photos_ / "notes.jpg") << "these are my holiday notes, not a photo";
    std::ofstream(photos_ / "anim.gif") << "GIF89a....";
    std::ofstream(photos_ / "readme.txt") << "ignored silently";
    std::string jpeg = readFile(photos_ / "f35.jpg");
    writeFileAtomic(photos_ / "truncated.jpg", jpeg.substr(0, jpeg.size() * 2 / 3));
    std::string corrupt = jpeg;
    for (size_t i = 3; i < 400; ++i) corrupt[i] = 0;
    writeFileAtomic(photos_ / "corrupt.jpg", corrupt);
    std::string png = readFile(photos_ / "good.png");
    for (size_t i = 60; i < png.size() - 20; i += 7) png[i] = char(png[i] ^ 0x5A);
    writeFileAtomic(photos_ / "corrupt.png", png);

    project_ = test::tempPath(tmp_, "project");
    Workspace ws = Workspace::create(project_);
    ws.addPhotoRoot(photos_);
    ws.save();
    auto sink = std::make_shared<CollectingSink>();
    QCOMPARE(int(runStage(ws, "import", sink)), int(RunResult::kSucceeded));
    result_ = photosJson(project_);
  }

  void goodPhotosAreImportedInAllFormats() {
    QCOMPARE(result_["photos"].size(), size_t(5));
    QVERIFY(photo(result_, "good.png"));
    QVERIFY(photo(result_, "sub/nested.tif"));
    QCOMPARE((*photo(result_, "good.png"))["format"], json("PNG"));
    QCOMPARE((*photo(result_, "sub/nested.tif"))["format"], json("TIFF"));
    Database db(project_ / "database.db");
    QCOMPARE(db.numImages(), size_t(5));
    // Intrinsics are shared per physical camera: the two same-size photos without EXIF
    // share one; the photos with their own EXIF focal length each get theirs.
    auto cameraOf = [&](const char* name) { return (*photo(result_, name))["camera_id"]; };
    QCOMPARE(cameraOf("good.png"), cameraOf("sub/nested.tif"));
    QVERIFY(cameraOf("f35.jpg") != cameraOf("sensor.jpg"));
    QVERIFY(cameraOf("f35.jpg") != cameraOf("good.png"));
    QCOMPARE(db.readCameras().size(), size_t(4));
  }

  void exifFocalLengthGivesAPrior() {
    const json& f35 = *photo(result_, "f35.jpg");
    QCOMPARE(f35["focal_source"], json("exif-35mm"));
    QVERIFY(std::abs(f35["focal_length_px"].get<double>() - 28.0 / 36.0 * 640) < 1e-6);
    QCOMPARE(f35["camera_make"], json("TestCam"));
    const json& sensor = *photo(result_, "sensor.jpg");
    QCOMPARE(sensor["focal_source"], json("exif-sensor"));
    QVERIFY(std::abs(sensor["focal_length_px"].get<double>() - 4.0 * 16.0) <
            1e-6);  // 4 mm x 16 px/mm
    const json& plain = *photo(result_, "good.png");
    QCOMPARE(plain["focal_source"], json("default"));
    QVERIFY(std::abs(plain["focal_length_px"].get<double>() - 1.2 * 320) < 1e-6);
    Database db(project_ / "database.db");
    for (const auto& c : db.readCameras()) QCOMPARE(c.model_id, int(kSimpleRadial));
  }

  void exifOrientationIsApplied() {
    const json& r = *photo(result_, "rotated.jpg");
    QCOMPARE(r["orientation"], json(6));
    QCOMPARE(r["width"], json(480));
    QCOMPARE(r["height"], json(640));
  }

  void badFilesAreReportedByNameAndSkipped_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("reason");
    QTest::newRow("zero-byte") << "empty.jpg"
                               << "zero-byte";
    QTest::newRow("text named .jpg") << "notes.jpg"
                                     << "not a JPEG, PNG or TIFF image";
    QTest::newRow("truncated JPEG") << "truncated.jpg"
                                    << "truncated JPEG";
    QTest::newRow("corrupt JPEG") << "corrupt.jpg"
                                  << "corrupt JPEG";
    QTest::newRow("corrupt PNG") << "corrupt.png"
                                 << "corrupt PNG";
    QTest::newRow("unsupported") << "anim.gif"
                                 << "unsupported file type '.gif'";
    QTest::newRow("duplicate") << "good.png"
                               << "";
  }
  void badFilesAreReportedByNameAndSkipped() {
    QFETCH(QString, file);
    QFETCH(QString, reason);
    if (file == "good.png") {
      // The first of two identical files (in name order) is kept; the other names it.
      QString reason = skipReason(result_, "zz-copy-of-good.png");
      QVERIFY2(reason.contains("duplicate of 'good.png'"), qPrintable(reason));
      QVERIFY(photo(result_, "good.png"));
      return;
    }
    QString got = skipReason(result_, file.toStdString());
    QVERIFY2(got.contains(reason), qPrintable(file + ": '" + got + "'"));
    QVERIFY(!photo(result_, file.toStdString()));
  }

  void textFilesInPhotoFoldersAreIgnoredSilently() {
    QVERIFY(skipReason(result_, "readme.txt").isEmpty());
  }

  void emptyFolderAndMissingFolderAreClearErrors() {
    QTemporaryDir tmp;
    fs::create_directories(test::tempPath(tmp, "empty"));
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    ws.addPhotoRoot(test::tempPath(tmp, "empty"));
    ws.save();
    auto sink = std::make_shared<CollectingSink>();
    QCOMPARE(int(runStage(ws, "import", sink)), int(RunResult::kFailed));
    QVERIFY(QString::fromStdString(sink->events().back()["reason"])
                .contains("found no JPEG, PNG or TIFF photos"));
    QVERIFY(!fs::exists(ws.databasePath()));
  }

  void singleCameraSharesIntrinsicsAndRejectsOtherSizes() {
    QTemporaryDir tmp;
    fs::path photos = test::tempPath(tmp, "photos");
    fs::create_directories(photos);
    writeImage(photos / "a.png", texturedImage(320, 240, 11));
    writeImage(photos / "b.png", texturedImage(320, 240, 12));
    writeImage(photos / "c.png", texturedImage(200, 100, 13));
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    ws.addPhotoRoot(photos);
    ws.setParamOverride("import", "single_camera", true);
    ws.save();
    QCOMPARE(int(runStage(ws, "import", nullptr)), int(RunResult::kSucceeded));
    Database db(ws.databasePath());
    QCOMPARE(db.numImages(), size_t(2));
    QCOMPARE(db.readCameras().size(), size_t(1));
    QVERIFY(skipReason(photosJson(ws.root()), "c.png").contains("single_camera"));
  }

  void failedReimportKeepsPreviousDatabase() {
    QTemporaryDir tmp;
    fs::path photos = test::tempPath(tmp, "photos");
    fs::create_directories(photos);
    writeImage(photos / "a.png", texturedImage(160, 120, 21));
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    ws.addPhotoRoot(photos);
    ws.save();
    QCOMPARE(int(runStage(ws, "import", nullptr)), int(RunResult::kSucceeded));
    const std::string before = readFile(ws.databasePath());
    fs::remove(photos / "a.png");
    std::ofstream(photos / "a.jpg");  // only a bad file left
    QCOMPARE(int(runStage(ws, "import", nullptr)), int(RunResult::kFailed));
    QVERIFY(readFile(ws.databasePath()) == before);
    QCOMPARE(ws.stageRecord("import")["status"], json("failed"));
  }
};

QTEST_GUILESS_MAIN(TestImport)
#include "test_import.moc"
