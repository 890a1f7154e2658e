// The cleaning workflow, shared by the GUI (Edit menu, crop box, outlier dialogs) and
// `parallax-cli clean`: a cleaning step (crop to a box, statistical or radius
// outliers, the sparse filter) picks elements of the layers as shown, those become
// edits naming the elements of the stage's files, and the edits of one step go into
// the history as one action (undone together). Scenes, not widgets: no Qt here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "scene/edits.h"
#include "scene/geometry_data.h"
#include "scene/reconstruction.h"
#include "surface/cleaning.h"

namespace parallax {

// Elements of the shown layers: indices into the shown dense cloud and mesh faces,
// ids of sparse points and of images (cameras). The viewport's region selection.
struct SceneElements {
  std::vector<uint32_t> dense;
  std::vector<uint32_t> faces;
  std::vector<uint64_t> sparse;
  std::vector<uint32_t> cameras;
  size_t size() const { return dense.size() + faces.size() + sparse.size() + cameras.size(); }
  bool empty() const { return size() == 0; }
};

// The layers a step acts on, as shown (the files with the applied edits); a layer
// left null is not touched. `denseIds`/`faceIds` give each shown point's or face's
// index in its file (empty: the shown layer is the file). The sparse layer can be
// edited only as the finished model (`sparseEditable`; a live one has other ids).
struct CleanLayers {
  const Reconstruction* sparse = nullptr;
  const PointCloud* dense = nullptr;
  const std::vector<uint32_t>* denseIds = nullptr;
  const TriangleMesh* mesh = nullptr;
  const std::vector<uint32_t>* faceIds = nullptr;
  bool sparseEditable = true;
};

// One cleaning step and its values.
struct CleanStep {
  enum Kind { kCropBox, kStatisticalOutliers, kRadiusOutliers, kSparseFilter } kind = kCropBox;
  CropBox box;               // kCropBox: what is outside goes (dense, faces, sparse)
  int neighbors = 20;        // kStatisticalOutliers (dense, sparse)
  double factor = 2.0;
  double radius = 0;         // kRadiusOutliers (dense, sparse), scene units
  int minNeighbors = 6;
  int minViews = 0;          // kSparseFilter: seen by fewer photos (0: off)
  double maxError = 0;       // kSparseFilter: reprojection error above, px (0: off)

  static CleanStep cropBox(const CropBox& box);
  static CleanStep statisticalOutliers(int neighbors, double factor);
  static CleanStep radiusOutliers(double radius, int minNeighbors);
  static CleanStep sparseFilter(int minViews, double maxError);
  // A message naming the value out of range (the CLI's and the dialog's limits), or
  // nullopt when the step can run.
  std::optional<std::string> problem() const;
  // What the history calls it: "Crop to box", "Statistical outliers", ...
  std::string label() const;
};

// What the step would remove from the layers.
SceneElements selectForRemoval(const CleanLayers& layers, const CleanStep& step);

// The edits that remove `elements`, one per layer touched, labelled
// "<what>: 1,204 dense points"; shown indices become file indices.
std::vector<Edit> editsFor(const CleanLayers& layers, const SceneElements& elements,
                           const std::string& what);

// The group the next action's edits share (one above any in the history).
uint32_t nextActionGroup(const EditHistory& history);
// Adds the edits of one action to the history under one group (undone together).
// Returns the edits added (one removing nothing is left out).
std::vector<Edit> pushAction(EditHistory& history, std::vector<Edit> edits,
                             const std::filesystem::path& projectRoot);

// Edits that belong to one action (same nonzero group) as consecutive ranges
// [first, last) of history.edits().
std::vector<std::pair<size_t, size_t>> actionRanges(const EditHistory& history);

// "1,204"
std::string withThousands(size_t n);

// A project's layers as the stages wrote them and as shown after the history's
// edits, loaded for cleaning outside the GUI (the CLI's clean). Only the layers
// asked for are read.
class CleaningSession {
 public:
  CleaningSession(std::filesystem::path projectRoot, EditHistory& history, bool sparse, bool dense,
                  bool mesh);
  // The layers with the applied edits, recomputed after each change of the history.
  CleanLayers shown();
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
  EditHistory& history_;
  std::optional<Reconstruction> originalSparse_, sparse_;
  std::optional<PointCloud> originalDense_, dense_;
  std::optional<TriangleMesh> originalMesh_, mesh_;
  std::vector<uint32_t> denseIds_, faceIds_;
};

}  // namespace parallax
