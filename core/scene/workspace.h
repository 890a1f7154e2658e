// A project folder with COLMAP's layout (DESIGN §3) and its parallax.json:
// photo roots, stage parameters, stage records (status, output key) and app state.
//
// parallax.json is shared by the GUI and worker processes: every write is a
// locked read-modify-write followed by an atomic rename, and each writer only
// replaces the parts it owns (workers: their stage record; the editor: the rest).
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace parallax {

class Workspace {
 public:
  static constexpr const char* kProjectFile = "parallax.json";

  // Creates the folder layout and a fresh parallax.json. Throws Error when `root`
  // already holds a project or is a file.
  static Workspace create(const std::filesystem::path& root);
  // Opens an existing project and repairs what a killed process left behind
  // (temporary files, a stage still marked running); recoveryNotes() says what.
  static Workspace open(const std::filesystem::path& root);
  static bool isProject(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path projectFile() const { return root_ / kProjectFile; }
  std::filesystem::path databasePath() const { return root_ / "database.db"; }
  std::filesystem::path sparseDir() const { return root_ / "sparse" / "0"; }
  std::filesystem::path denseDir() const { return root_ / "dense"; }
  std::filesystem::path referenceDir() const { return root_ / "reference"; }
  // Where a running stage writes snapshots for the viewport (removed when it ends).
  std::filesystem::path livePreviewDir() const { return root_ / "cache" / "live" / "sparse"; }
  std::filesystem::path exportsDir() const { return root_ / "exports"; }

  const std::vector<std::string>& recoveryNotes() const { return recoveryNotes_; }

  // --- photo roots (files or folders), stored as absolute paths
  std::vector<std::filesystem::path> photoRoots() const;
  void addPhotoRoot(const std::filesystem::path& path);
  void setPhotoRoots(const std::vector<std::filesystem::path>& roots);

  // --- user-set parameter values (only overrides; defaults come from the schema)
  nlohmann::json paramOverrides(const std::string& stage) const;
  void setParamOverride(const std::string& stage, const std::string& param,
                        const nlohmann::json& value);
  void clearParamOverride(const std::string& stage, const std::string& param);

  // --- stage records, owned by whoever runs the stage
  nlohmann::json stageRecord(const std::string& stage) const;
  // Locked read-modify-write of one stage record on disk; updates this object too.
  void updateStageRecord(const std::string& stage,
                         const std::function<void(nlohmann::json&)>& update);

  // --- free-form application state (GUI layout, selected stage, ...)
  nlohmann::json appState() const { return doc_.value("app", nlohmann::json::object()); }
  void setAppState(const nlohmann::json& state) { doc_["app"] = state; }

  // Writes photo roots, parameters and app state (stage records are re-read from
  // disk so a concurrently running worker's record is never overwritten).
  void save();

  const nlohmann::json& document() const { return doc_; }

 private:
  explicit Workspace(std::filesystem::path root) : root_(std::move(root)) {}
  nlohmann::json readDocument() const;
  void lockedUpdate(const std::function<void(nlohmann::json& onDisk)>& update);
  void recover();

  std::filesystem::path root_;
  nlohmann::json doc_;
  std::vector<std::string> recoveryNotes_;
};

// Photo file per image name, from the import stage's photos.json (empty before import
// or when the file cannot be read).
std::map<std::string, std::filesystem::path> importedPhotoPaths(
    const std::filesystem::path& projectRoot);

// The project's mesh, which the viewport shows, edits refer to and export writes: the
// newest of the mesh stage's (dense/meshed-delaunay.ply or dense/meshed-poisson.ply) and
// the neural fields' surfaces
// (fields/<method>/mesh.ply), else a sample's reference/mesh.ply (which may not exist).
std::filesystem::path projectMeshFile(const std::filesystem::path& projectRoot);

}  // namespace parallax
