#include "ui/scene_data.h"

#include "texture/textured_mesh_io.h"
#include "params/stages.h"

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
  const fs::path fused = root / files::Fusion::fused;
  if (fs::exists(fused)) attempt(fused, [&] { data.dense = readPly(fused); });
  if (data.dense)
    attempt(labelTableFile(root), [&] { data.dense->labels = projectDenseLabels(root, data.dense->size(), &data.labels); });
  const fs::path vis = root / files::Fusion::visibility;
  if (data.dense && fs::exists(vis))
    attempt(vis, [&] {
      const auto visibility = readVisibility(vis);
      if (visibility.size() != data.dense->size()) return;  // an older fusion's
      data.denseViews.reserve(visibility.size());
      for (const auto& v : visibility) data.denseViews.push_back(uint16_t(std::min<size_t>(v.size(), 65535)));
    });
  const fs::path conf = root / files::Fusion::confidence;
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
      LabelTable table;
      m.labels = projectMeshLabels(root, mesh, m.size(), &table);
      if (!m.labels.empty()) data.labels = table;
      data.mesh = std::move(m);
      data.meshSource = mesh.string();
    });
  }
  if (const fs::path textured = root / files::Texture::textured / "mesh.obj"; fs::exists(textured))
    attempt(textured, [&] { data.textured = std::make_shared<const TexturedMesh>(readTexturedObj(textured)); });
  data.photoPaths = importedPhotoPaths(root);
  data.edits = EditHistory::load(root, &data.editNotes);
  return data;
}

SceneData withEdits(const SceneData& loaded, const EditHistory& edits,
                    std::vector<uint32_t>* denseIds, std::vector<uint32_t>* faceIds) {
  SceneData shown;
  shown.sparseIsLive = loaded.sparseIsLive;
  shown.meshSource = loaded.meshSource;
  shown.labels = loaded.labels;
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
  if (loaded.textured && loaded.texturedCurrent &&
      edits.removed(EditTarget::kMeshFaces) == loaded.edits.removed(EditTarget::kMeshFaces))
    shown.textured = loaded.textured;
  return shown;
}

namespace {
template <typename T>
void keepOnly(std::vector<T>& v, const std::vector<uint32_t>& keep, size_t size) {
  if (v.size() != size) return;
  std::vector<T> out;
  out.reserve(keep.size());
  for (uint32_t i : keep) out.push_back(v[i]);
  v.swap(out);
}
}  // namespace

void hideLabels(SceneData& shown, const std::set<int32_t>& hidden, std::vector<uint32_t>* denseIds,
                std::vector<uint32_t>* faceIds) {
  if (hidden.empty()) return;
  if (shown.dense && shown.dense->hasLabels()) {
    PointCloud& c = *shown.dense;
    const size_t n = c.size();
    std::vector<uint32_t> keep;
    for (size_t i = 0; i < n; ++i)
      if (!hidden.count(c.labels[i])) keep.push_back(uint32_t(i));
    keepOnly(shown.denseViews, keep, n);
    keepOnly(shown.denseConfidence, keep, n);
    keepOnly(*denseIds, keep, n);
    keepOnly(c.normals, keep, n);
    keepOnly(c.colors, keep, n);
    keepOnly(c.points, keep, n);
    keepOnly(c.labels, keep, n);
  }
  if (shown.mesh && shown.mesh->hasLabels()) {
    TriangleMesh& m = *shown.mesh;
    std::vector<uint32_t> keepFaces;
    for (size_t f = 0; f < m.faces.size(); ++f)
      if (!hidden.count(m.labels[size_t(m.faces[f][0])])) keepFaces.push_back(uint32_t(f));
    if (keepFaces.size() == m.faces.size()) return;
    // Vertices no kept face uses go.
    std::vector<int32_t> index(m.size(), -1);
    std::vector<uint32_t> keepVertices;
    std::vector<Eigen::Vector3i> faces;
    for (uint32_t f : keepFaces) {
      Eigen::Vector3i g;
      for (int k = 0; k < 3; ++k) {
        int32_t& v = index[size_t(m.faces[f][k])];
        if (v < 0) {
          v = int32_t(keepVertices.size());
          keepVertices.push_back(uint32_t(m.faces[f][k]));
        }
        g[k] = v;
      }
      faces.push_back(g);
    }
    keepOnly(*faceIds, keepFaces, m.faces.size());
    const size_t n = m.size();
    keepOnly(m.normals, keepVertices, n);
    keepOnly(m.colors, keepVertices, n);
    keepOnly(m.points, keepVertices, n);
    keepOnly(m.labels, keepVertices, n);
    m.faces.swap(faces);
  }
}

std::vector<size_t> shownLabelCounts(const SceneData& shown) {
  size_t most = 0;
  for (const LabelClass& c : shown.labels.classes) most = std::max(most, size_t(std::max(0, c.id + 1)));
  std::vector<size_t> n(most, 0);
  auto add = [&](const std::vector<int32_t>& labels) {
    for (int32_t l : labels)
      if (l >= 0 && size_t(l) < most) ++n[size_t(l)];
  };
  if (shown.dense) add(shown.dense->labels);
  if (shown.mesh) add(shown.mesh->labels);
  return n;
}

}  // namespace parallax::ui
