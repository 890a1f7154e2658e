#include "segment/geometric.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <open3d/geometry/PointCloud.h>
#include <open3d/utility/Random.h>

#include "surface/cleaning.h"
#include "util/cancel.h"
#include "util/error.h"

namespace parallax {
namespace {

open3d::geometry::PointCloud subset(const PointCloud& cloud, const std::vector<size_t>& ids) {
  open3d::geometry::PointCloud pcd;
  pcd.points_.resize(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) pcd.points_[i] = cloud.points[ids[i]].cast<double>();
  return pcd;
}

// Connected pieces of `ids` (DBSCAN), each a list of cloud indices, and the points
// that join none.
struct Pieces {
  std::vector<std::vector<size_t>> pieces;
  std::vector<size_t> unconnected;
};
Pieces connectedPieces(const PointCloud& cloud, const std::vector<size_t>& ids, double eps,
                       int minPoints) {
  Pieces out;
  if (ids.empty()) return out;
  const std::vector<int> lab = subset(cloud, ids).ClusterDBSCAN(eps, minPoints, false);
  int most = -1;
  for (int l : lab) most = std::max(most, l);
  out.pieces.resize(size_t(most + 1));
  for (size_t i = 0; i < ids.size(); ++i)
    (lab[i] >= 0 ? out.pieces[size_t(lab[i])] : out.unconnected).push_back(ids[i]);
  return out;
}

float quantile(std::vector<float> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, size_t(q * double(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

struct Plane {
  Eigen::Vector3f normal;
  std::vector<size_t> ids;
};

// Up to `count` RANSAC planes, each holding at least `minPoints`, largest first.
std::vector<Plane> ransacPlanes(const PointCloud& cloud, std::vector<size_t> pool, double distance,
                                int count, size_t minPoints, int iterations, uint32_t seed,
                                std::vector<size_t>* rest) {
  open3d::utility::random::Seed(int(seed));
  std::vector<Plane> planes;
  while (int(planes.size()) < count && pool.size() >= std::max<size_t>(minPoints, 3)) {
    throwIfCancelled();
    const auto [model, inliers] = subset(cloud, pool).SegmentPlane(distance, 3, iterations);
    if (inliers.size() < minPoints) break;
    Plane p;
    p.normal = model.head<3>().cast<float>().normalized();
    std::vector<char> in(pool.size(), 0);
    for (size_t k : inliers) in[k] = 1;
    std::vector<size_t> left;
    for (size_t i = 0; i < pool.size(); ++i) (in[i] ? p.ids : left).push_back(pool[i]);
    pool = std::move(left);
    planes.push_back(std::move(p));
  }
  if (rest) *rest = std::move(pool);
  return planes;
}

// A plane piece as a least-squares plane and the rectangle its points span in it.
struct PlaneRectangle {
  std::vector<size_t> ids;
  int32_t label = -1;
  Eigen::Vector3f centre, normal, u, v;
  float uLo = 0, uHi = 0, vLo = 0, vHi = 0;
  float distance(const Eigen::Vector3f& x) const { return std::abs(normal.dot(x - centre)); }
  bool holds(const Eigen::Vector3f& x, float margin) const {
    const Eigen::Vector3f d = x - centre;
    const float a = u.dot(d), b = v.dot(d);
    return a >= uLo - margin && a <= uHi + margin && b >= vLo - margin && b <= vHi + margin;
  }
};

PlaneRectangle fitRectangle(const PointCloud& cloud, const std::vector<size_t>& ids, int32_t label) {
  PlaneRectangle r;
  r.ids = ids;
  r.label = label;
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (size_t i : ids) mean += cloud.points[i].cast<double>();
  mean /= double(ids.size());
  Eigen::Matrix3d cov = Eigen::Matrix3d::Zero();
  for (size_t i : ids) {
    const Eigen::Vector3d d = cloud.points[i].cast<double>() - mean;
    cov += d * d.transpose();
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> eig(cov);  // ascending eigenvalues
  r.centre = mean.cast<float>();
  r.normal = eig.eigenvectors().col(0).cast<float>();
  r.u = eig.eigenvectors().col(2).cast<float>();
  r.v = eig.eigenvectors().col(1).cast<float>();
  r.uLo = r.vLo = std::numeric_limits<float>::max();
  r.uHi = r.vHi = -r.uLo;
  for (size_t i : ids) {
    const Eigen::Vector3f d = cloud.points[i] - r.centre;
    r.uLo = std::min(r.uLo, r.u.dot(d)), r.uHi = std::max(r.uHi, r.u.dot(d));
    r.vLo = std::min(r.vLo, r.v.dot(d)), r.vHi = std::max(r.vHi, r.v.dot(d));
  }
  return r;
}

}  // namespace

LabelTable geometricLabelTable() {
  LabelTable t;
  t.method = "geometric";
  t.classes = {{kGround, "ground", {166, 132, 88}},
               {kWall, "wall", {120, 160, 210}},
               {kCeiling, "ceiling", {230, 220, 140}},
               {kObject, "object", {220, 80, 70}},
               {kNoise, "noise", {110, 110, 110}}};
  return t;
}

void GeometricSegmentOptions::check() const {
  auto bad = [](const std::string& what) { throw Error("segment: " + what); };
  if (!(plane_distance > 0 && plane_distance <= 1000)) bad("plane_distance must be in (0, 1000] point spacings");
  if (max_planes < 0 || max_planes > 200) bad("max_planes must be 0 to 200");
  if (!(min_plane_share > 0 && min_plane_share < 1)) bad("min_plane_share must be in (0, 1)");
  if (!(angle_tolerance_deg > 0 && angle_tolerance_deg < 45)) bad("angle_tolerance must be in (0, 45) degrees");
  if (!(cluster_distance > 0 && cluster_distance <= 1000)) bad("cluster_distance must be in (0, 1000] point spacings");
  if (min_cluster_points < 1) bad("min_cluster_points must be at least 1");
  if (ransac_iterations < 10) bad("ransac_iterations must be at least 10");
  if (max_points < 1000) bad("max_points must be at least 1000");
}

namespace {

// segmentGeometric on every point of `cloud`; plane bands are in `planeSpacing` units,
// clusters in `clusterSpacing` units (0: the cloud's own median spacing, measured).
std::vector<int32_t> segmentAll(const PointCloud& cloud, const Eigen::Vector3f& upIn,
                                const GeometricSegmentOptions& o, GeometricSegmentReport* report,
                                const std::function<void(const std::string&)>& progress, double planeSpacing,
                                double clusterSpacing) {
  const size_t n = cloud.size();
  std::vector<int32_t> labels(n, kNoise);
  GeometricSegmentReport rep;
  if (n < 10) {
    if (report) *report = rep;
    return labels;
  }
  const Eigen::Vector3f up = upIn.normalized();
  rep.spacing = clusterSpacing > 0 ? clusterSpacing : medianSpacing(cloud.points);
  if (!(rep.spacing > 0)) rep.spacing = 1e-6;
  const double distance = o.plane_distance * (planeSpacing > 0 ? planeSpacing : rep.spacing);
  const double eps = o.cluster_distance * rep.spacing;
  const size_t minPlane = std::max<size_t>(10, size_t(o.min_plane_share * double(n)));
  std::vector<float> heights(n);
  for (size_t i = 0; i < n; ++i) heights[i] = cloud.points[i].dot(up);
  const float hLo = quantile(heights, 0.02), hHi = quantile(heights, 0.98);
  const float sceneHeight = std::max(hHi - hLo, 1e-6f);
  const float cosLevel = float(std::cos(o.angle_tolerance_deg * M_PI / 180));
  const float sinUpright = float(std::sin(o.angle_tolerance_deg * M_PI / 180));

  if (progress) progress("finding planes");
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), size_t(0));
  std::vector<size_t> leftover;
  const std::vector<Plane> planes =
      ransacPlanes(cloud, all, distance, o.max_planes, minPlane, o.ransac_iterations, o.seed, &leftover);
  rep.planes = int(planes.size());

  // Pieces of level and upright planes, big enough to keep.
  struct Piece {
    std::vector<size_t> ids;
    bool level = false;
    float height = 0, low = 0, high = 0;
  };
  std::vector<Piece> pieces;
  std::vector<PlaneRectangle> kept;  // the ground, ceiling and wall pieces
  for (const Plane& p : planes) {
    throwIfCancelled();
    const float c = std::abs(p.normal.dot(up));
    const bool level = c >= cosLevel, upright = c <= sinUpright;
    if (!level && !upright) {
      leftover.insert(leftover.end(), p.ids.begin(), p.ids.end());
      continue;
    }
    Pieces parts = connectedPieces(cloud, p.ids, eps, 3);
    leftover.insert(leftover.end(), parts.unconnected.begin(), parts.unconnected.end());
    std::vector<std::vector<size_t>>& split = parts.pieces;
    for (size_t k = 0; k < split.size(); ++k) {
      if (split[k].size() < minPlane) {
        leftover.insert(leftover.end(), split[k].begin(), split[k].end());
        continue;
      }
      Piece piece;
      piece.level = level;
      piece.low = std::numeric_limits<float>::max();
      piece.high = -piece.low;
      double sum = 0;
      for (size_t i : split[k]) {
        sum += heights[i];
        piece.low = std::min(piece.low, heights[i]);
        piece.high = std::max(piece.high, heights[i]);
      }
      piece.height = float(sum / double(split[k].size()));
      piece.ids = std::move(split[k]);
      pieces.push_back(std::move(piece));
    }
  }

  // Ground: the lowest level piece among the large ones (a table top is smaller than
  // the floor); pieces at its height belong to it too. Ceiling: a level piece above
  // nearly everything and well above the ground.
  size_t largestLevel = 0;
  for (const Piece& p : pieces)
    if (p.level) largestLevel = std::max(largestLevel, p.ids.size());
  float groundHeight = std::numeric_limits<float>::max();
  for (const Piece& p : pieces)
    if (p.level && p.ids.size() * 4 >= largestLevel) groundHeight = std::min(groundHeight, p.height);
  const float tol = float(3 * distance);
  for (Piece& p : pieces) {
    int32_t label = -1;
    if (p.level && std::abs(p.height - groundHeight) <= tol) {
      label = kGround;
      rep.ground = true;
    } else if (p.level && p.height >= hHi - tol && p.height > groundHeight + 0.5f * sceneHeight) {
      label = kCeiling;
      rep.ceiling = true;
    } else if (!p.level && p.high - p.low >= float(o.wall_min_height) * sceneHeight) {
      label = kWall;
      ++rep.walls;
    }
    if (label < 0) {
      leftover.insert(leftover.end(), p.ids.begin(), p.ids.end());
      continue;
    }
    for (size_t i : p.ids) labels[i] = label;
    kept.push_back(fitRectangle(cloud, p.ids, label));
  }

  // RANSAC hands a plane every point within its band, so the first of two meeting
  // planes (a wall, then the ceiling) takes a strip of the other: each point goes to the
  // nearest kept plane whose rectangle it lies on.
  std::vector<const PlaneRectangle*> owner(n, nullptr);
  for (const PlaneRectangle& r : kept)
    for (size_t i : r.ids) owner[i] = &r;
  for (const PlaneRectangle& r : kept)
    for (size_t i : r.ids) {
      if (owner[i] != &r) continue;
      const Eigen::Vector3f& x = cloud.points[i];
      float best = r.distance(x);
      for (const PlaneRectangle& q : kept)
        if (&q != &r && q.distance(x) < best && q.holds(x, float(distance))) {
          best = q.distance(x);
          owner[i] = &q;
        }
      labels[i] = owner[i]->label;
    }

  // The rest: objects where points cluster, noise where they do not.
  if (progress) progress("clustering " + std::to_string(leftover.size()) + " points into objects");
  throwIfCancelled();
  const Pieces clusters = connectedPieces(cloud, leftover, eps, 5);
  for (const std::vector<size_t>& c : clusters.pieces) {
    const bool object = c.size() >= size_t(o.min_cluster_points);
    rep.objects += object;
    for (size_t i : c) labels[i] = object ? kObject : kNoise;
  }  // the unconnected stay noise
  if (report) *report = rep;
  return labels;
}

}  // namespace

std::vector<int32_t> segmentGeometric(const PointCloud& cloud, const Eigen::Vector3f& up,
                                      const GeometricSegmentOptions& o, GeometricSegmentReport* report,
                                      const std::function<void(const std::string&)>& progress) {
  o.check();
  if (cloud.size() <= o.max_points) return segmentAll(cloud, up, o, report, progress, o.spacing, o.spacing);
  // A large cloud: planes and clusters found on an even random subset (the planes'
  // bands still as thin as the whole cloud's spacing), every point then taking the label
  // of its nearest subset point.
  if (progress) progress("measuring the point spacing");
  const double spacing = o.spacing > 0 ? o.spacing : medianSpacing(cloud.points);
  std::vector<size_t> order(cloud.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::mt19937 rng(o.seed);
  std::shuffle(order.begin(), order.end(), rng);
  order.resize(o.max_points);
  std::sort(order.begin(), order.end());
  PointCloud subset;
  subset.points.reserve(order.size());
  for (size_t i : order) subset.points.push_back(cloud.points[i]);
  subset.labels = segmentAll(subset, up, o, report, progress, spacing, 0);
  if (progress) progress("labelling the other points by their nearest");
  std::vector<int32_t> labels = transferLabels(subset, cloud.points);
  if (report) report->spacing = spacing;
  return labels;
}

std::optional<Eigen::Vector3f> upFromCameras(const Reconstruction& model) {
  Eigen::Vector3d sum = Eigen::Vector3d::Zero();
  size_t count = 0;
  for (const auto& [id, image] : model.images) {
    sum += image.cam_from_world.rotation.conjugate() * Eigen::Vector3d(0, -1, 0);
    ++count;
  }
  if (count == 0 || sum.norm() < 0.5 * double(count)) return std::nullopt;
  return Eigen::Vector3f(sum.normalized().cast<float>());
}

std::optional<Eigen::Vector4f> groundPlane(const PointCloud& cloud, const Eigen::Vector3f& up,
                                           double distance, double toleranceDeg, double minShare,
                                           uint32_t seed) {
  if (cloud.size() < 10) return std::nullopt;
  std::vector<size_t> all(cloud.size());
  std::iota(all.begin(), all.end(), size_t(0));
  const size_t minPoints = std::max<size_t>(10, size_t(minShare * double(cloud.size())));
  const std::vector<Plane> planes = ransacPlanes(cloud, all, distance, 6, minPoints, 1000, seed, nullptr);
  const float cosTol = float(std::cos(toleranceDeg * M_PI / 180));
  size_t largest = 0;
  for (const Plane& p : planes)
    if (std::abs(p.normal.dot(up)) >= cosTol) largest = std::max(largest, p.ids.size());
  std::optional<Eigen::Vector4f> best;
  float bestHeight = std::numeric_limits<float>::max();
  for (const Plane& p : planes) {
    if (std::abs(p.normal.dot(up)) < cosTol || p.ids.size() * 3 < largest) continue;
    double h = 0;
    for (size_t i : p.ids) h += cloud.points[i].dot(up);
    h /= double(p.ids.size());
    if (float(h) >= bestHeight) continue;
    bestHeight = float(h);
    const Eigen::Vector3f nrm = p.normal.dot(up) < 0 ? Eigen::Vector3f(-p.normal) : p.normal;
    double d = 0;
    for (size_t i : p.ids) d -= nrm.dot(cloud.points[i]);
    best = Eigen::Vector4f(nrm.x(), nrm.y(), nrm.z(), float(d / double(p.ids.size())));
  }
  return best;
}

}  // namespace parallax
