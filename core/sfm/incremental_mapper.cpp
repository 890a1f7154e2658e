#include "sfm/incremental_mapper.h"

#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>
#include <opencv2/calib3d.hpp>
#include <opencv2/core/eigen.hpp>
#include <set>

#include "util/cancel.h"
#include "util/error.h"

namespace parallax {

SfmInput loadSfmInput(const Database& db) {
  SfmInput in;
  for (const Camera& c : db.readCameras()) in.cameras[c.camera_id] = c;
  in.images = db.readImages();
  std::map<uint32_t, size_t> indexOf;
  for (size_t i = 0; i < in.images.size(); ++i) {
    indexOf[in.images[i].image_id] = i;
    std::vector<Eigen::Vector2d> xy;
    for (const FeatureKeypoint& k : db.readKeypoints(in.images[i].image_id))
      xy.emplace_back(k.x, k.y);
    in.keypoints.push_back(std::move(xy));
  }
  for (const auto& [id1, id2] : db.verifiedPairs()) {
    if (!indexOf.count(id1) || !indexOf.count(id2)) continue;
    SfmInput::Pair p;
    p.a = indexOf[id1];
    p.b = indexOf[id2];
    TwoViewGeometry g = db.readTwoViewGeometry(id1, id2);
    p.config = g.config;
    p.inliers = std::move(g.inliers);
    const size_t na = in.keypoints[p.a].size(), nb = in.keypoints[p.b].size();
    p.inliers.erase(std::remove_if(p.inliers.begin(), p.inliers.end(),
                                   [&](const auto& m) { return m.first >= na || m.second >= nb; }),
                    p.inliers.end());
    if (!p.inliers.empty()) in.pairs.push_back(std::move(p));
  }
  return in;
}

Eigen::Vector3d triangulatePoint(const Rigid3d& cam1, const Rigid3d& cam2,
                                 const Eigen::Vector2d& ray1, const Eigen::Vector2d& ray2) {
  const Eigen::Matrix<double, 3, 4> P1 = cam1.matrix(), P2 = cam2.matrix();
  Eigen::Matrix4d A;
  A.row(0) = ray1.x() * P1.row(2) - P1.row(0);
  A.row(1) = ray1.y() * P1.row(2) - P1.row(1);
  A.row(2) = ray2.x() * P2.row(2) - P2.row(0);
  A.row(3) = ray2.y() * P2.row(2) - P2.row(1);
  const Eigen::JacobiSVD<Eigen::Matrix4d> svd(A, Eigen::ComputeFullV);
  const Eigen::Vector4d X = svd.matrixV().col(3);
  return X.head<3>() / X(3);
}

double triangulationAngle(const Eigen::Vector3d& c1, const Eigen::Vector3d& c2,
                          const Eigen::Vector3d& X) {
  const Eigen::Vector3d a = (X - c1).normalized(), b = (X - c2).normalized();
  return std::acos(std::clamp(a.dot(b), -1.0, 1.0));
}

namespace {

constexpr double kDegree = M_PI / 180.0;
constexpr int kMinViewsForPrincipalPoint = 5;
constexpr int kMinCoveredCells = 80;  // of 10 x 10 over the frame

struct Observation {
  uint32_t image = 0;  // index into SfmInput::images
  uint32_t feature = 0;
};

// Feature tracks: connected components of the match graph over (image, feature),
// built from the strongest pairs first. Two components are not joined when they
// would put two features of one photo into one track: on repetitive texture, chains
// of individually plausible matches otherwise merge into giant tracks that hold
// hundreds of features per photo, and no pose fits them.
struct Tracks {
  std::vector<std::vector<Observation>> tracks;
  std::vector<std::vector<int32_t>> trackOf;  // per image, per feature: track or -1
  size_t conflicts = 0;  // matches left out because they would join inconsistent tracks

  explicit Tracks(const SfmInput& in) {
    std::vector<size_t> offset(in.images.size() + 1, 0);
    for (size_t i = 0; i < in.images.size(); ++i)
      offset[i + 1] = offset[i] + in.keypoints[i].size();
    std::vector<uint32_t> parent(offset.back());
    std::iota(parent.begin(), parent.end(), 0u);
    auto find = [&](uint32_t x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];
      return x;
    };
    // Per component root: the photos it has a feature in (sorted), filled on first merge.
    std::vector<std::vector<uint32_t>> imagesOf(offset.back());
    auto imageOfNode = [&](uint32_t node) {
      return uint32_t(std::upper_bound(offset.begin(), offset.end(), size_t(node)) -
                      offset.begin() - 1);
    };
    auto photos = [&](uint32_t root) -> std::vector<uint32_t>& {
      if (imagesOf[root].empty()) imagesOf[root].push_back(imageOfNode(root));
      return imagesOf[root];
    };
    std::vector<size_t> order(in.pairs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return in.pairs[x].inliers.size() > in.pairs[y].inliers.size();
    });
    std::vector<char> matched(offset.back(), 0);
    std::vector<uint32_t> merged;
    for (size_t k : order) {
      const auto& p = in.pairs[k];
      for (const auto& [fa, fb] : p.inliers) {
        const uint32_t u = uint32_t(offset[p.a] + fa), v = uint32_t(offset[p.b] + fb);
        const uint32_t ru = find(u), rv = find(v);
        if (ru == rv) continue;
        std::vector<uint32_t>&a = photos(ru), &b = photos(rv);
        merged.clear();
        std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(merged));
        if (merged.size() != a.size() + b.size()) {
          ++conflicts;
          continue;
        }
        matched[u] = matched[v] = 1;
        const uint32_t root = std::min(ru, rv), other = std::max(ru, rv);
        parent[other] = root;
        imagesOf[root].swap(merged);
        std::vector<uint32_t>().swap(imagesOf[other]);
      }
    }
    std::vector<int32_t> trackOfRoot(offset.back(), -1);
    trackOf.resize(in.images.size());
    for (size_t i = 0; i < in.images.size(); ++i) {
      trackOf[i].assign(in.keypoints[i].size(), -1);
      for (size_t f = 0; f < in.keypoints[i].size(); ++f) {
        const uint32_t node = uint32_t(offset[i] + f);
        if (!matched[node]) continue;
        const uint32_t root = find(node);
        if (trackOfRoot[root] < 0) {
          trackOfRoot[root] = int32_t(tracks.size());
          tracks.emplace_back();
        }
        trackOf[i][f] = trackOfRoot[root];
        tracks[size_t(trackOfRoot[root])].push_back({uint32_t(i), uint32_t(f)});
      }
    }
  }
};

class Mapper {
 public:
  Mapper(const SfmInput& in, const MapperOptions& o,
         const std::function<void(const MapperProgress&, const Reconstruction&)>& observer)
      : in_(in), o_(o), observer_(observer), tracks_(in), used_(in.images.size(), 0) {}

  MapperResult run() {
    MapperResult result;
    if (in_.images.size() < 2)
      throw Error("could not find an initial pair: the project has " +
                  std::to_string(in_.images.size()) +
                  " photo; a reconstruction needs at least two overlapping photos");
    if (in_.pairs.empty())
      throw Error(
          "could not find an initial pair: no two photos share enough consistent feature matches. "
          "The photos may not overlap, or show a blank or repetitive surface; take photos with "
          "more overlap (about 60-80% between neighbours) of a textured subject");
    const size_t minModel =
        std::min<size_t>(size_t(std::max(2, o_.min_model_size)), in_.images.size());
    while (result.models.size() < size_t(o_.max_num_models)) {
      throwIfCancelled();
      if (!initialize()) break;
      growModel();
      if (numRegistered() >= minModel) {
        for (size_t i = 0; i < reg_.size(); ++i)
          if (reg_[i]) used_[i] = 1;
        result.models.push_back(std::move(rec_));
        ++modelIndex_;
      } else {
        initStats_.largest_small_model = std::max(initStats_.largest_small_model, numRegistered());
      }
      rec_ = Reconstruction();
      if (!o_.multiple_models) break;
    }
    if (result.models.empty()) throw Error("could not find an initial pair: " + initFailure());
    std::stable_sort(result.models.begin(), result.models.end(),
                     [](const Reconstruction& a, const Reconstruction& b) {
                       return a.images.size() > b.images.size();
                     });
    size_t registered = 0;
    for (const auto& m : result.models) registered += m.images.size();
    if (registered < in_.images.size()) {
      std::string names;
      size_t listed = 0;
      for (size_t i = 0; i < in_.images.size(); ++i)
        if (!used_[i] && listed++ < 5) names += (names.empty() ? "" : ", ") + in_.images[i].name;
      result.notes.push_back(std::to_string(in_.images.size() - registered) + " of " +
                             std::to_string(in_.images.size()) +
                             " photos could not be registered (" + names +
                             (in_.images.size() - registered > 5 ? ", ..." : "") +
                             "): they share too few consistent matches with the others");
    }
    return result;
  }

 private:
  // ---- model bookkeeping -------------------------------------------------
  static uint64_t pointId(size_t track) { return uint64_t(track) + 1; }
  static size_t trackOfPoint(uint64_t id) { return size_t(id - 1); }
  uint32_t idOf(size_t index) const { return in_.images[index].image_id; }
  size_t numRegistered() const { return rec_.images.size(); }
  Camera& cameraOf(size_t index) { return rec_.cameras.at(in_.images[index].camera_id); }
  Image& imageOf(size_t index) { return rec_.images.at(idOf(index)); }

  Eigen::Vector2d ray(size_t index, uint32_t feature) {
    return cameraOf(index).camFromImg(in_.keypoints[index][feature]).head<2>();
  }

  double reprojectionError(size_t index, const Eigen::Vector3d& X, uint32_t feature) {
    const Eigen::Vector3d xc = imageOf(index).cam_from_world * X;
    if (xc.z() <= 1e-8) return std::numeric_limits<double>::infinity();
    return (cameraOf(index).imgFromCam(xc) - in_.keypoints[index][feature]).norm();
  }

  bool hasObservationIn(const Point3D& p, uint32_t imageId) const {
    for (const auto& el : p.track)
      if (el.image_id == imageId) return true;
    return false;
  }

  bool addObservation(uint64_t pid, size_t index, uint32_t feature) {
    Point3D& p = rec_.points3D.at(pid);
    Image& im = imageOf(index);
    if (im.points2D[feature].point3D_id != kInvalidPoint3DId || hasObservationIn(p, im.image_id))
      return false;
    im.points2D[feature].point3D_id = pid;
    p.track.push_back({im.image_id, feature});
    return true;
  }

  void deletePoint(uint64_t pid) {
    auto it = rec_.points3D.find(pid);
    if (it == rec_.points3D.end()) return;
    for (const auto& el : it->second.track)
      rec_.images.at(el.image_id).points2D[el.point2D_idx].point3D_id = kInvalidPoint3DId;
    rec_.points3D.erase(it);
  }

  void createImage(size_t index, const Rigid3d& pose) {
    Image im;
    im.image_id = idOf(index);
    im.name = in_.images[index].name;
    im.camera_id = in_.images[index].camera_id;
    im.cam_from_world = pose;
    im.points2D.resize(in_.keypoints[index].size());
    for (size_t f = 0; f < im.points2D.size(); ++f) im.points2D[f].xy = in_.keypoints[index][f];
    rec_.images[im.image_id] = std::move(im);
    reg_[index] = 1;
  }

  void deregisterImage(size_t index) {
    Image& im = imageOf(index);
    for (size_t f = 0; f < im.points2D.size(); ++f) {
      const uint64_t pid = im.points2D[f].point3D_id;
      if (pid == kInvalidPoint3DId) continue;
      Point3D& p = rec_.points3D.at(pid);
      p.track.erase(std::remove_if(p.track.begin(), p.track.end(),
                                   [&](const TrackElement& el) { return el.image_id == im.image_id; }),
                    p.track.end());
      if (p.track.size() < 2) deletePoint(pid);
    }
    rec_.images.erase(im.image_id);
    reg_[index] = 0;
  }

  // ---- initialisation ------------------------------------------------------
  struct InitStats {
    int best_inliers = 0;  // matches fitting a relative pose with points in front
    size_t max_verified = 0;  // verified matches of the pairs tried
    double best_angle_deg = 0;
    size_t best_points = 0;
    size_t largest_small_model = 0;  // a model that started but stayed below min_model_size
    int tried = 0;
  } initStats_;

  std::string initFailure() const {
    char buf[640];
    const double minAngle = o_.init_min_tri_angle_deg / 4;
    if (initStats_.largest_small_model > 0) {
      std::snprintf(buf, sizeof buf,
                    "at most %zu photos could be posed together, fewer than the %d a model needs "
                    "(sparse.min_model_size). The photos overlap too little: take them closer "
                    "together (about 10-20 deg apart around an object, 60-80%% overlap)",
                    initStats_.largest_small_model, o_.min_model_size);
    } else if (initStats_.max_verified >= 15 && (initStats_.best_inliers < 15 ||
                                                 initStats_.best_angle_deg < minAngle)) {
      // Matches that fit no camera motion with parallax: no baseline between the shots.
      std::snprintf(buf, sizeof buf,
                    "the overlapping photos were taken from (nearly) the same position: the widest "
                    "median triangulation angle is %.1f deg, at least %.1f deg needed. Identical "
                    "photos or a camera turning on the spot cannot be triangulated; move the camera "
                    "between shots",
                    initStats_.best_angle_deg, minAngle);
    } else if (initStats_.tried == 0 || initStats_.best_inliers < 15) {
      std::snprintf(buf, sizeof buf,
                    "no photo pair has enough consistent matches (the best has %d, at least %d "
                    "needed). The photos may not overlap, or show a blank or repetitive surface",
                    initStats_.best_inliers, std::max(15, o_.init_min_num_inliers / 4));
    } else {
      std::snprintf(buf, sizeof buf,
                    "no photo pair gave a stable start (at most %d matches fit a relative pose, "
                    "%zu points triangulated). The photos overlap too little or show a repetitive "
                    "surface",
                    initStats_.best_inliers, initStats_.best_points);
    }
    return buf;
  }

  bool initialize() {
    // Strict first, then relaxed, as a user would rather get a model than none.
    const std::pair<int, double> levels[] = {
        {o_.init_min_num_inliers, o_.init_min_tri_angle_deg},
        {std::max(15, o_.init_min_num_inliers / 2), o_.init_min_tri_angle_deg / 2},
        {std::max(15, o_.init_min_num_inliers / 4), o_.init_min_tri_angle_deg / 4}};
    std::vector<size_t> order(in_.pairs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return in_.pairs[x].inliers.size() > in_.pairs[y].inliers.size();
    });
    for (size_t level = 0; level < std::size(levels); ++level) {
      const auto [minInliers, minAngle] = levels[level];
      int trials = 0;
      for (size_t k : order) {
        const auto& p = in_.pairs[k];
        if (used_[p.a] || used_[p.b] || p.config == kDegenerate) continue;
        // A pair explained by a homography (a plane, or a camera turning on the spot) gives
        // an ambiguous relative pose: used only as a last resort.
        const bool planar =
            p.config == kPlanar || p.config == kPanoramic || p.config == kPlanarOrPanoramic;
        if (planar && level + 1 < std::size(levels)) continue;
        if (int(p.inliers.size()) < minInliers) break;
        // A pair that already started a model would start the same one again.
        if (startedFrom_.count(k) || triedInit_.count({k, minAngle})) continue;
        if (trials++ >= o_.init_max_trials) break;
        triedInit_.insert({k, minAngle});
        if (initializeFrom(p, minInliers, minAngle)) {
          startedFrom_.insert(k);
          return true;
        }
      }
    }
    return false;
  }

  bool initializeFrom(const SfmInput::Pair& p, int minInliers, double minAngleDeg) {
    ++initStats_.tried;
    initStats_.max_verified = std::max(initStats_.max_verified, p.inliers.size());
    rec_ = Reconstruction();
    rec_.cameras = in_.cameras;
    reg_.assign(in_.images.size(), 0);
    failedTries_.assign(in_.images.size(), 0);
    droppedTimes_.assign(in_.images.size(), 0);
    std::vector<cv::Point2d> na, nb;
    for (const auto& [fa, fb] : p.inliers) {
      const Eigen::Vector2d ra = ray(p.a, fa), rb = ray(p.b, fb);
      na.emplace_back(ra.x(), ra.y());
      nb.emplace_back(rb.x(), rb.y());
    }
    const double focal = 0.5 * (cameraOf(p.a).focalX() + cameraOf(p.b).focalX());
    cv::Mat mask;
    cv::Mat E = cv::findEssentialMat(na, nb, cv::Mat::eye(3, 3, CV_64F), cv::RANSAC, 0.9999,
                                     o_.max_reproj_error_px / focal, mask);
    if (E.rows < 3) return false;
    cv::Mat R, t;
    const int good = cv::recoverPose(E.rowRange(0, 3), na, nb, cv::Mat::eye(3, 3, CV_64F), R, t,
                                     mask);
    initStats_.best_inliers = std::max(initStats_.best_inliers, good);
    if (good < minInliers) return false;
    Eigen::Matrix3d r;
    Eigen::Vector3d tv;
    cv::cv2eigen(R, r);
    cv::cv2eigen(t, tv);
    createImage(p.a, Rigid3d());
    createImage(p.b, Rigid3d(Eigen::Quaterniond(r).normalized(), tv.normalized()));
    gaugeFirst_ = idOf(p.a);
    gaugeSecond_ = idOf(p.b);

    std::vector<double> angles;
    const Eigen::Vector3d ca = imageOf(p.a).projectionCenter(),
                          cb = imageOf(p.b).projectionCenter();
    for (size_t k = 0; k < p.inliers.size(); ++k) {
      if (!mask.at<uchar>(int(k))) continue;
      const auto [fa, fb] = p.inliers[k];
      const int32_t track = tracks_.trackOf[p.a][fa];
      if (track < 0 || rec_.points3D.count(pointId(size_t(track)))) continue;
      const Eigen::Vector3d X = triangulatePoint(imageOf(p.a).cam_from_world,
                                                 imageOf(p.b).cam_from_world, ray(p.a, fa),
                                                 ray(p.b, fb));
      if (!X.allFinite() || reprojectionError(p.a, X, fa) > o_.max_reproj_error_px ||
          reprojectionError(p.b, X, fb) > o_.max_reproj_error_px)
        continue;
      angles.push_back(triangulationAngle(ca, cb, X));
      newPoint(size_t(track), X);
      addObservation(pointId(size_t(track)), p.a, fa);
      addObservation(pointId(size_t(track)), p.b, fb);
    }
    double median = 0;
    if (!angles.empty()) {
      std::nth_element(angles.begin(), angles.begin() + angles.size() / 2, angles.end());
      median = angles[angles.size() / 2] / kDegree;
    }
    initStats_.best_angle_deg = std::max(initStats_.best_angle_deg, median);
    initStats_.best_points = std::max(initStats_.best_points, angles.size());
    if (int(angles.size()) < minInliers || median < minAngleDeg) {
      rec_ = Reconstruction();
      reg_.assign(in_.images.size(), 0);
      return false;
    }
    // Two views cannot pin down focal lengths: hold intrinsics until more views join.
    BundleConfig config;
    config.variable_images = {gaugeFirst_, gaugeSecond_};
    config.constant_poses = {gaugeFirst_};
    config.scale_gauge_image = gaugeSecond_;
    config.constant_cameras = {in_.images[p.a].camera_id, in_.images[p.b].camera_id};
    bundleAdjust(rec_, config, o_.ba);  // intrinsics constant: principal points stay
    filterObservations({gaugeFirst_, gaugeSecond_});
    triangulateImage(p.b);
    char note[160];
    std::snprintf(note, sizeof note, " (%zu points, median triangulation angle %.1f deg)",
                  rec_.points3D.size(), median);
    report("model " + std::to_string(modelIndex_ + 1) + " started from " + in_.images[p.a].name +
               " and " + in_.images[p.b].name + note,
           true);
    return numRegistered() == 2 && rec_.points3D.size() >= size_t(minInliers / 2);
  }

  void newPoint(size_t track, const Eigen::Vector3d& X) {
    Point3D p;
    p.xyz = X;
    rec_.points3D[pointId(track)] = std::move(p);
  }

  // ---- growth --------------------------------------------------------------
  void growModel() {
    size_t lastGlobal = numRegistered();
    while (true) {
      throwIfCancelled();
      const std::vector<size_t> candidates = nextImages();
      bool registered = false;
      for (size_t index : candidates) {
        if (registerImage(index)) {
          registered = true;
          triangulateImage(index);
          if (numRegistered() <= 12 || numRegistered() >= o_.global_ba_growth * lastGlobal) {
            globalRefinement(1, 10);
            lastGlobal = numRegistered();
          } else {
            localRefinement(index);
          }
          if (!reg_[index]) break;  // refinement showed the pose implausible: dropped again
          report("registered " + in_.images[index].name + " (" + lastRegistration_ + ")");
          // The model changed: images that failed before may fit now.
          std::fill(failedTries_.begin(), failedTries_.end(), 0);
          break;
        }
        ++failedTries_[index];
      }
      if (!registered) break;
    }
    globalRefinement(3, o_.ba.max_iterations);
    report("model " + std::to_string(modelIndex_ + 1) + " finished", true);
  }

  // Unregistered images ranked by how many reconstructed points they see. Images
  // linked to the model only through pairs a homography explains come last: such
  // links (a textured floor, repeated tiles) are where false matches agree with
  // each other, and registering from them alone can flip a camera. A general link
  // must be strong enough to register from by itself (abs_pose_min_num_inliers): a
  // few dozen matches on thin poles pass an uncalibrated two-view test by chance and
  // would let the floor's false matches place the camera.
  std::vector<size_t> nextImages() {
    std::vector<std::tuple<bool, size_t, size_t>> scored;  // (general link, visible, index)
    std::vector<char> generalLink(in_.images.size(), 0);
    for (const auto& p : in_.pairs) {
      if (p.config != kCalibrated && p.config != kUncalibrated) continue;
      if (int(p.inliers.size()) < o_.abs_pose_min_num_inliers) continue;
      if (reg_[p.a]) generalLink[p.b] = 1;
      if (reg_[p.b]) generalLink[p.a] = 1;
    }
    for (size_t i = 0; i < in_.images.size(); ++i) {
      // An image dropped twice after registering (implausible pose, too few observations
      // left) is not tried again in this model: it would register and drop for ever.
      if (reg_[i] || used_[i] || failedTries_[i] >= 2 || droppedTimes_[i] >= 2) continue;
      std::set<size_t> seen;
      for (int32_t t : tracks_.trackOf[i])
        if (t >= 0 && rec_.points3D.count(pointId(size_t(t)))) seen.insert(size_t(t));
      if (int(seen.size()) >= o_.abs_pose_min_num_inliers)
        scored.emplace_back(generalLink[i] != 0, seen.size(), i);
    }
    std::sort(scored.rbegin(), scored.rend());
    std::vector<size_t> out;
    for (const auto& s : scored) out.push_back(std::get<2>(s));
    return out;
  }

  bool registerImage(size_t index) {
    struct Corr {
      uint32_t feature;
      uint64_t pid;
    };
    std::vector<Corr> corrs;
    std::vector<cv::Point3d> object;
    std::vector<cv::Point2d> imagePts;
    Camera camera = cameraOf(index);
    for (uint32_t f = 0; f < tracks_.trackOf[index].size(); ++f) {
      const int32_t t = tracks_.trackOf[index][f];
      if (t < 0) continue;
      auto it = rec_.points3D.find(pointId(size_t(t)));
      if (it == rec_.points3D.end()) continue;
      corrs.push_back({f, it->first});
      object.emplace_back(it->second.xyz.x(), it->second.xyz.y(), it->second.xyz.z());
      const Eigen::Vector3d r = camera.camFromImg(in_.keypoints[index][f]);
      imagePts.emplace_back(r.x(), r.y());
    }
    if (int(corrs.size()) < o_.abs_pose_min_num_inliers) return false;
    cv::Mat rvec, tvec;
    std::vector<int> inliers;
    const double focal = 0.5 * (camera.focalX() + camera.focalY());
    bool ok = false;
    try {
      ok = cv::solvePnPRansac(object, imagePts, cv::Mat::eye(3, 3, CV_64F), cv::noArray(), rvec,
                              tvec, false, 5000, float(o_.abs_pose_max_error_px / focal), 0.9999,
                              inliers, cv::SOLVEPNP_AP3P);
    } catch (const cv::Exception&) {
      ok = false;
    }
    if (!ok || int(inliers.size()) < o_.abs_pose_min_num_inliers ||
        double(inliers.size()) < o_.abs_pose_min_inlier_ratio * double(corrs.size()))
      return false;
    cv::Mat Rcv;
    cv::Rodrigues(rvec, Rcv);
    Eigen::Matrix3d R;
    Eigen::Vector3d t;
    cv::cv2eigen(Rcv, R);
    cv::cv2eigen(tvec, t);
    Image probe;
    probe.cam_from_world = Rigid3d(Eigen::Quaterniond(R).normalized(), t);
    std::vector<std::pair<Eigen::Vector2d, Eigen::Vector3d>> matches;
    for (int k : inliers)
      matches.emplace_back(in_.keypoints[index][corrs[size_t(k)].feature],
                           rec_.points3D.at(corrs[size_t(k)].pid).xyz);
    // A camera seen for the first time without a focal prior gets its focal length from here.
    bool cameraInUse = false;
    for (const auto& [id, im] : rec_.images) cameraInUse |= im.camera_id == camera.camera_id;
    const bool refineFocal =
        o_.ba.refine_focal_length && !camera.has_prior_focal_length && !cameraInUse;
    const double focalBefore = camera.focalX();
    if (!refineAbsolutePose(probe, camera, matches, refineFocal, o_.ba.loss_scale_px))
      return false;
    if (!(camera.focalX() > 0.2 * focalBefore && camera.focalX() < 5 * focalBefore)) return false;
    if (refineFocal) rec_.cameras[camera.camera_id] = camera;
    createImage(index, probe.cam_from_world);
    size_t added = 0;
    for (const Corr& c : corrs)
      if (reprojectionError(index, rec_.points3D.at(c.pid).xyz, c.feature) <=
              o_.max_reproj_error_px &&
          addObservation(c.pid, index, c.feature))
        ++added;
    if (int(added) < o_.abs_pose_min_num_inliers / 2) {
      deregisterImage(index);
      return false;
    }
    lastRegistration_ = std::to_string(inliers.size()) + " of " + std::to_string(corrs.size()) +
                        " 2D-3D matches fit its pose";
    return true;
  }

  // Creates points for the image's tracks that have none yet, from its own
  // observation and the best-supported other registered view.
  size_t triangulateImage(size_t index) {
    size_t created = 0;
    for (uint32_t f = 0; f < tracks_.trackOf[index].size(); ++f) {
      const int32_t t = tracks_.trackOf[index][f];
      if (t < 0 || rec_.points3D.count(pointId(size_t(t)))) continue;
      created += triangulateTrack(size_t(t), Observation{uint32_t(index), f});
    }
    return created;
  }

  // `anchor`: an observation the point must include (image.image == UINT32_MAX: any).
  bool triangulateTrack(size_t track, Observation anchor) {
    std::vector<Observation> obs;
    std::set<uint32_t> images;
    if (anchor.image != UINT32_MAX) {
      obs.push_back(anchor);
      images.insert(anchor.image);
    }
    for (const Observation& o : tracks_.tracks[track])
      if (reg_[o.image] && images.insert(o.image).second) obs.push_back(o);
    if (obs.size() < 2) return false;
    const size_t maxFirst = anchor.image != UINT32_MAX ? 1 : std::min<size_t>(obs.size(), 6);
    Eigen::Vector3d best = Eigen::Vector3d::Zero();
    std::vector<size_t> bestSupport;
    for (size_t i = 0; i < maxFirst; ++i) {
      for (size_t j = i + 1; j < obs.size(); ++j) {
        const Observation &a = obs[i], &b = obs[j];
        const Eigen::Vector3d X =
            triangulatePoint(imageOf(a.image).cam_from_world, imageOf(b.image).cam_from_world,
                             ray(a.image, a.feature), ray(b.image, b.feature));
        if (!X.allFinite()) continue;
        if (triangulationAngle(imageOf(a.image).projectionCenter(),
                               imageOf(b.image).projectionCenter(), X) <
            o_.min_tri_angle_deg * kDegree)
          continue;
        std::vector<size_t> support;
        for (size_t k = 0; k < obs.size(); ++k)
          if (reprojectionError(obs[k].image, X, obs[k].feature) <= o_.max_reproj_error_px)
            support.push_back(k);
        const bool hasPair = std::count(support.begin(), support.end(), i) &&
                             std::count(support.begin(), support.end(), j);
        if (hasPair && support.size() > bestSupport.size()) {
          bestSupport = support;
          best = X;
        }
      }
    }
    if (bestSupport.size() < 2) return false;
    newPoint(track, best);
    size_t added = 0;
    for (size_t k : bestSupport)
      added += addObservation(pointId(track), obs[k].image, obs[k].feature);
    if (added < 2) {
      deletePoint(pointId(track));
      return false;
    }
    return true;
  }

  // Adds observations of existing points in registered images that fit.
  void completeTracks() {
    for (auto& [pid, point] : rec_.points3D) {
      const size_t track = trackOfPoint(pid);
      for (const Observation& o : tracks_.tracks[track]) {
        if (!reg_[o.image] || hasObservationIn(point, idOf(o.image))) continue;
        if (imageOf(o.image).points2D[o.feature].point3D_id != kInvalidPoint3DId) continue;
        if (reprojectionError(o.image, point.xyz, o.feature) <= o_.max_reproj_error_px)
          addObservation(pid, o.image, o.feature);
      }
    }
  }

  void retriangulate() {
    for (size_t t = 0; t < tracks_.tracks.size(); ++t) {
      if (rec_.points3D.count(pointId(t))) continue;
      size_t registered = 0;
      for (const Observation& o : tracks_.tracks[t]) registered += reg_[o.image];
      if (registered >= 2) triangulateTrack(t, Observation{UINT32_MAX, 0});
    }
  }

  // Removes observations that reproject badly and points seen at too narrow an angle.
  size_t filterObservations(const std::set<uint32_t>& imageIds) {
    size_t removed = 0;
    std::set<uint64_t> touched;
    for (uint32_t id : imageIds) {
      Image& im = rec_.images.at(id);
      for (const Point2D& p2 : im.points2D)
        if (p2.point3D_id != kInvalidPoint3DId) touched.insert(p2.point3D_id);
    }
    for (uint64_t pid : touched) {
      Point3D& p = rec_.points3D.at(pid);
      const size_t before = p.track.size();
      std::vector<TrackElement> keep;
      for (const TrackElement& el : p.track) {
        const Image& im = rec_.images.at(el.image_id);
        const Eigen::Vector3d xc = im.cam_from_world * p.xyz;
        const bool good = xc.z() > 1e-8 && (rec_.cameras.at(im.camera_id).imgFromCam(xc) -
                                            im.points2D[el.point2D_idx].xy)
                                                   .norm() <= o_.max_reproj_error_px;
        if (good)
          keep.push_back(el);
        else
          rec_.images.at(el.image_id).points2D[el.point2D_idx].point3D_id = kInvalidPoint3DId;
      }
      p.track = std::move(keep);
      removed += before - p.track.size();
      if (p.track.size() < 2 || maxAngle(p) < o_.min_tri_angle_deg * kDegree) {
        removed += p.track.size();
        deletePoint(pid);
      }
    }
    return removed;
  }

  double maxAngle(const Point3D& p) const {
    double best = 0;
    const size_t n = std::min<size_t>(p.track.size(), 12);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < p.track.size(); ++j) {
        best = std::max(best, triangulationAngle(
                                  rec_.images.at(p.track[i].image_id).projectionCenter(),
                                  rec_.images.at(p.track[j].image_id).projectionCenter(), p.xyz));
        if (best >= o_.min_tri_angle_deg * kDegree) return best;
      }
    return best;
  }

  std::set<uint32_t> registeredIds() const {
    std::set<uint32_t> ids;
    for (const auto& [id, im] : rec_.images) ids.insert(id);
    return ids;
  }

  void localRefinement(size_t index) {
    const uint32_t id = idOf(index);
    std::map<uint32_t, size_t> shared;
    for (const Point2D& p2 : imageOf(index).points2D) {
      if (p2.point3D_id == kInvalidPoint3DId) continue;
      for (const TrackElement& el : rec_.points3D.at(p2.point3D_id).track)
        if (el.image_id != id) ++shared[el.image_id];
    }
    std::vector<std::pair<size_t, uint32_t>> ranked;
    for (const auto& [other, n] : shared) ranked.emplace_back(n, other);
    std::sort(ranked.rbegin(), ranked.rend());
    BundleConfig config;
    config.variable_images.insert(id);
    for (size_t k = 0; k < ranked.size() && int(k) + 1 < o_.local_ba_num_images; ++k)
      config.variable_images.insert(ranked[k].second);
    if (config.variable_images.count(gaugeFirst_)) config.constant_poses.insert(gaugeFirst_);
    if (config.variable_images.count(gaugeSecond_)) config.scale_gauge_image = gaugeSecond_;
    // Intrinsics shared with images outside the window stay as they are.
    for (const auto& [otherId, im] : rec_.images)
      if (!config.variable_images.count(otherId)) config.constant_cameras.insert(im.camera_id);
    BundleOptions local = o_.ba;
    local.refine_principal_point = false;
    local.max_iterations = 25;  // as COLMAP: the window is refined again later
    bundleAdjust(rec_, config, local);
    filterObservations(config.variable_images);
    completeTracks();
  }

  void globalRefinement(int rounds, int maxIterations) {
    BundleOptions options = o_.ba;
    options.max_iterations = maxIterations;
    for (int r = 0; r < rounds; ++r) {
      throwIfCancelled();
      // Later rounds only settle the few observations the filter changed.
      if (r == 1) options.max_iterations = std::max(10, maxIterations / 4);
      BundleConfig config;
      config.variable_images = registeredIds();
      config.constant_poses = {gaugeFirst_};
      config.scale_gauge_image = gaugeSecond_;
      // Focal lengths are only observable with enough views.
      if (numRegistered() < 3)
        for (const auto& [id, im] : rec_.images) config.constant_cameras.insert(im.camera_id);
      for (const auto& [cid, camera] : rec_.cameras)
        if (!principalPointObservable(cid)) config.fixed_principal_point_cameras.insert(cid);
      bundleAdjust(rec_, config, options);
      const size_t removed = filterObservations(registeredIds());
      dropImplausibleCameras();
      retriangulate();
      completeTracks();
      if (removed == 0 && r > 0) break;
    }
  }

  // A principal point is determined only by many views through the same lens whose
  // points cover most of the frame (as in a calibration); otherwise it trades off
  // against rotation and distortion, and stays at the image centre.
  bool principalPointObservable(uint32_t cameraId) const {
    constexpr int kGrid = 10;
    std::vector<char> cells(kGrid * kGrid, 0);
    int views = 0;
    const Camera& camera = rec_.cameras.at(cameraId);
    for (const auto& [id, im] : rec_.images) {
      if (im.camera_id != cameraId) continue;
      ++views;
      for (const Point2D& p2 : im.points2D) {
        if (p2.point3D_id == kInvalidPoint3DId) continue;
        const int cx = std::clamp(int(p2.xy.x() * kGrid / camera.width), 0, kGrid - 1);
        const int cy = std::clamp(int(p2.xy.y() * kGrid / camera.height), 0, kGrid - 1);
        cells[size_t(cy * kGrid + cx)] = 1;
      }
    }
    const int covered = int(std::count(cells.begin(), cells.end(), 1));
    return views >= kMinViewsForPrincipalPoint && covered >= kMinCoveredCells;
  }

  // COLMAP's image filter: cameras whose focal length or distortion ran off.
  void dropImplausibleCameras() {
    for (size_t i = 0; i < in_.images.size(); ++i) {
      if (!reg_[i] || idOf(i) == gaugeFirst_ || idOf(i) == gaugeSecond_) continue;
      const Camera& c = cameraOf(i);
      const double ratio = c.focalX() / std::max(c.width, c.height);
      bool bad = ratio < 0.1 || ratio > 10;
      for (size_t k = 0; k < c.params.size(); ++k) {
        const bool extra = (c.model_id == kSimpleRadial || c.model_id == kRadial) ? k >= 3
                           : c.model_id == kOpenCV                              ? k >= 4
                                                                                 : false;
        if (extra && std::abs(c.params[k]) > 1.0) bad = true;
      }
      size_t observed = 0;
      for (const Point2D& p2 : imageOf(i).points2D) observed += p2.point3D_id != kInvalidPoint3DId;
      if (bad || observed < 10) {
        deregisterImage(i);
        ++failedTries_[i];
        ++droppedTimes_[i];
      }
    }
  }

  void report(const std::string& message, bool milestone = false) {
    if (!observer_) return;
    MapperProgress progress;
    progress.model_index = modelIndex_;
    progress.milestone = milestone;
    progress.registered = numRegistered();
    progress.total_images = in_.images.size();
    progress.num_points = rec_.points3D.size();
    progress.message = message;
    observer_(progress, rec_);
  }

  const SfmInput& in_;
  const MapperOptions& o_;
  const std::function<void(const MapperProgress&, const Reconstruction&)>& observer_;
  Tracks tracks_;
  std::vector<char> used_;  // registered in a finished model
  std::set<std::pair<size_t, double>> triedInit_;
  std::set<size_t> startedFrom_;
  Reconstruction rec_;
  std::vector<char> reg_;
  std::vector<int> failedTries_;
  std::vector<int> droppedTimes_;  // per image, in the current model
  uint32_t gaugeFirst_ = 0, gaugeSecond_ = 0;
  std::string lastRegistration_;
  size_t modelIndex_ = 0;
};

}  // namespace

MapperResult runIncrementalMapper(
    const SfmInput& input, const MapperOptions& options,
    const std::function<void(const MapperProgress&, const Reconstruction&)>& observer) {
  Mapper mapper(input, options, observer);
  return mapper.run();
}

}  // namespace parallax
