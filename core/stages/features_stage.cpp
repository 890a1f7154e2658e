// Stage "features": keypoints and descriptors of every imported photo into
// database.db (COLMAP's keypoints/descriptors tables; learned descriptors in
// parallax_descriptors). SIFT in core, learned methods from plugins. All writes happen in one
// SQLite transaction, so a cancel or a crash leaves the previous features intact.
#include <mutex>
#include <opencv2/imgcodecs.hpp>

#include "features/extract.h"
#include "io/database.h"
#include "params/stages.h"
#include "pipeline/methods.h"
#include "pipeline/stage.h"
#include "stages/builtin_stages.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/parallel.h"

namespace fs = std::filesystem;

namespace parallax {
namespace {

StageOutcome runFeatures(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  const fs::path imageRoot =
      ws.stageRecord("import").value("outputs", nlohmann::json::object()).value("image_root", "");
  if (imageRoot.empty()) throw Error("the import stage recorded no photo folder; run import again");
  const nlohmann::json& params = ctx.params;

  // A learned method whose plugin or weights are missing falls back to SIFT, saying why.
  const ResolvedMethod resolved = resolveMethod("features", params);
  if (!resolved.warning.empty()) ctx.report.warning(resolved.warning);
  const std::string& method = resolved.name;
  const bool learned = !resolved.classical;

  Database db(ws.databasePath());
  const std::vector<DatabaseImage> images = db.readImages();
  if (images.empty()) throw Error("the database has no photos; run import first");
  db.beginTransaction();  // committed only when every photo is done
  db.clearFeatures();

  std::mutex dbMutex;
  std::atomic<size_t> done{0};
  size_t total = 0, fewest = SIZE_MAX;
  std::string fewestName, type;
  ctx.report.progress(0, images.size(),
                      "extracting " + resolved.label + " features");
  cv::setNumThreads(1);  // SIFT: parallel over photos instead
  auto one = [&](size_t i) {
    throwIfCancelled();
    const fs::path path = imageRoot / images[i].name;
    cv::Mat image = cv::imread(path.string(), learned ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
    if (image.empty())
      throw Error("photo '" + path.string() +
                  "' was imported but can no longer be read; run import again");
    PhotoFeatures f = extractPhotoFeatures(method, image, params);
    {
      std::lock_guard<std::mutex> lock(dbMutex);
      db.writeFeatures(images[i].image_id, f.keypoints, f.descriptors, f.type);
      type = f.type;
      total += f.keypoints.size();
      if (f.keypoints.size() < fewest) fewest = f.keypoints.size(), fewestName = images[i].name;
    }
    ctx.report.progress(
        ++done, images.size(),
        images[i].name + ": " + std::to_string(f.keypoints.size()) + " keypoints");
  };
  // Networks use every core for one photo (intra-op threads); SIFT runs photos in parallel.
  parallelFor(images.size(), one, learned ? 1 : params::Features::from(params).num_threads);
  throwIfCancelled();
  db.commit();
  if (fewest < 100)
    ctx.report.warning("'" + fewestName + "' has only " + std::to_string(fewest) +
                       " keypoints: it may not register (blank, blurred or too dark?)");

  StageOutcome outcome;
  outcome.summary = std::to_string(total) + " " + type + " keypoints in " +
                    std::to_string(images.size()) + " photos (" +
                    std::to_string(total / images.size()) + " per photo)";
  outcome.outputs = {{"type", type},
                     {"method", method},
                     {"num_keypoints", total},
                     {"num_images", images.size()},
                     {"fewest_keypoints", fewest}};
  return outcome;
}

}  // namespace

void registerFeaturesStage() {
  StageRegistry::instance().add({"features", runFeatures, nullptr});
}

}  // namespace parallax
