#include "scene/labels.h"
#include "params/stages.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <open3d/geometry/KDTreeFlann.h>
#include <open3d/geometry/PointCloud.h>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/parallel.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax {

const LabelClass* LabelTable::find(int id) const {
  for (const LabelClass& c : classes)
    if (c.id == id) return &c;
  return nullptr;
}

std::string LabelTable::name(int id) const {
  const LabelClass* c = find(id);
  return c ? c->name : "unlabelled";
}

LabelTable s3disLabelTable() {
  LabelTable t;
  t.method = "s3dis";
  const std::pair<const char*, Color3> classes[] = {
      {"ceiling", {220, 220, 140}}, {"floor", {166, 132, 88}},  {"wall", {120, 160, 210}},
      {"beam", {240, 140, 40}},     {"column", {150, 90, 200}}, {"window", {90, 210, 230}},
      {"door", {200, 120, 170}},    {"table", {230, 70, 60}},   {"chair", {60, 180, 90}},
      {"sofa", {30, 110, 60}},      {"bookcase", {250, 200, 40}}, {"board", {40, 60, 160}},
      {"clutter", {110, 110, 110}}};
  for (int i = 0; i < 13; ++i) t.classes.push_back({i, classes[i].first, classes[i].second});
  return t;
}

json toJson(const LabelTable& table) {
  json classes = json::array();
  for (const LabelClass& c : table.classes)
    classes.push_back({{"id", c.id}, {"name", c.name}, {"color", {c.color[0], c.color[1], c.color[2]}}});
  return {{"method", table.method}, {"classes", classes}};
}

LabelTable labelTableFromJson(const json& j) {
  LabelTable t;
  t.method = j.value("method", "");
  for (const json& c : j.value("classes", json::array())) {
    LabelClass lc;
    lc.id = c.at("id").get<int>();
    lc.name = c.at("name").get<std::string>();
    if (c.contains("color") && c["color"].size() == 3)
      for (int k = 0; k < 3; ++k) lc.color[k] = uint8_t(c["color"][k].get<int>());
    t.classes.push_back(lc);
  }
  return t;
}

fs::path labelsDir(const fs::path& root) { return root / "labels"; }
fs::path labelTableFile(const fs::path& root) { return root / files::Segment::classes; }
fs::path denseLabelsFile(const fs::path& root) { return root / files::Segment::dense; }
fs::path meshLabelsFile(const fs::path& root) { return root / files::Segment::mesh; }

void writeLabels(const fs::path& path, const std::vector<int32_t>& labels) { writeArrayFile(path, labels); }

std::vector<int32_t> readLabels(const fs::path& path) {
  return readArrayFile<int32_t>(path, "a labels file", "run the segment stage again");
}

namespace {
json readTableJson(const fs::path& root) {
  const fs::path file = labelTableFile(root);
  if (!fs::exists(file)) return json();
  try {
    return json::parse(readFile(file));
  } catch (const json::exception& e) {
    throw Error("'" + file.string() + "' is not valid JSON (" + e.what() +
                "); run the segment stage again");
  }
}
}  // namespace

std::vector<int32_t> projectDenseLabels(const fs::path& root, size_t count, LabelTable* table) {
  const json j = readTableJson(root);
  if (j.is_null() || j.value("points", size_t(0)) != count || !fs::exists(denseLabelsFile(root)))
    return {};
  std::vector<int32_t> labels = readLabels(denseLabelsFile(root));
  if (labels.size() != count) return {};
  if (table) *table = labelTableFromJson(j);
  return labels;
}

std::vector<int32_t> projectMeshLabels(const fs::path& root, const fs::path& meshFile, size_t count,
                                       LabelTable* table) {
  const json j = readTableJson(root);
  if (j.is_null() || !j.contains("mesh") || !fs::exists(meshLabelsFile(root))) return {};
  const json& m = j["mesh"];
  std::error_code ec;
  if (m.value("vertices", size_t(0)) != count ||
      !fs::equivalent(fs::path(m.value("file", "")), meshFile, ec))
    return {};
  std::vector<int32_t> labels = readLabels(meshLabelsFile(root));
  if (labels.size() != count) return {};
  if (table) *table = labelTableFromJson(j);
  return labels;
}

std::vector<int32_t> transferLabels(const PointCloud& labelled,
                                    const std::vector<Eigen::Vector3f>& targets,
                                    double maxDistance) {
  std::vector<int32_t> out(targets.size(), -1);
  if (labelled.labels.size() != labelled.size() || labelled.size() == 0) return out;
  open3d::geometry::PointCloud pcd;
  pcd.points_.resize(labelled.size());
  for (size_t i = 0; i < labelled.size(); ++i) pcd.points_[i] = labelled.points[i].cast<double>();
  open3d::geometry::KDTreeFlann tree(pcd);
  const double max2 = maxDistance > 0 ? maxDistance * maxDistance : std::numeric_limits<double>::max();
  parallelFor(targets.size(), [&](size_t i) {
    std::vector<int> nbr;
    std::vector<double> d2;
    if (tree.SearchKNN(Eigen::Vector3d(targets[i].cast<double>()), 1, nbr, d2) == 1 && d2[0] <= max2)
      out[i] = labelled.labels[size_t(nbr[0])];
  });
  return out;
}

std::vector<size_t> labelCounts(const std::vector<int32_t>& labels, size_t classes) {
  std::vector<size_t> n(classes, 0);
  for (int32_t l : labels)
    if (l >= 0 && size_t(l) < classes) ++n[size_t(l)];
  return n;
}

std::vector<double> classIoU(const std::vector<int32_t>& predicted,
                             const std::vector<int32_t>& truth, size_t classes) {
  if (predicted.size() != truth.size())
    throw Error("classIoU: " + std::to_string(predicted.size()) + " predictions for " +
                std::to_string(truth.size()) + " true labels");
  std::vector<size_t> inter(classes, 0), uni(classes, 0);
  for (size_t i = 0; i < truth.size(); ++i) {
    const int32_t p = predicted[i], t = truth[i];
    for (size_t c = 0; c < classes; ++c) {
      const bool inP = p == int32_t(c), inT = t == int32_t(c);
      inter[c] += inP && inT;
      uni[c] += inP || inT;
    }
  }
  std::vector<double> iou(classes);
  for (size_t c = 0; c < classes; ++c)
    iou[c] = uni[c] ? double(inter[c]) / double(uni[c]) : std::nan("");
  return iou;
}

}  // namespace parallax
