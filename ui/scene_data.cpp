#include "ui/scene_data.h"

#include "io/colmap_model.h"
#include "io/ply.h"
#include "mvs/fusion.h"
#include "mvs/geometry_eval.h"


namespace fs = std::filesystem;

namespace parallax::ui {
namespace {

// A reference mesh lives in the ground truth's frame, a reconstruction in its
// own (arbitrary position, rotation and scale): bring the mesh into the model's
// frame with the similarity that maps the reference cameras onto the model's.
void toModelFrame(TriangleMesh& mesh, const fs::path& referenceModel, const Reconstruction& model) {
  if (!hasColmapModel(referenceModel)) return;
  if (const auto sim = similarityBetweenModels(readColmapModel(referenceModel), model))
    transformGeometry(mesh, *sim);
}

}  // namespace

SceneData loadSceneData(const fs::path& root) {
  SceneData data;
  auto attempt = [&](const fs::path& path, auto&& read) {
    try {
      read();
    } catch (const std::exception& e) {
      data.problems.push_back(path.string() + ": " + e.what());
    }
  };
  // A running mapper's snapshot, while there is one, else the finished model.
  const fs::path live = root / "cache" / "live" / "sparse";
  const fs::path sparse = hasColmapModel(live) ? live : root / "sparse" / "0";
  if (hasColmapModel(sparse)) attempt(sparse, [&] { data.sparse = readColmapModel(sparse); });
  data.sparseIsLive = sparse == live;
  const fs::path fused = root / "dense" / "fused.ply";
  if (fs::exists(fused)) attempt(fused, [&] { data.dense = readPly(fused); });
  const fs::path vis = root / "dense" / "fused.ply.vis";
  if (data.dense && fs::exists(vis))
    attempt(vis, [&] {
      const auto visibility = readVisibility(vis);
      if (visibility.size() != data.dense->size()) return;  // an older fusion's
      data.denseViews.reserve(visibility.size());
      for (const auto& v : visibility) data.denseViews.push_back(uint16_t(std::min<size_t>(v.size(), 65535)));
    });
  const fs::path conf = root / "dense" / "fused.ply.conf";
  if (data.dense && fs::exists(conf))
    attempt(conf, [&] {
      std::vector<float> c = readConfidence(conf);
      if (c.size() == data.dense->size()) data.denseConfidence = std::move(c);  // else an older fusion's
    });
  if (const fs::path mesh = projectMeshFile(root); fs::exists(mesh)) {
    attempt(mesh, [&] {
      TriangleMesh m = readPly(mesh);
      if (!m.hasNormals()) m.computeVertexNormals();
      if (mesh.parent_path() == root / "reference" && data.sparse)
        toModelFrame(m, root / "reference" / "sparse", *data.sparse);
      data.mesh = std::move(m);
      data.meshSource = mesh.string();
    });
  }
  data.photoPaths = importedPhotoPaths(root);
  data.edits = EditHistory::load(root, &data.editNotes);
  return data;
}

SceneData withEdits(const SceneData& loaded, const EditHistory& edits,
                    std::vector<uint32_t>* denseIds, std::vector<uint32_t>* faceIds) {
  SceneData shown;
  shown.sparseIsLive = loaded.sparseIsLive;
  shown.meshSource = loaded.meshSource;
  shown.photoPaths = loaded.photoPaths;
  shown.edits = edits;
  if (loaded.sparse) {
    shown.sparse = loaded.sparse;
    if (!loaded.sparseIsLive) applyEdits(edits, *shown.sparse);
  }
  denseIds->clear();
  faceIds->clear();
  if (loaded.dense) shown.dense = applyEdits(edits, *loaded.dense, denseIds);
  if (loaded.dense && loaded.denseViews.size() == loaded.dense->size())
    for (uint32_t i : *denseIds) shown.denseViews.push_back(loaded.denseViews[i]);
  if (loaded.dense && loaded.denseConfidence.size() == loaded.dense->size())
    for (uint32_t i : *denseIds) shown.denseConfidence.push_back(loaded.denseConfidence[i]);
  if (loaded.mesh) shown.mesh = applyEdits(edits, *loaded.mesh, faceIds);
  return shown;
}

}  // namespace parallax::ui
