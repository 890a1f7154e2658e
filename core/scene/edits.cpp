#include "scene/edits.h"
#include "params/stages.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "scene/workspace.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/hash.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax {
namespace {

constexpr int kFormatVersion = 1;
constexpr const char* kTargets[] = {"sparse_points", "cameras", "dense_points", "mesh_faces"};

std::string targetKey(EditTarget t) { return kTargets[int(t)]; }

EditTarget targetFromKey(const std::string& key) {
  for (int i = 0; i < 4; ++i)
    if (key == kTargets[i]) return EditTarget(i);
  throw Error("unknown edit layer '" + key + "'");
}

// Sorted ids as deltas in LEB128 varints: crops of scattered points stay small.
std::string encodeIds(const std::vector<uint64_t>& ids) {
  std::string out;
  uint64_t last = 0;
  for (uint64_t id : ids) {
    uint64_t v = id - last;
    last = id;
    do {
      uint8_t byte = v & 0x7f;
      v >>= 7;
      out.push_back(char(byte | (v ? 0x80 : 0)));
    } while (v);
  }
  return out;
}

std::vector<uint64_t> decodeIds(const std::string& bytes, size_t count) {
  std::vector<uint64_t> ids;
  ids.reserve(count);
  uint64_t last = 0;
  size_t i = 0;
  while (i < bytes.size()) {
    uint64_t v = 0;
    int shift = 0;
    while (true) {
      if (i >= bytes.size() || shift > 63) throw Error("truncated id list");
      const uint8_t byte = uint8_t(bytes[i++]);
      v |= uint64_t(byte & 0x7f) << shift;
      shift += 7;
      if (!(byte & 0x80)) break;
    }
    last += v;
    ids.push_back(last);
  }
  if (ids.size() != count)
    throw Error("holds " + std::to_string(ids.size()) + " ids, edits.json says " +
                std::to_string(count));
  return ids;
}

fs::path historyFile(const fs::path& root) { return root / "edits.json"; }

}  // namespace

const char* editTargetName(EditTarget target) {
  switch (target) {
    case EditTarget::kSparsePoints: return "sparse points";
    case EditTarget::kCameras: return "cameras";
    case EditTarget::kDensePoints: return "dense points";
    case EditTarget::kMeshFaces: return "mesh faces";
  }
  return "?";
}

fs::path editSourceFile(const fs::path& root, EditTarget target) {
  switch (target) {
    case EditTarget::kSparsePoints: return root / "sparse" / "0" / "points3D.bin";
    case EditTarget::kCameras: return root / "sparse" / "0" / "images.bin";
    case EditTarget::kDensePoints: return root / files::Fusion::fused;
    case EditTarget::kMeshFaces: return projectMeshFile(root);
  }
  return {};
}

std::string editSourceFingerprint(const fs::path& root, EditTarget target) {
  const fs::path file = editSourceFile(root, target);
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return {};
  // Size and the first and last MiB: cheap on a 100 MB cloud, and a copied project
  // (new modification times) keeps its edits.
  std::ifstream in(file, std::ios::binary);
  constexpr std::streamoff kSample = 1 << 20;
  std::string head(size_t(std::min<std::streamoff>(kSample, std::streamoff(size))), '\0');
  in.read(head.data(), std::streamsize(head.size()));
  std::string tail;
  if (std::streamoff(size) > kSample) {
    tail.resize(size_t(kSample));
    in.seekg(-kSample, std::ios::end);
    in.read(tail.data(), std::streamsize(tail.size()));
  }
  Hasher h;
  h.add(uint64_t(size)).add(head).add(tail);
  return std::to_string(size) + ":" + h.hex();
}

EditHistory EditHistory::load(const fs::path& root, std::vector<std::string>* notes) {
  EditHistory history;
  const fs::path file = historyFile(root);
  if (!fs::exists(file)) return history;
  auto note = [&](const std::string& text) {
    if (notes) notes->push_back(text);
  };
  try {
    const json j = json::parse(readFile(file));
    if (j.value("version", 0) > kFormatVersion)
      throw Error("it was written by a newer Parallax (format " +
                  std::to_string(j.value("version", 0)) + ")");
    std::map<EditTarget, std::string> recorded;
    const json sources = j.value("sources", json::object());
    for (const auto& [key, value] : sources.items())
      recorded[targetFromKey(key)] = value.get<std::string>();
    std::set<EditTarget> stale;
    for (const auto& [target, fingerprint] : recorded)
      if (editSourceFingerprint(root, target) != fingerprint) stale.insert(target);
    json superseded = json::array();
    size_t index = 0;
    const size_t applied = j.value("applied", size_t(0));
    for (const auto& e : j.at("edits")) {
      Edit edit;
      edit.target = targetFromKey(e.at("target").get<std::string>());
      edit.label = e.value("label", "");
      edit.group = e.value("group", 0u);
      const fs::path ids = root / "edits" / e.at("ids").get<std::string>();
      if (!fs::exists(ids))
        throw Error("'" + ids.string() + "', the elements of edit '" + edit.label +
                    "', is missing");
      try {
        edit.removed = decodeIds(readFile(ids), e.at("count").get<size_t>());
      } catch (const Error& err) {
        throw Error("'" + ids.string() + "' " + err.what());
      }
      if (stale.count(edit.target)) {
        superseded.push_back(e);
      } else {
        history.edits_.push_back(std::move(edit));
        if (index < applied) history.applied_ = history.edits_.size();
      }
      ++index;
    }
    for (const auto& [target, fingerprint] : recorded)
      if (!stale.count(target)) history.fingerprints_.emplace_back(target, fingerprint);
    if (!superseded.empty()) {
      writeFileAtomic(root / "edits-superseded.json",
                      json{{"version", kFormatVersion}, {"edits", superseded}}.dump(1));
      std::string layers;
      for (EditTarget t : stale) layers += (layers.empty() ? "" : ", ") + std::string(editTargetName(t));
      note(std::to_string(superseded.size()) + " edit(s) of the " + layers +
           " were made before that layer was computed again; they no longer apply and are "
           "kept in edits-superseded.json");
    }
  } catch (const std::exception& e) {
    const fs::path damaged = fs::path(file.string() + ".damaged");
    std::error_code ec;
    fs::rename(file, damaged, ec);
    note("the cleaning history '" + file.string() + "' cannot be read (" + e.what() +
         "); it was moved to '" + damaged.string() +
         "' and the results are shown without edits");
    return EditHistory();
  }
  return history;
}

void EditHistory::save(const fs::path& root) const {
  const fs::path dir = root / "edits";
  fs::create_directories(dir);
  json edits = json::array();
  std::set<std::string> used;
  for (const Edit& e : edits_) {
    const std::string bytes = encodeIds(e.removed);
    const std::string name = hashHex(bytes) + ".bin";
    if (used.insert(name).second && !fs::exists(dir / name)) writeFileAtomic(dir / name, bytes);
    edits.push_back({{"target", targetKey(e.target)},
                     {"label", e.label},
                     {"count", e.removed.size()},
                     {"group", e.group},
                     {"ids", name}});
  }
  json sources = json::object();
  for (const auto& [target, fingerprint] : fingerprints_) sources[targetKey(target)] = fingerprint;
  writeFileAtomic(historyFile(root), json{{"version", kFormatVersion},
                                          {"applied", applied_},
                                          {"sources", sources},
                                          {"edits", edits}}
                                         .dump(1));
  // Id lists no edit names any more (undone and replaced).
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".bin" && !used.count(entry.path().filename().string()))
      fs::remove(entry.path(), ec);
}

bool EditHistory::push(Edit edit, const fs::path& root) {
  std::sort(edit.removed.begin(), edit.removed.end());
  edit.removed.erase(std::unique(edit.removed.begin(), edit.removed.end()), edit.removed.end());
  if (edit.removed.empty()) return false;
  edits_.resize(applied_);
  // The fingerprint of the file the first edit of a layer refers to.
  bool known = false;
  for (const auto& [target, fingerprint] : fingerprints_) known |= target == edit.target;
  if (!known) fingerprints_.emplace_back(edit.target, editSourceFingerprint(root, edit.target));
  edits_.push_back(std::move(edit));
  applied_ = edits_.size();
  return true;
}

void EditHistory::undo() {
  if (applied_ > 0) --applied_;
}

void EditHistory::redo() {
  if (applied_ < edits_.size()) ++applied_;
}

void EditHistory::setApplied(size_t applied) { applied_ = std::min(applied, edits_.size()); }

std::vector<uint64_t> EditHistory::removed(EditTarget target) const {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < applied_; ++i)
    if (edits_[i].target == target)
      out.insert(out.end(), edits_[i].removed.begin(), edits_[i].removed.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

std::vector<char> removedMask(const EditHistory& history, EditTarget target, size_t n) {
  std::vector<char> gone(n, 0);
  for (uint64_t i : history.removed(target))
    if (i < n) gone[size_t(i)] = 1;
  return gone;
}

template <typename T>
void keepOnly(std::vector<T>& v, const std::vector<uint32_t>& keep) {
  if (v.empty()) return;
  std::vector<T> out;
  out.reserve(keep.size());
  for (uint32_t i : keep) out.push_back(v[i]);
  v.swap(out);
}

void keepPoints(PointCloud& cloud, const std::vector<uint32_t>& keep) {
  keepOnly(cloud.points, keep);
  keepOnly(cloud.normals, keep);
  keepOnly(cloud.colors, keep);
  keepOnly(cloud.labels, keep);
}

}  // namespace

PointCloud applyEdits(const EditHistory& history, const PointCloud& cloud,
                      std::vector<uint32_t>* kept) {
  const std::vector<char> gone = removedMask(history, EditTarget::kDensePoints, cloud.size());
  std::vector<uint32_t> keep;
  keep.reserve(cloud.size());
  for (size_t i = 0; i < cloud.size(); ++i)
    if (!gone[i]) keep.push_back(uint32_t(i));
  PointCloud out = cloud;
  if (keep.size() != cloud.size()) keepPoints(out, keep);
  if (kept) *kept = std::move(keep);
  return out;
}

TriangleMesh applyEdits(const EditHistory& history, const TriangleMesh& mesh,
                        std::vector<uint32_t>* keptFaces) {
  const std::vector<char> gone = removedMask(history, EditTarget::kMeshFaces, mesh.faces.size());
  std::vector<uint32_t> faces;
  faces.reserve(mesh.faces.size());
  for (size_t i = 0; i < mesh.faces.size(); ++i)
    if (!gone[i]) faces.push_back(uint32_t(i));
  TriangleMesh out;
  if (faces.size() == mesh.faces.size()) {
    out = mesh;
  } else {
    std::vector<int32_t> newIndex(mesh.size(), -1);
    std::vector<uint32_t> vertices;
    for (uint32_t f : faces)
      for (int k = 0; k < 3; ++k) {
        const int v = mesh.faces[f][k];
        if (newIndex[size_t(v)] < 0) {
          newIndex[size_t(v)] = int32_t(vertices.size());
          vertices.push_back(uint32_t(v));
        }
      }
    // Vertices in their original order, so an export stays stable across edits.
    std::sort(vertices.begin(), vertices.end());
    for (size_t i = 0; i < vertices.size(); ++i) newIndex[vertices[i]] = int32_t(i);
    static_cast<PointCloud&>(out) = static_cast<const PointCloud&>(mesh);
    keepPoints(out, vertices);
    out.faces.reserve(faces.size());
    for (uint32_t f : faces) {
      const Eigen::Vector3i& face = mesh.faces[f];
      out.faces.emplace_back(newIndex[size_t(face[0])], newIndex[size_t(face[1])],
                             newIndex[size_t(face[2])]);
    }
  }
  if (keptFaces) *keptFaces = std::move(faces);
  return out;
}

size_t deleteImageFromModel(Reconstruction& model, uint32_t imageId) {
  auto it = model.images.find(imageId);
  if (it == model.images.end()) return 0;
  size_t removed = 0;
  for (const Point2D& p2 : it->second.points2D) {
    if (p2.point3D_id == kInvalidPoint3DId) continue;
    auto pit = model.points3D.find(p2.point3D_id);
    if (pit == model.points3D.end()) continue;
    auto& track = pit->second.track;
    track.erase(std::remove_if(track.begin(), track.end(),
                               [&](const TrackElement& el) { return el.image_id == imageId; }),
                track.end());
    if (track.size() < 2) {
      for (const TrackElement& el : track)
        if (auto other = model.images.find(el.image_id); other != model.images.end())
          other->second.points2D[el.point2D_idx].point3D_id = kInvalidPoint3DId;
      model.points3D.erase(pit);
      ++removed;
    }
  }
  model.images.erase(it);
  return removed;
}

void applyEdits(const EditHistory& history, Reconstruction& model) {
  for (uint64_t id : history.removed(EditTarget::kCameras))
    deleteImageFromModel(model, uint32_t(id));
  for (uint64_t id : history.removed(EditTarget::kSparsePoints)) {
    auto it = model.points3D.find(id);
    if (it == model.points3D.end()) continue;
    for (const TrackElement& el : it->second.track)
      if (auto im = model.images.find(el.image_id); im != model.images.end())
        im->second.points2D[el.point2D_idx].point3D_id = kInvalidPoint3DId;
    model.points3D.erase(it);
  }
}

}  // namespace parallax
