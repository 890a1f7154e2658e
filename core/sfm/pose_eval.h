// Camera-pose accuracy against ground truth, in the community's terms: the
// area under the curve (AUC) of the relative-pose error over all image pairs
// (max of rotation and translation-direction angle; a pair with an unregistered
// image counts as failed), the median rotation error after a rotation alignment
// and the median camera-centre error after a similarity alignment.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "scene/reconstruction.h"

namespace parallax {

// Ground-truth poses by image stem (file name without folders and extension).
using PoseSet = std::map<std::string, Rigid3d>;

// Readers for the formats of ../shared/data (README there): "middlebury"
// (*_par.txt, or a folder holding one), "strecha" (the gt_dense_cameras folder
// or the dataset folder), "nerf" (transforms_*.json), "dtu" (cameras_*.npz,
// images/ beside it names the views), "colmap" (a model folder).
PoseSet readGroundTruthPoses(const std::filesystem::path& path, const std::string& format);
const std::vector<std::string>& groundTruthFormats();

// The stem used to pair images: "images/0003.jpg" -> "0003".
std::string imageStem(const std::string& name);

struct PoseEvaluation {
  size_t registered = 0;  // ground-truth images present in the model
  size_t total = 0;       // ground-truth images
  std::map<int, double> auc;  // threshold in degrees -> AUC in [0, 1]
  double median_rotation_error_deg = 0;
  double median_center_error = 0;  // in ground-truth units, after a similarity alignment
  double scene_extent = 0;         // median distance of ground-truth centres from their mean
};

PoseEvaluation evaluatePoses(const Reconstruction& model, const PoseSet& truth,
                             const std::vector<int>& thresholds_deg = {1, 3, 5, 10});

// SuperGlue's pose AUC: the recall curve of `errors` integrated up to `threshold`.
double poseAuc(std::vector<double> errors, double threshold);

}  // namespace parallax
