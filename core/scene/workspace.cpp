#include "scene/workspace.h"
#include "params/stages.h"

#include <algorithm>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax {
namespace {

constexpr int kFormatVersion = 1;

class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd_ < 0)
      throw Error("cannot lock '" + path.string() + "' (is the project folder writable?)");
    ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_ = -1;
};

bool processAlive(long pid) { return pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM); }

}  // namespace

bool Workspace::isProject(const fs::path& root) { return fs::is_regular_file(root / kProjectFile); }

Workspace Workspace::create(const fs::path& rootIn) {
  fs::path root = fs::absolute(rootIn).lexically_normal();
  if (fs::exists(root) && !fs::is_directory(root))
    throw Error("cannot create a project at '" + root.string() + "': it is a file");
  if (isProject(root))
    throw Error("'" + root.string() + "' already holds a Parallax project; open it instead");
  for (const char* sub : {"sparse", "dense", "reference", "exports"})
    fs::create_directories(root / sub);
  Workspace ws(root);
  ws.doc_ = {{"format", "parallax-project"}, {"version", kFormatVersion},
             {"photo_roots", json::array()}, {"params", json::object()},
             {"stages", json::object()},     {"app", json::object()}};
  writeFileAtomic(ws.projectFile(), ws.doc_.dump(2) + "\n");
  return ws;
}

json Workspace::readDocument() const {
  const fs::path file = projectFile();
  if (!fs::exists(file))
    throw Error("'" + root_.string() + "' is not a Parallax project (no " + kProjectFile +
                "); create one with `parallax-cli new`");
  json doc;
  try {
    doc = json::parse(readFile(file));
  } catch (const json::exception& e) {
    throw Error("'" + file.string() + "' is damaged (" + e.what() +
                "); restore it from a backup or create a new project — photos and outputs in the "
                "folder are untouched");
  }
  if (!doc.is_object() || doc.value("format", "") != "parallax-project")
    throw Error("'" + file.string() + "' is not a Parallax project file");
  if (doc.value("version", 0) > kFormatVersion)
    throw Error("'" + file.string() + "' was saved by a newer Parallax (format " +
                std::to_string(doc.value("version", 0)) + "); update Parallax to open it");
  for (const char* key : {"params", "stages", "app"})
    if (!doc.contains(key) || !doc[key].is_object()) doc[key] = json::object();
  if (!doc.contains("photo_roots") || !doc["photo_roots"].is_array())
    doc["photo_roots"] = json::array();
  return doc;
}

Workspace Workspace::open(const fs::path& rootIn) {
  Workspace ws(fs::absolute(rootIn).lexically_normal());
  ws.doc_ = ws.readDocument();
  ws.recover();
  return ws;
}

void Workspace::recover() {
  // Temporary files and folders of a writer that never got to its rename.
  std::vector<fs::path> leftovers;
  for (auto it =
           fs::recursive_directory_iterator(root_, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    if (it->path().filename().string().rfind(kTempMarker, 0) == 0) {
      leftovers.push_back(it->path());
      if (it->is_directory()) it.disable_recursion_pending();
    }
  }
  for (const auto& p : leftovers) {
    std::string name = p.filename().string();
    // Still being written by a live process (a worker running right now): not ours to touch.
    if (processAlive(tempWriterPid(name))) continue;
    // A folder swap interrupted between its two renames: put the old outputs back.
    const std::string oldSuffix = ".old-";
    size_t oldPos = name.find(oldSuffix);
    if (oldPos != std::string::npos && fs::is_directory(p)) {
      std::string original = name.substr(kTempMarker.size(), oldPos - kTempMarker.size());
      fs::path target = p.parent_path() / original;
      if (!fs::exists(target)) {
        fs::rename(p, target);
        recoveryNotes_.push_back("restored '" + fs::relative(target, root_).string() +
                                 "' from before an interrupted write");
        continue;
      }
    }
    std::error_code ec;
    fs::remove_all(p, ec);
    recoveryNotes_.push_back("removed an incomplete file left by an interrupted run: " +
                             fs::relative(p, root_).string());
  }
  // Stages still marked running by a process that no longer exists.
  std::vector<std::string> interrupted;
  for (auto& [stage, record] : doc_["stages"].items()) {
    if (record.value("status", "") == "running" && !processAlive(record.value("pid", 0L)))
      interrupted.push_back(stage);
  }
  // A live preview left by a mapper that died is not the project's model.
  bool anyRunning = false;
  for (auto& [stage, record] : doc_["stages"].items())
    anyRunning |= record.value("status", "") == "running" &&
                  std::find(interrupted.begin(), interrupted.end(), stage) == interrupted.end();
  if (!anyRunning && fs::exists(livePreviewDir())) {
    std::error_code ec;
    fs::remove_all(livePreviewDir(), ec);
  }
  // Depth maps: a killed mvs run leaves its own maps in place and the last finished
  // run's set aside (dense/stereo.previous). Put those back, the killed run's kept in
  // stereo.partial for its next run.
  const fs::path stereo = denseDir() / "stereo", previous = denseDir() / "stereo.previous";
  const json mvs = doc_["stages"].value("mvs", json::object());
  const bool mvsAlive = mvs.value("status", "") == "running" && processAlive(mvs.value("pid", 0L));
  if (!mvsAlive && fs::is_directory(previous)) {
    const fs::path partial = denseDir() / "stereo.partial";
    std::error_code ec;
    fs::remove_all(partial, ec);
    if (fs::exists(stereo)) fs::rename(stereo, partial, ec);
    if (!ec) fs::rename(previous, stereo, ec);
    if (!ec)
      recoveryNotes_.push_back(
          "put back the depth maps of the last finished mvs run (an interrupted run's maps wait "
          "in dense/stereo.partial for its next run)");
  }
  for (const auto& stage : interrupted) {
    updateStageRecord(stage, [](json& r) {
      r["status"] = "interrupted";
      r["message"] = "the process running it ended without finishing (crash, kill or power loss)";
      r.erase("pid");
    });
    bool kept = !stageRecord(stage).value("output_key", "").empty();
    recoveryNotes_.push_back("stage '" + stage + "' was interrupted; " +
                             (kept ? "its previous outputs are intact" : "it has no outputs yet") +
                             " — run it again");
  }
}

void Workspace::lockedUpdate(const std::function<void(json&)>& update) {
  FileLock lock(root_ / ".parallax.lock");
  json onDisk = fs::exists(projectFile()) ? readDocument() : doc_;
  update(onDisk);
  writeFileAtomic(projectFile(), onDisk.dump(2) + "\n");
  doc_ = onDisk;
}

void Workspace::save() {
  json mine = doc_;
  lockedUpdate([&](json& onDisk) {
    for (const char* key : {"photo_roots", "params", "app"}) onDisk[key] = mine[key];
  });
}

std::vector<fs::path> Workspace::photoRoots() const {
  std::vector<fs::path> roots;
  for (const auto& r : doc_["photo_roots"]) roots.emplace_back(r.get<std::string>());
  return roots;
}

void Workspace::addPhotoRoot(const fs::path& path) {
  std::string p = fs::absolute(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  for (const auto& r : doc_["photo_roots"])
    if (r.get<std::string>() == p) return;
  doc_["photo_roots"].push_back(p);
}

void Workspace::setPhotoRoots(const std::vector<fs::path>& roots) {
  doc_["photo_roots"] = json::array();
  for (const auto& r : roots) addPhotoRoot(r);
}

json Workspace::paramOverrides(const std::string& stage) const {
  return doc_["params"].value(stage, json::object());
}

void Workspace::setParamOverride(const std::string& stage, const std::string& param,
                                 const json& value) {
  doc_["params"][stage][param] = value;
}

void Workspace::clearParamOverride(const std::string& stage, const std::string& param) {
  if (doc_["params"].contains(stage)) {
    doc_["params"][stage].erase(param);
    if (doc_["params"][stage].empty()) doc_["params"].erase(stage);
  }
}

json Workspace::stageRecord(const std::string& stage) const {
  return doc_["stages"].value(stage, json::object());
}

void Workspace::updateStageRecord(const std::string& stage,
                                  const std::function<void(json&)>& update) {
  lockedUpdate([&](json& onDisk) {
    json& record = onDisk["stages"][stage];
    if (!record.is_object()) record = json::object();
    update(record);
  });
}

std::map<std::string, fs::path> importedPhotoPaths(const fs::path& projectRoot) {
  std::map<std::string, fs::path> out;
  try {
    const json j = json::parse(readFile(projectRoot / "photos.json"));
    for (const auto& p : j.at("photos"))
      out[p.at("name").get<std::string>()] = p.at("path").get<std::string>();
  } catch (const std::exception&) {
  }
  return out;
}

fs::path projectMeshFile(const fs::path& projectRoot) {
  fs::path newest;
  fs::file_time_type newestTime;
  // Poisson's, and each field method's (fields/<method>/mesh.ply).
  std::vector<fs::path> meshes = {projectRoot / files::Mesh::mesh, projectRoot / files::Mesh::delaunay};
  std::error_code listing;
  for (const auto& e : fs::directory_iterator(projectRoot / files::Field::fields, listing))
    if (e.is_directory()) meshes.push_back(e.path() / "mesh.ply");
  std::sort(meshes.begin() + 2, meshes.end());  // equal times: a stable choice
  for (const fs::path& mesh : meshes) {
    std::error_code ec;
    const auto t = fs::last_write_time(mesh, ec);
    if (!ec && (newest.empty() || t > newestTime)) newest = mesh, newestTime = t;
  }
  return newest.empty() ? projectRoot / "reference" / "mesh.ply" : newest;
}

}  // namespace parallax
