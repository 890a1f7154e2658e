#include "sfm/pose_eval.h"

#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/colmap_model.h"
#include "io/npz.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax {
namespace {

constexpr double kDegree = M_PI / 180.0;

Rigid3d fromRotationTranslation(const Eigen::Matrix3d& R, const Eigen::Vector3d& t) {
  return Rigid3d(Eigen::Quaterniond(R).normalized(), t);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error("cannot read the ground truth '" + p.string() + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

PoseSet readMiddlebury(fs::path path) {
  if (fs::is_directory(path)) {
    fs::path found;
    for (const auto& e : fs::directory_iterator(path))
      if (e.path().filename().string().size() > 8 &&
          e.path().filename().string().rfind("_par.txt") == e.path().filename().string().size() - 8)
        found = e.path();
    if (found.empty())
      throw Error("no Middlebury *_par.txt in '" + path.string() + "'; pass the file itself");
    path = found;
  }
  std::istringstream in(slurp(path));
  size_t n = 0;
  if (!(in >> n)) throw Error("'" + path.string() + "' does not start with a view count");
  PoseSet out;
  for (size_t i = 0; i < n; ++i) {
    std::string name;
    double v[21];
    in >> name;
    for (double& x : v) in >> x;
    if (!in) throw Error("'" + path.string() + "' ends early: line " + std::to_string(i + 2));
    Eigen::Matrix3d R;
    R << v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17];
    out[imageStem(name)] = fromRotationTranslation(R, Eigen::Vector3d(v[18], v[19], v[20]));
  }
  return out;
}

PoseSet readStrecha(fs::path path) {
  if (fs::is_directory(path / "gt_dense_cameras")) path /= "gt_dense_cameras";
  if (!fs::is_directory(path))
    throw Error("Strecha ground truth is a folder of NAME.camera files; '" + path.string() +
                "' is not a folder");
  PoseSet out;
  for (const auto& e : fs::directory_iterator(path)) {
    if (e.path().extension() != ".camera") continue;
    std::istringstream in(slurp(e.path()));
    double v[24];
    for (double& x : v) in >> x;
    if (!in) throw Error("'" + e.path().string() + "' is not a Strecha camera file (24 numbers)");
    Eigen::Matrix3d R_c2w;
    R_c2w << v[12], v[13], v[14], v[15], v[16], v[17], v[18], v[19], v[20];
    const Eigen::Vector3d C(v[21], v[22], v[23]);
    const Eigen::Matrix3d R = R_c2w.transpose();
    out[imageStem(e.path().stem().string())] = fromRotationTranslation(R, -R * C);
  }
  if (out.empty()) throw Error("no .camera files in '" + path.string() + "'");
  return out;
}

PoseSet readNerf(fs::path path) {
  if (fs::is_directory(path)) path /= "transforms_train.json";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(slurp(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + path.string() + "' is not valid JSON: " + e.what());
  }
  PoseSet out;
  for (const auto& f : j.at("frames")) {
    Eigen::Matrix4d m;
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) m(r, c) = f.at("transform_matrix").at(r).at(c).get<double>();
    Eigen::Matrix3d R_c2w = m.topLeftCorner<3, 3>();
    R_c2w.col(1) *= -1;  // OpenGL (y up, looking along -z) to OpenCV axes
    R_c2w.col(2) *= -1;
    const Eigen::Matrix3d R = R_c2w.transpose();
    out[imageStem(f.at("file_path").get<std::string>())] =
        fromRotationTranslation(R, -R * m.topRightCorner<3, 1>());
  }
  return out;
}

PoseSet readDtu(fs::path path) {
  if (fs::is_directory(path)) path /= "cameras_sphere.npz";
  const DtuCameras cameras = readDtuCameras(path);
  std::vector<std::string> names;
  const fs::path imagesDir = path.parent_path() / "images";
  if (fs::is_directory(imagesDir)) {
    for (const auto& e : fs::directory_iterator(imagesDir))
      if (e.is_regular_file()) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
  }
  PoseSet out;
  for (size_t i = 0; i < cameras.views.size(); ++i) {
    const std::string stem = i < names.size() ? imageStem(names[i]) : [&] {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%03zu", i);
      return std::string(buf);
    }();
    out[stem] = fromRotationTranslation(cameras.views[i].R, cameras.views[i].t);
  }
  return out;
}

PoseSet readColmap(const fs::path& path) {
  PoseSet out;
  for (const auto& [id, im] : readColmapModel(path).images)
    out[imageStem(im.name)] = im.cam_from_world;
  return out;
}

double rotationAngle(const Eigen::Matrix3d& R) {
  return std::acos(std::clamp((R.trace() - 1.0) / 2.0, -1.0, 1.0));
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

const std::vector<std::string>& groundTruthFormats() {
  static const std::vector<std::string> formats = {"middlebury", "strecha", "nerf", "dtu",
                                                   "colmap"};
  return formats;
}

std::string imageStem(const std::string& name) {
  std::string base = fs::path(name).filename().string();
  const size_t dot = base.find('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

PoseSet readGroundTruthPoses(const fs::path& path, const std::string& format) {
  if (!fs::exists(path)) throw Error("ground truth '" + path.string() + "' does not exist");
  if (format == "middlebury") return readMiddlebury(path);
  if (format == "strecha") return readStrecha(path);
  if (format == "nerf") return readNerf(path);
  if (format == "dtu") return readDtu(path);
  if (format == "colmap") return readColmap(path);
  throw Error("unknown ground-truth format '" + format +
              "' (choose middlebury, strecha, nerf, dtu or colmap)");
}

double poseAuc(std::vector<double> errors, double threshold) {
  if (errors.empty()) return 0;
  std::sort(errors.begin(), errors.end());
  const double n = double(errors.size());
  double area = 0, lastError = 0, lastRecall = 0;
  for (size_t i = 0; i < errors.size(); ++i) {
    const double e = std::min(errors[i], threshold);
    area += (e - lastError) * lastRecall;
    lastError = e;
    lastRecall = double(i + 1) / n;
    if (errors[i] >= threshold) break;
  }
  area += (threshold - lastError) * lastRecall;
  return area / threshold;
}

PoseEvaluation evaluatePoses(const Reconstruction& model, const PoseSet& truth,
                             const std::vector<int>& thresholds) {
  PoseEvaluation ev;
  ev.total = truth.size();
  std::map<std::string, const Image*> estimated;
  for (const auto& [id, im] : model.images) estimated[imageStem(im.name)] = &im;
  std::vector<std::string> names;
  for (const auto& [name, pose] : truth) names.push_back(name);
  std::vector<char> have(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    have[i] = estimated.count(names[i]) > 0;
    ev.registered += have[i];
  }
  std::vector<double> errors;
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = i + 1; j < names.size(); ++j) {
      if (!have[i] || !have[j]) {
        errors.push_back(std::numeric_limits<double>::infinity());
        continue;
      }
      const Rigid3d gt = truth.at(names[j]) * truth.at(names[i]).inverse();
      const Rigid3d est =
          estimated[names[j]]->cam_from_world * estimated[names[i]]->cam_from_world.inverse();
      const double rot = rotationAngle(gt.rotation.toRotationMatrix().transpose() *
                                       est.rotation.toRotationMatrix());
      const double nGt = gt.translation.norm(), nEst = est.translation.norm();
      const double trans =
          nGt > 0 && nEst > 0
              ? std::acos(std::clamp(gt.translation.dot(est.translation) / (nGt * nEst), -1.0, 1.0))
              : M_PI;
      errors.push_back(std::max(rot, trans) / kDegree);
    }
  for (int t : thresholds) ev.auc[t] = poseAuc(errors, t);

  // Rotation alignment (chordal mean of R_gt_c2w * R_est_c2w^T) and per-image errors.
  std::vector<Eigen::Matrix3d> gtC2w, estC2w;
  std::vector<Eigen::Vector3d> gtCenters, estCenters;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!have[i]) continue;
    const Rigid3d g = truth.at(names[i]).inverse(),
                  e = estimated[names[i]]->cam_from_world.inverse();
    gtC2w.push_back(g.rotation.toRotationMatrix());
    estC2w.push_back(e.rotation.toRotationMatrix());
    gtCenters.push_back(g.translation);
    estCenters.push_back(e.translation);
  }
  if (!gtC2w.empty()) {
    Eigen::Matrix3d sum = Eigen::Matrix3d::Zero();
    for (size_t k = 0; k < gtC2w.size(); ++k) sum += gtC2w[k] * estC2w[k].transpose();
    Eigen::JacobiSVD<Eigen::Matrix3d> svd(sum, Eigen::ComputeFullU | Eigen::ComputeFullV);
    Eigen::Matrix3d align = svd.matrixU() * svd.matrixV().transpose();
    if (align.determinant() < 0) {
      Eigen::Matrix3d D = Eigen::Matrix3d::Identity();
      D(2, 2) = -1;
      align = svd.matrixU() * D * svd.matrixV().transpose();
    }
    std::vector<double> rotErrors;
    for (size_t k = 0; k < gtC2w.size(); ++k)
      rotErrors.push_back(rotationAngle(gtC2w[k].transpose() * align * estC2w[k]) / kDegree);
    ev.median_rotation_error_deg = median(rotErrors);
  }
  Eigen::Vector3d gtMean = Eigen::Vector3d::Zero();
  for (const auto& c : gtCenters) gtMean += c;
  if (!gtCenters.empty()) gtMean /= double(gtCenters.size());
  {
    std::vector<double> spread;
    for (const auto& [name, pose] : truth) spread.push_back((pose.inverse().translation - gtMean).norm());
    ev.scene_extent = median(spread);
  }
  if (gtCenters.size() >= 3) {
    Eigen::Matrix3Xd src(3, estCenters.size()), dst(3, gtCenters.size());
    for (size_t k = 0; k < gtCenters.size(); ++k) src.col(long(k)) = estCenters[k], dst.col(long(k)) = gtCenters[k];
    const Eigen::Matrix4d sim = Eigen::umeyama(src, dst, true);
    std::vector<double> centerErrors;
    for (size_t k = 0; k < gtCenters.size(); ++k)
      centerErrors.push_back(
          ((sim.topLeftCorner<3, 3>() * estCenters[k] + sim.topRightCorner<3, 1>()) - gtCenters[k])
              .norm());
    ev.median_center_error = median(centerErrors);
  }
  return ev;
}

}  // namespace parallax
