// Cleaning edits on a project's results: deleted points, faces and cameras, crops,
// outlier removal. An edit never rewrites what a stage computed; it records which
// elements of one layer it removes, by their id (sparse points, cameras) or index
// (dense points, mesh faces) in the file the stage wrote. What the viewport shows
// and what an export writes is that file minus every applied edit, so any edit can
// be undone and redone, also after the project is closed and opened again.
//
// On disk (PROJECT/edits.json, written atomically): the list of edits, how many of
// them are applied (the rest can be redone), and a fingerprint of each layer's file.
// The removed ids of each edit are in PROJECT/edits/NNNN.bin (delta + varint coded).
// When a stage rewrites a layer's file (fusion run again), the edits of that layer
// no longer name the same points: they are set aside in edits-superseded.json with
// a message, never applied to the new file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "scene/geometry_data.h"
#include "scene/reconstruction.h"

namespace parallax {

enum class EditTarget { kSparsePoints, kCameras, kDensePoints, kMeshFaces };

// "sparse points", "cameras", "dense points", "mesh faces".
const char* editTargetName(EditTarget target);

struct Edit {
  EditTarget target = EditTarget::kDensePoints;
  std::string label;              // what the history shows: "Delete 1,204 dense points"
  std::vector<uint64_t> removed;  // sorted, unique ids or indices in the layer's file
  // Edits made by one action (a deletion touching the cloud, the mesh and the sparse
  // model) share a nonzero group and are undone together; 0: an action of its own.
  uint32_t group = 0;
};

class EditHistory {
 public:
  // Reads PROJECT/edits.json (none: an empty history). Edits whose layer's file
  // changed since they were made are set aside; `notes` says which and why. A
  // damaged edits.json is kept as edits.json.damaged and named in `notes`.
  static EditHistory load(const std::filesystem::path& projectRoot,
                          std::vector<std::string>* notes = nullptr);
  void save(const std::filesystem::path& projectRoot) const;

  // Adds an edit after the applied ones; edits that were undone are dropped.
  // Ids are sorted and made unique; an edit removing nothing is not added (false).
  bool push(Edit edit, const std::filesystem::path& projectRoot);
  bool canUndo() const { return applied_ > 0; }
  bool canRedo() const { return applied_ < edits_.size(); }
  void undo();
  void redo();
  void setApplied(size_t applied);

  const std::vector<Edit>& edits() const { return edits_; }
  size_t applied() const { return applied_; }
  bool empty() const { return applied_ == 0; }
  // Sorted union of what the applied edits remove from a layer.
  std::vector<uint64_t> removed(EditTarget target) const;

 private:
  std::vector<Edit> edits_;
  size_t applied_ = 0;
  std::vector<std::pair<EditTarget, std::string>> fingerprints_;  // of the files edited
};

// The file of a layer in a project (sparse: the model folder's points3D.bin).
std::filesystem::path editSourceFile(const std::filesystem::path& projectRoot, EditTarget target);
// Size and content sample of the layer's file; empty when there is no file.
std::string editSourceFingerprint(const std::filesystem::path& projectRoot, EditTarget target);

// The geometry with the applied edits. `kept`: for each element left, its index in
// the input (points for clouds, faces for meshes), so a selection on what is shown
// can name the elements of the file.
PointCloud applyEdits(const EditHistory& history, const PointCloud& cloud,
                      std::vector<uint32_t>* kept = nullptr);
// Faces removed; vertices no face uses any more are dropped.
TriangleMesh applyEdits(const EditHistory& history, const TriangleMesh& mesh,
                        std::vector<uint32_t>* keptFaces = nullptr);
// Cameras and points removed; a deleted camera's observations go with it, and
// points left with fewer than two observations are removed (the model stays consistent).
void applyEdits(const EditHistory& history, Reconstruction& model);

// Removes an image and its observations from a model; points then seen by fewer
// than two images go too. Returns the number of points removed.
size_t deleteImageFromModel(Reconstruction& model, uint32_t imageId);

}  // namespace parallax
