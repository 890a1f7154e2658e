// What the viewport shows, loaded from a project off the GUI thread: the sparse
// model (cameras, points), the dense cloud and meshes. Plain data, no VTK.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "scene/edits.h"
#include "scene/geometry_data.h"
#include "scene/reconstruction.h"
#include "scene/workspace.h"
#include "scene/labels.h"
#include "texture/texturing.h"

namespace parallax::ui {

struct SceneData {
  std::optional<Reconstruction> sparse;
  bool sparseIsLive = false;  // a snapshot of a mapper still running
  std::optional<PointCloud> dense;
  std::vector<uint16_t> denseViews;  // photos that see each dense point (fused.ply.vis), or empty
  std::vector<float> denseConfidence;  // depth confidence of each dense point (fused.ply.conf), or empty
  std::optional<TriangleMesh> mesh;
  std::string meshSource;             // which file the mesh came from
  // The texture stage's mesh and atlas (dense/textured/mesh.obj), shown with Mesh
  // Shading > Textured; drawn as it was made (the cleaning edits at texturing time).
  // Shared by the copies of a scene, so the viewport builds its texture once per load.
  std::shared_ptr<const TexturedMesh> textured;
  // Whether the texture stage was up to date at load (set by the window, which knows
  // the stage keys): an out-of-date textured mesh is not shown, nor one made before
  // the mesh edits applied now; the mesh with its colours stands in for it.
  bool texturedCurrent = false;
  // The segment stage's classes when the dense cloud's or the mesh's labels (their
  // `labels`) are the project's current ones.
  LabelTable labels;
  std::vector<std::string> problems;  // files that exist but could not be read
  // The imported photos (photos.json): file per image name, for the selection panel.
  std::map<std::string, std::filesystem::path> photoPaths;
  // The cleaning history (edits.json) and what loading it had to say.
  EditHistory edits;
  std::vector<std::string> editNotes;
};

// The scene as shown: the loaded results with the applied edits. `denseIds` and
// `faceIds` give, per dense point and mesh face shown, its index in the file.
// A live (still growing) sparse model is shown as it is.
SceneData withEdits(const SceneData& loaded, const EditHistory& edits,
                    std::vector<uint32_t>* denseIds, std::vector<uint32_t>* faceIds);

// Drops the points and faces of the `hidden` classes from a shown scene; `denseIds` and
// `faceIds` (from withEdits) follow, so they still give each shown element's file index.
void hideLabels(SceneData& shown, const std::set<int32_t>& hidden, std::vector<uint32_t>* denseIds,
                std::vector<uint32_t>* faceIds);

// Elements per class of a shown scene: dense points plus mesh vertices.
std::vector<size_t> shownLabelCounts(const SceneData& shown);

// Reads whatever the project has; unreadable files become `problems`, never exceptions.
SceneData loadSceneData(const std::filesystem::path& projectRoot);

}  // namespace parallax::ui
