// Semantic labels on the reconstruction (DESIGN §2, labels/): a class table and one
// label per dense point and per vertex of the project's mesh, written by the segment
// stage and read by the viewport, cleaning and export.
//   labels/classes.json   method, classes (id, name, colour, count), up, scale, mesh
//   labels/dense.labels   int32 per point of dense/fused.ply (-1: unlabelled)
//   labels/mesh.labels    int32 per vertex of the mesh named in classes.json
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scene/geometry_data.h"

namespace parallax {

struct LabelClass {
  int id = 0;
  std::string name;
  Color3 color{128, 128, 128};
};

struct LabelTable {
  std::string method;  // which segmenter made the labels ("geometric", "dgcnn")
  std::vector<LabelClass> classes;
  const LabelClass* find(int id) const;
  std::string name(int id) const;  // "unlabelled" for -1 or an unknown id
};

// S3DIS's 13 indoor classes (ceiling 0, floor 1, wall 2, beam, column, window, door,
// table 7, chair 8, sofa, bookcase 10, board, clutter 12), as DGCNN gives them.
LabelTable s3disLabelTable();

nlohmann::json toJson(const LabelTable& table);
LabelTable labelTableFromJson(const nlohmann::json& j);

std::filesystem::path labelsDir(const std::filesystem::path& projectRoot);
std::filesystem::path labelTableFile(const std::filesystem::path& projectRoot);
std::filesystem::path denseLabelsFile(const std::filesystem::path& projectRoot);
std::filesystem::path meshLabelsFile(const std::filesystem::path& projectRoot);

// uint64 count, then int32 per element; written atomically. Reading throws Error
// naming the file when it is truncated or not a labels file.
void writeLabels(const std::filesystem::path& path, const std::vector<int32_t>& labels);
std::vector<int32_t> readLabels(const std::filesystem::path& path);

// The labels a project holds for a cloud or mesh of `count` elements; empty when there
// are none or they belong to an older cloud or mesh (count differs, or for a mesh,
// the table names another file). `table` receives the class table when given.
std::vector<int32_t> projectDenseLabels(const std::filesystem::path& projectRoot, size_t count,
                                        LabelTable* table = nullptr);
std::vector<int32_t> projectMeshLabels(const std::filesystem::path& projectRoot,
                                       const std::filesystem::path& meshFile, size_t count,
                                       LabelTable* table = nullptr);

// Each vertex takes the label of the nearest labelled point (k-d tree); vertices
// farther than `maxDistance` (0 = no limit) stay -1.
std::vector<int32_t> transferLabels(const PointCloud& labelled,
                                    const std::vector<Eigen::Vector3f>& targets,
                                    double maxDistance = 0);

// Points per label (index = label; -1 not counted).
std::vector<size_t> labelCounts(const std::vector<int32_t>& labels, size_t classes);

// Intersection over union per class between predicted and true labels (same order);
// a class in neither gives NaN.
std::vector<double> classIoU(const std::vector<int32_t>& predicted,
                             const std::vector<int32_t>& truth, size_t classes);

}  // namespace parallax
