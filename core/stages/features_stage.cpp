// Stage "features": keypoints and descriptors of every imported photo into
// database.db (COLMAP's keypoints/descriptors tables). All writes happen in one
// SQLite transaction, so a cancel or a crash leaves the previous features intact.
#include <mutex>
#include <opencv2/imgcodecs.hpp>

#include "features/sift.h"
#include "io/database.h"
#include "pipeline/stage.h"
#include "stages/builtin_stages.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/parallel.h"

namespace fs = std::filesystem;

namespace parallax {
namespace {

SiftOptions siftOptions(const nlohmann::json& p) {
  SiftOptions o;
  o.max_image_size = int(p["max_image_size"].get<long long>());
  o.max_num_features = int(p["max_num_features"].get<long long>());
  o.peak_threshold = p["peak_threshold"].get<double>();
  o.edge_threshold = p["edge_threshold"].get<double>();
  o.root_sift = p["root_sift"].get<bool>();
  o.upright = p["upright"].get<bool>();
  return o;
}

StageOutcome runFeatures(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  const fs::path imageRoot =
      ws.stageRecord("import").value("outputs", nlohmann::json::object()).value("image_root", "");
  if (imageRoot.empty()) throw Error("the import stage recorded no photo folder; run import again");
  const SiftOptions options = siftOptions(ctx.params);
  const std::string type =
      std::string(options.root_sift ? "rootsift" : "sift") + (options.upright ? "-upright" : "");

  Database db(ws.databasePath());
  const std::vector<DatabaseImage> images = db.readImages();
  if (images.empty()) throw Error("the database has no photos; run import first");
  db.beginTransaction();  // committed only when every photo is done
  db.clearFeatures();

  std::mutex dbMutex;
  std::atomic<size_t> done{0};
  size_t total = 0, fewest = SIZE_MAX;
  std::string fewestName;
  ctx.report.progress(0, images.size(), "extracting SIFT features");
  cv::setNumThreads(1);  // parallel over photos instead
  parallelFor(
      images.size(),
      [&](size_t i) {
        throwIfCancelled();
        const fs::path path = imageRoot / images[i].name;
        cv::Mat gray = cv::imread(path.string(), cv::IMREAD_GRAYSCALE);
        if (gray.empty())
          throw Error("photo '" + path.string() +
                      "' was imported but can no longer be read; run import again");
        SiftFeatures f = extractSift(gray, options);
        {
          std::lock_guard<std::mutex> lock(dbMutex);
          db.writeFeatures(images[i].image_id, f.keypoints, f.descriptors, type);
          total += f.keypoints.size();
          if (f.keypoints.size() < fewest) fewest = f.keypoints.size(), fewestName = images[i].name;
        }
        ctx.report.progress(
            ++done, images.size(),
            images[i].name + ": " + std::to_string(f.keypoints.size()) + " keypoints");
      },
      int(ctx.params["num_threads"].get<long long>()));
  throwIfCancelled();
  db.commit();
  if (fewest < 100)
    ctx.report.warning("'" + fewestName + "' has only " + std::to_string(fewest) +
                       " keypoints: it may not register (blank, blurred or too dark?)");

  StageOutcome outcome;
  outcome.summary = std::to_string(total) + " keypoints in " + std::to_string(images.size()) +
                    " photos (" + std::to_string(total / images.size()) + " per photo)";
  outcome.outputs = {{"type", type},
                     {"num_keypoints", total},
                     {"num_images", images.size()},
                     {"fewest_keypoints", fewest}};
  return outcome;
}

}  // namespace

void registerFeaturesStage() {
  StageRegistry::instance().add({"features", "sift", runFeatures, nullptr});
}

}  // namespace parallax
