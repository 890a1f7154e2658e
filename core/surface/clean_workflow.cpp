#include "surface/clean_workflow.h"

#include <algorithm>
#include <sstream>

#include "io/colmap_model.h"
#include "io/ply.h"
#include "util/error.h"

namespace parallax {

CleanStep CleanStep::cropBox(const CropBox& box) {
  CleanStep s;
  s.kind = kCropBox;
  s.box = box;
  return s;
}

CleanStep CleanStep::statisticalOutliers(int neighbors, double factor) {
  CleanStep s;
  s.kind = kStatisticalOutliers;
  s.neighbors = neighbors;
  s.factor = factor;
  return s;
}

CleanStep CleanStep::radiusOutliers(double radius, int minNeighbors) {
  CleanStep s;
  s.kind = kRadiusOutliers;
  s.radius = radius;
  s.minNeighbors = minNeighbors;
  return s;
}

CleanStep CleanStep::sparseFilter(int minViews, double maxError) {
  CleanStep s;
  s.kind = kSparseFilter;
  s.minViews = minViews;
  s.maxError = maxError;
  return s;
}

std::optional<std::string> CleanStep::problem() const {
  switch (kind) {
    case kCropBox:
      if (!box.world_from_box.matrix().allFinite() ||
          std::abs(box.world_from_box.linear().determinant()) < 1e-300)
        return std::string("the crop box is empty or not a number");
      return std::nullopt;
    case kStatisticalOutliers:
      if (neighbors < 1 || !(factor > 0))
        return std::string("statistical outliers take the number of neighbours (at least 1) and "
                           "a factor (above 0)");
      return std::nullopt;
    case kRadiusOutliers:
      if (!(radius > 0) || minNeighbors < 1)
        return std::string("radius outliers take a radius (above 0, scene units) and a minimum "
                           "number of neighbours (at least 1)");
      return std::nullopt;
    case kSparseFilter:
      if (minViews < 0 || !(maxError >= 0))
        return std::string("the sparse filter takes a number of photos and an error in pixels, "
                           "neither below 0");
      if (minViews == 0 && maxError == 0)
        return std::string("the sparse filter needs a number of photos or an error above 0");
      return std::nullopt;
  }
  return std::nullopt;
}

std::string CleanStep::label() const {
  std::ostringstream s;
  switch (kind) {
    case kCropBox: return "Crop to box";
    case kStatisticalOutliers: return "Statistical outliers";
    case kRadiusOutliers: return "Radius outliers";
    case kSparseFilter:
      if (minViews > 0 && maxError > 0)
        s << "Filter sparse points (fewer than " << minViews << " photos, error above " << maxError
          << " px)";
      else if (minViews > 0)
        s << "Seen by fewer than " << minViews << " photos";
      else
        s << "Reprojection error above " << maxError << " px";
      return s.str();
  }
  return "Clean";
}

namespace {

std::vector<Eigen::Vector3f> sparsePoints(const Reconstruction& model, std::vector<uint64_t>* ids) {
  std::vector<Eigen::Vector3f> pts;
  pts.reserve(model.points3D.size());
  for (const auto& [id, p] : model.points3D) {
    pts.push_back(p.xyz.cast<float>());
    ids->push_back(id);
  }
  return pts;
}

// Applies an outlier test (returning indices into the points given) to the dense
// cloud and the sparse points.
template <typename Find>
SceneElements outliersOf(const CleanLayers& layers, Find&& find) {
  SceneElements r;
  if (layers.dense)
    for (uint64_t i : find(layers.dense->points)) r.dense.push_back(uint32_t(i));
  if (layers.sparse) {
    std::vector<uint64_t> ids;
    const auto pts = sparsePoints(*layers.sparse, &ids);
    for (uint64_t k : find(pts)) r.sparse.push_back(ids[k]);
  }
  return r;
}

}  // namespace

SceneElements selectForRemoval(const CleanLayers& layers, const CleanStep& step) {
  if (auto p = step.problem()) throw Error(*p);
  SceneElements r;
  switch (step.kind) {
    case CleanStep::kCropBox:
      if (layers.dense)
        for (uint64_t i : pointsOutside(layers.dense->points, {}, step.box)) r.dense.push_back(uint32_t(i));
      if (layers.mesh)
        for (uint64_t i : facesOutside(*layers.mesh, {}, step.box)) r.faces.push_back(uint32_t(i));
      if (layers.sparse) r.sparse = sparsePointsOutside(*layers.sparse, step.box);
      break;
    case CleanStep::kStatisticalOutliers:
      r = outliersOf(layers, [&](const std::vector<Eigen::Vector3f>& pts) {
        return statisticalOutliers(pts, {}, step.neighbors, step.factor);
      });
      break;
    case CleanStep::kRadiusOutliers:
      r = outliersOf(layers, [&](const std::vector<Eigen::Vector3f>& pts) {
        return radiusOutliers(pts, {}, step.radius, step.minNeighbors);
      });
      break;
    case CleanStep::kSparseFilter:
      if (layers.sparse) {
        if (step.minViews > 0) r.sparse = sparsePointsSeenByFewer(*layers.sparse, size_t(step.minViews));
        if (step.maxError > 0) {
          const auto more = sparsePointsWithErrorAbove(*layers.sparse, step.maxError);
          r.sparse.insert(r.sparse.end(), more.begin(), more.end());
        }
      }
      break;
  }
  std::sort(r.sparse.begin(), r.sparse.end());
  r.sparse.erase(std::unique(r.sparse.begin(), r.sparse.end()), r.sparse.end());
  return r;
}

std::string withThousands(size_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::vector<Edit> editsFor(const CleanLayers& layers, const SceneElements& elements,
                           const std::string& what) {
  std::vector<Edit> edits;
  auto add = [&](EditTarget target, std::vector<uint64_t> ids) {
    if (ids.empty()) return;
    const std::string label = what + ": " + withThousands(ids.size()) + " " + editTargetName(target);
    edits.push_back({target, label, std::move(ids), 0});
  };
  auto fileIndices = [](const std::vector<uint32_t>& shown, const std::vector<uint32_t>* ids) {
    std::vector<uint64_t> out;
    for (uint32_t i : shown) {
      if (!ids || ids->empty())
        out.push_back(i);
      else if (i < ids->size())
        out.push_back((*ids)[i]);
    }
    return out;
  };
  add(EditTarget::kDensePoints, fileIndices(elements.dense, layers.denseIds));
  add(EditTarget::kMeshFaces, fileIndices(elements.faces, layers.faceIds));
  if (layers.sparseEditable) {
    add(EditTarget::kSparsePoints, elements.sparse);
    add(EditTarget::kCameras, {elements.cameras.begin(), elements.cameras.end()});
  }
  return edits;
}

uint32_t nextActionGroup(const EditHistory& history) {
  uint32_t group = 1;
  for (const Edit& e : history.edits()) group = std::max(group, e.group + 1);
  return group;
}

std::vector<Edit> pushAction(EditHistory& history, std::vector<Edit> edits,
                             const std::filesystem::path& projectRoot) {
  const uint32_t group = nextActionGroup(history);
  std::vector<Edit> added;
  for (Edit& e : edits) {
    e.group = group;
    if (history.push(e, projectRoot)) added.push_back(std::move(e));
  }
  return added;
}

std::vector<std::pair<size_t, size_t>> actionRanges(const EditHistory& history) {
  std::vector<std::pair<size_t, size_t>> ranges;
  const auto& edits = history.edits();
  for (size_t i = 0; i < edits.size();) {
    size_t j = i + 1;
    while (j < edits.size() && edits[i].group != 0 && edits[j].group == edits[i].group) ++j;
    ranges.emplace_back(i, j);
    i = j;
  }
  return ranges;
}

CleaningSession::CleaningSession(std::filesystem::path projectRoot, EditHistory& history,
                                 bool sparse, bool dense, bool mesh)
    : root_(std::move(projectRoot)), history_(history) {
  if (sparse) originalSparse_ = readColmapModel(editSourceFile(root_, EditTarget::kSparsePoints).parent_path());
  if (dense) originalDense_.emplace(readPly(editSourceFile(root_, EditTarget::kDensePoints)));
  if (mesh) originalMesh_ = readPly(editSourceFile(root_, EditTarget::kMeshFaces));
}

CleanLayers CleaningSession::shown() {
  CleanLayers layers;
  if (originalSparse_) {
    sparse_ = originalSparse_;
    applyEdits(history_, *sparse_);
    layers.sparse = &*sparse_;
  }
  if (originalDense_) {
    dense_ = applyEdits(history_, *originalDense_, &denseIds_);
    layers.dense = &*dense_;
    layers.denseIds = &denseIds_;
  }
  if (originalMesh_) {
    mesh_ = applyEdits(history_, *originalMesh_, &faceIds_);
    layers.mesh = &*mesh_;
    layers.faceIds = &faceIds_;
  }
  return layers;
}

}  // namespace parallax
