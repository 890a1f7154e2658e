// Stage "import": photo files and folders -> cameras and images in database.db,
// plus photos.json (size, EXIF summary, focal prior per photo) for the photo browser.
#include <algorithm>
#include <mutex>

#include "io/database.h"
#include "io/image_probe.h"
#include "params/stages.h"
#include "pipeline/stage.h"
#include "stages/builtin_stages.h"
#include "util/atomic_file.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/parallel.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax {
namespace {

bool isKnownUnsupportedImage(const fs::path& p) {
  std::string ext = p.extension().string();
  for (auto& c : ext) c = char(std::tolower(c));
  for (const char* e :
       {".gif", ".bmp", ".webp", ".heic", ".heif", ".cr2", ".nef", ".arw", ".dng", ".raw", ".exr"})
    if (ext == e) return true;
  return false;
}

struct Candidate {
  fs::path path;
};

struct Skipped {
  std::string file;
  std::string reason;
};

// Lists candidate photos in a stable order; unsupported image types and
// missing roots are reported, other files in photo folders are ignored.
std::vector<fs::path> listCandidates(const std::vector<fs::path>& roots, bool recursive,
                                     std::vector<Skipped>& skipped) {
  std::vector<fs::path> files;
  for (const auto& root : roots) {
    if (!fs::exists(root)) {
      skipped.push_back({root.string(), "does not exist (moved or unmounted?)"});
      continue;
    }
    auto consider = [&](const fs::path& p, bool explicitFile) {
      if (hasImageExtension(p))
        files.push_back(p);
      else if (explicitFile || isKnownUnsupportedImage(p))
        skipped.push_back(
            {p.string(), "unsupported file type '" + p.extension().string() +
                             "' (Parallax reads JPEG, PNG and TIFF; convert it first)"});
    };
    if (fs::is_regular_file(root)) {
      consider(root, true);
    } else if (recursive) {
      for (const auto& e :
           fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied))
        if (e.is_regular_file()) consider(e.path(), false);
    } else {
      for (const auto& e : fs::directory_iterator(root))
        if (e.is_regular_file()) consider(e.path(), false);
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

fs::path commonFolder(const std::vector<fs::path>& files) {
  fs::path common = files.front().parent_path();
  for (const auto& f : files) {
    fs::path dir = f.parent_path();
    while (!common.empty() &&
           std::mismatch(common.begin(), common.end(), dir.begin(), dir.end()).first !=
               common.end())
      common = common.parent_path();
  }
  return common;
}

StageOutcome runImport(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  const auto roots = ws.photoRoots();
  if (roots.empty())
    throw Error(
        "the project has no photos: add photo folders or files (GUI: Add Photos; CLI: parallax-cli "
        "reconstruct PHOTOS PROJECT)");
  std::vector<Skipped> skipped;
  std::vector<fs::path> files = listCandidates(roots, params::Import::from(ctx.params).recursive, skipped);
  if (files.empty()) {
    std::string where;
    for (const auto& r : roots) where += (where.empty() ? "" : ", ") + r.string();
    throw Error("found no JPEG, PNG or TIFF photos in " + where);
  }

  std::vector<ImageInfo> infos(files.size());
  std::vector<std::string> problems(files.size());
  std::atomic<size_t> done{0};
  ctx.report.progress(0, files.size(), "checking photos");
  parallelFor(files.size(), [&](size_t i) {
    throwIfCancelled();
    try {
      infos[i] = probeImage(files[i]);
    } catch (const Error& e) {
      problems[i] = e.what();
    }
    size_t d = ++done;
    ctx.report.progress(d, files.size(), files[i].filename().string());
  });

  const fs::path imageRoot = commonFolder(files);
  const params::Import p = params::Import::from(ctx.params);
  const double focalFactor = p.default_focal_factor;
  const std::string& modelName = p.camera_model;
  const bool single = p.single_camera;
  const bool byCamera = p.camera_grouping == "by_camera";
  const CameraModelInfo& model = cameraModelByName(modelName);

  std::map<std::string, std::string> firstByHash;
  json photos = json::array();
  struct Accepted {
    std::string name;
    const ImageInfo* info;
  };
  std::vector<Accepted> accepted;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string name = fs::relative(files[i], imageRoot).string();
    if (!problems[i].empty()) {
      skipped.push_back({files[i].string(), problems[i]});
      continue;
    }
    auto [it, inserted] = firstByHash.emplace(infos[i].content_hash, name);
    if (!inserted) {
      skipped.push_back(
          {files[i].string(), "is a duplicate of '" + it->second + "' (identical bytes)"});
      continue;
    }
    if (single && !accepted.empty() &&
        (infos[i].width != accepted.front().info->width ||
         infos[i].height != accepted.front().info->height)) {
      skipped.push_back(
          {files[i].string(),
           "has size " + std::to_string(infos[i].width) + "x" + std::to_string(infos[i].height) +
               ", unlike the others; with import.single_camera=true all photos must match"});
      continue;
    }
    accepted.push_back({name, &infos[i]});
  }
  for (const auto& s : skipped) ctx.report.warning("skipped '" + s.file + "': " + s.reason);
  if (accepted.empty())
    throw Error("none of the " + std::to_string(files.size()) +
                " photos could be imported (see the messages above)");

  auto cameraFor = [&](const ImageInfo& info) {
    double f = info.focal_source == "default" ? focalFactor * std::max(info.width, info.height)
                                              : info.focal_length_px;
    Camera c;
    c.model_id = model.id;
    c.width = info.width;
    c.height = info.height;
    c.has_prior_focal_length = info.focal_source != "default";
    double cx = info.width / 2.0, cy = info.height / 2.0;
    switch (model.id) {
      case kSimplePinhole:
        c.params = {f, cx, cy};
        break;
      case kPinhole:
        c.params = {f, f, cx, cy};
        break;
      case kSimpleRadial:
        c.params = {f, cx, cy, 0};
        break;
      case kRadial:
        c.params = {f, cx, cy, 0, 0};
        break;
      default:
        c.params = {f, f, cx, cy, 0, 0, 0, 0};
        break;
    }
    return c;
  };

  throwIfCancelled();
  writeViaTemp(ws.databasePath(), [&](const fs::path& tmp) {
    Database db(tmp);
    db.beginTransaction();
    std::map<std::string, uint32_t> cameraOfGroup;
    for (const auto& a : accepted) {
      const Camera camera = cameraFor(*a.info);
      // Which photos share intrinsics: all, those from one camera and zoom setting, or none.
      std::string group = a.name;
      if (single) {
        group = "all";
      } else if (byCamera) {
        char focal[32];
        std::snprintf(focal, sizeof focal, "%.2f", camera.focalX());
        group = std::to_string(a.info->width) + "x" + std::to_string(a.info->height) + "|" +
                a.info->camera_make + "|" + a.info->camera_model + "|" + a.info->focal_source +
                "|" + focal;
      }
      auto [slot, isNew] = cameraOfGroup.emplace(group, 0);
      if (isNew) slot->second = db.addCamera(camera);
      const uint32_t camera_id = slot->second;
      uint32_t image_id = db.addImage(a.name, camera_id);
      photos.push_back({{"image_id", image_id},
                        {"name", a.name},
                        {"path", (imageRoot / a.name).string()},
                        {"width", a.info->width},
                        {"height", a.info->height},
                        {"format", a.info->format},
                        {"focal_length_px", camera.focalX()},
                        {"focal_source", a.info->focal_source},
                        {"orientation", a.info->orientation},
                        {"camera_make", a.info->camera_make},
                        {"camera_model", a.info->camera_model},
                        {"camera_id", camera_id}});
    }
    db.commit();
  });
  json skippedJson = json::array();
  for (const auto& s : skipped) skippedJson.push_back({{"file", s.file}, {"reason", s.reason}});
  writeFileAtomic(
      ws.root() / "photos.json",
      json{{"image_root", imageRoot.string()}, {"photos", photos}, {"skipped", skippedJson}}.dump(
          1));
  ctx.report.preview("images", (ws.root() / "photos.json").string());

  StageOutcome outcome;
  outcome.summary = std::to_string(accepted.size()) + " photos imported" +
                    (skipped.empty() ? "" : ", " + std::to_string(skipped.size()) + " skipped");
  outcome.outputs = {{"image_root", imageRoot.string()},
                     {"num_images", accepted.size()},
                     {"skipped", skippedJson}};
  return outcome;
}

// Names, sizes and modification times of every candidate photo: adding,
// removing or replacing a photo makes the import (and everything after it) stale.
std::string importInputs(const Workspace& ws) {
  Hasher h;
  for (const auto& root : ws.photoRoots()) {
    h.add(root.string());
    std::error_code ec;
    if (fs::is_regular_file(root)) {
      h.add(uint64_t(fs::file_size(root, ec)))
          .add(uint64_t(fs::last_write_time(root, ec).time_since_epoch().count()));
      continue;
    }
    if (!fs::is_directory(root)) continue;
    std::vector<std::string> entries;
    for (const auto& e : fs::recursive_directory_iterator(
             root, fs::directory_options::skip_permission_denied, ec)) {
      if (!e.is_regular_file() || !hasImageExtension(e.path())) continue;
      entries.push_back(e.path().string() + "|" + std::to_string(e.file_size(ec)) + "|" +
                        std::to_string(e.last_write_time(ec).time_since_epoch().count()));
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) h.add(e);
  }
  return h.hex();
}

}  // namespace

void registerImportStage() {
  StageRegistry::instance().add({"import", runImport, importInputs});
}

}  // namespace parallax
