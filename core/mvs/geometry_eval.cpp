#include "mvs/geometry_eval.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <open3d/core/Tensor.h>
#include <open3d/geometry/KDTreeFlann.h>
#include <open3d/geometry/PointCloud.h>
#include <open3d/t/geometry/RaycastingScene.h>
#include <random>

#include "mvs/dense_scene.h"
#include "scene/rasterizer.h"
#include "util/parallel.h"
#include "util/error.h"

namespace parallax {
namespace {

namespace o3c = open3d::core;

void addMesh(open3d::t::geometry::RaycastingScene& scene, const TriangleMesh& mesh) {
  std::vector<float> v;
  v.reserve(mesh.points.size() * 3);
  for (const auto& p : mesh.points) v.insert(v.end(), {p.x(), p.y(), p.z()});
  std::vector<uint32_t> f;
  f.reserve(mesh.faces.size() * 3);
  for (const auto& t : mesh.faces) f.insert(f.end(), {uint32_t(t[0]), uint32_t(t[1]), uint32_t(t[2])});
  scene.AddTriangles(o3c::Tensor(v, {long(mesh.points.size()), 3}, o3c::Float32),
                     o3c::Tensor(f, {long(mesh.faces.size()), 3}, o3c::UInt32));
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, size_t(q * double(v.size())));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

}  // namespace

std::optional<Eigen::Matrix4d> similarityBetweenModels(const Reconstruction& from,
                                                       const Reconstruction& to,
                                                       double* medianResidual) {
  std::map<std::string, Eigen::Vector3d> toCenters;
  for (const auto& [id, im] : to.images) toCenters[im.name] = im.projectionCenter();
  std::vector<Eigen::Vector3d> src, dst;
  for (const auto& [id, im] : from.images) {
    auto it = toCenters.find(im.name);
    if (it == toCenters.end()) continue;
    src.push_back(im.projectionCenter());
    dst.push_back(it->second);
  }
  if (src.size() < 3) return std::nullopt;
  Eigen::Matrix3Xd a(3, long(src.size())), b(3, long(dst.size()));
  for (size_t k = 0; k < src.size(); ++k) a.col(long(k)) = src[k], b.col(long(k)) = dst[k];
  const Eigen::Matrix4d sim = Eigen::umeyama(a, b, true);
  if (!sim.allFinite()) return std::nullopt;
  if (medianResidual) {
    std::vector<double> r;
    for (size_t k = 0; k < src.size(); ++k)
      r.push_back(((sim * src[k].homogeneous()).head<3>() - dst[k]).norm());
    *medianResidual = quantile(r, 0.5);
  }
  return sim;
}

void transformGeometry(PointCloud& geometry, const Eigen::Matrix4d& sim) {
  const Eigen::Matrix3d sR = sim.topLeftCorner<3, 3>();
  const Eigen::Vector3d t = sim.topRightCorner<3, 1>();
  const Eigen::Matrix3d R = sR / std::cbrt(sR.determinant());
  for (auto& v : geometry.points) v = (sR * v.cast<double>() + t).cast<float>();
  for (auto& n : geometry.normals) n = (R * n.cast<double>()).normalized().cast<float>();
}

std::vector<Eigen::Vector3f> sampleSurface(const TriangleMesh& mesh, size_t count, unsigned seed) {
  std::vector<double> cumulative;
  double total = 0;
  for (const auto& f : mesh.faces) {
    const Eigen::Vector3f a = mesh.points[size_t(f[0])], b = mesh.points[size_t(f[1])],
                          c = mesh.points[size_t(f[2])];
    total += 0.5 * double((b - a).cross(c - a).norm());
    cumulative.push_back(total);
  }
  std::vector<Eigen::Vector3f> out;
  if (mesh.faces.empty() || total <= 0) return out;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  out.reserve(count);
  for (size_t k = 0; k < count; ++k) {
    const double r = uni(rng) * total;
    const size_t fi = size_t(std::lower_bound(cumulative.begin(), cumulative.end(), r) - cumulative.begin());
    const auto& f = mesh.faces[std::min(fi, mesh.faces.size() - 1)];
    double u = uni(rng), v = uni(rng);
    if (u + v > 1) u = 1 - u, v = 1 - v;
    const Eigen::Vector3f a = mesh.points[size_t(f[0])], b = mesh.points[size_t(f[1])],
                          c = mesh.points[size_t(f[2])];
    out.push_back(a + float(u) * (b - a) + float(v) * (c - a));
  }
  return out;
}

namespace {

// How many views see each point unoccluded: in the frame, in front of the camera, and not
// clearly behind the mesh's z-buffer in that view (by `tolerance` of the depth); the
// pinhole part of the intrinsics.
std::vector<int> viewsSeeing(const TriangleMesh& mesh, const Reconstruction& cameras,
                             const std::vector<Eigen::Vector3f>& points, float tolerance) {
  TriangleMesh shaded = mesh;
  if (!shaded.hasNormals()) shaded.computeVertexNormals();
  std::vector<int> views(points.size(), 0);
  for (const auto& [id, im] : cameras.images) {
    const Camera& cam = cameras.cameras.at(im.camera_id);
    const Camera pin = Camera::pinhole(cam.width, cam.height, cam.focalX(), cam.focalY(),
                                       cam.principalX(), cam.principalY());
    const std::vector<RasterSample> zbuffer = rasterize(shaded, pin, im.cam_from_world, 1e-4f);
    parallelFor(points.size(), [&](size_t k) {
      const Eigen::Vector3d Xc = im.cam_from_world * points[k].cast<double>();
      if (Xc.z() <= 0) return;
      const Eigen::Vector2d px = pin.imgFromCam(Xc);
      const int x = int(std::floor(px.x())), y = int(std::floor(px.y()));
      if (x < 0 || y < 0 || x >= cam.width || y >= cam.height) return;
      const float z = zbuffer[size_t(y) * size_t(cam.width) + size_t(x)].depth;
      if (z <= 0 || float(Xc.z()) <= z * (1.f + tolerance)) ++views[k];
    });
  }
  return views;
}

}  // namespace

SurfaceSamples visibleSurfaceSamples(const TriangleMesh& mesh, const Reconstruction& cameras,
                                     size_t count, int minViews, unsigned seed) {
  SurfaceSamples out;
  out.diagonal = boundingBox(mesh).diagonal();
  const std::vector<Eigen::Vector3f> candidates = sampleSurface(mesh, count, seed);
  if (candidates.empty()) throw Error("the ground-truth mesh has no faces");
  // Visible when nothing lies clearly in front of it (0.5% of the depth).
  const std::vector<int> views = viewsSeeing(mesh, cameras, candidates, 0.005f);
  for (size_t k = 0; k < candidates.size(); ++k)
    if (views[k] >= minViews) out.points.push_back(candidates[k]);
  return out;
}

TriangleMesh keepSeenFaces(const TriangleMesh& mesh, const Reconstruction& cameras, int minViews,
                           float tolerance) {
  std::vector<Eigen::Vector3f> centres(mesh.faces.size());
  for (size_t f = 0; f < mesh.faces.size(); ++f) {
    const Eigen::Vector3i& t = mesh.faces[f];
    centres[f] = (mesh.points[size_t(t[0])] + mesh.points[size_t(t[1])] + mesh.points[size_t(t[2])]) / 3.f;
  }
  const std::vector<int> views = viewsSeeing(mesh, cameras, centres, tolerance);
  TriangleMesh out = mesh;
  out.faces.clear();
  for (size_t f = 0; f < mesh.faces.size(); ++f)
    if (views[f] >= minViews) out.faces.push_back(mesh.faces[f]);
  return out;
}

GeometryEvaluation evaluateGeometry(const std::vector<Eigen::Vector3f>& points,
                                    const TriangleMesh& truth, const SurfaceSamples& samples,
                                    double tau) {
  GeometryEvaluation e;
  e.points = points.size();
  e.tau = tau;
  e.surface_samples = samples.points.size();
  if (points.empty()) return e;
  open3d::t::geometry::RaycastingScene scene;
  addMesh(scene, truth);
  std::vector<float> q;
  q.reserve(points.size() * 3);
  for (const auto& p : points) q.insert(q.end(), {p.x(), p.y(), p.z()});
  const std::vector<float> d =
      scene.ComputeDistance(o3c::Tensor(q, {long(points.size()), 3}, o3c::Float32))
          .ToFlatVector<float>();
  std::vector<double> dist(d.begin(), d.end());
  double sum = 0;
  for (double v : dist) sum += v;
  e.mean_accuracy = sum / double(dist.size());
  e.median_accuracy = quantile(dist, 0.5);
  e.p90_accuracy = quantile(dist, 0.9);

  open3d::geometry::PointCloud cloud;
  cloud.points_.reserve(points.size());
  for (const auto& p : points) cloud.points_.push_back(p.cast<double>());
  open3d::geometry::KDTreeFlann tree(cloud);
  size_t within = 0;
  std::vector<int> idx;
  std::vector<double> d2;
  for (size_t i = 0; i < samples.points.size(); ++i) {
    if (tree.SearchKNN(Eigen::Vector3d(samples.points[i].cast<double>()), 1, idx, d2) > 0 && d2[0] <= tau * tau)
      ++within;
    else
      e.missed.push_back(uint32_t(i));
  }
  e.completeness = samples.points.empty() ? 0.0 : double(within) / double(samples.points.size());
  return e;
}

ChamferDistance chamferDistance(const TriangleMesh& mesh, const TriangleMesh& truth, size_t samples,
                                const std::vector<Eigen::Vector3f>* seen) {
  if (mesh.faces.empty() || truth.faces.empty()) throw Error("Chamfer distance: a mesh without faces");
  const std::vector<Eigen::Vector3f> a = sampleSurface(mesh, samples, 3), b = sampleSurface(truth, samples, 4);
  auto meanNearest = [](const std::vector<Eigen::Vector3f>& from, const std::vector<Eigen::Vector3f>& to) {
    open3d::geometry::PointCloud cloud;
    cloud.points_.reserve(to.size());
    for (const auto& p : to) cloud.points_.push_back(p.cast<double>());
    open3d::geometry::KDTreeFlann tree(cloud);
    std::vector<int> idx;
    std::vector<double> d2;
    double sum = 0;
    for (const auto& p : from)
      if (tree.SearchKNN(Eigen::Vector3d(p.cast<double>()), 1, idx, d2) > 0) sum += std::sqrt(d2[0]);
    return sum / double(std::max<size_t>(1, from.size()));
  };
  ChamferDistance c;
  c.samples = samples;
  c.to_truth = meanNearest(a, b);
  if (seen && seen->empty()) throw Error("Chamfer distance: no part of the true surface is seen");
  c.from_truth = meanNearest(seen ? *seen : b, a);
  c.chamfer = 0.5 * (c.to_truth + c.from_truth);
  Eigen::Vector3f lo = truth.points[0], hi = lo;
  for (const auto& p : truth.points) lo = lo.cwiseMin(p), hi = hi.cwiseMax(p);
  c.diagonal = double((hi - lo).norm());
  return c;
}

UnsupportedArea unsupportedArea(const TriangleMesh& mesh, const std::vector<Eigen::Vector3f>& points,
                                const std::vector<double>& fractions, size_t samples) {
  if (mesh.faces.empty()) throw Error("unsupported area: the mesh has no faces");
  if (points.empty()) throw Error("unsupported area: no points to measure the mesh against");
  UnsupportedArea u;
  u.fractions = fractions;
  Eigen::Vector3d lo, hi;
  for (int a = 0; a < 3; ++a) {
    std::vector<double> v(points.size());
    for (size_t i = 0; i < points.size(); ++i) v[i] = points[i][a];
    lo[a] = quantile(v, 0.01);
    hi[a] = quantile(std::move(v), 0.99);
  }
  u.scene_size = (hi - lo).norm();
  const std::vector<Eigen::Vector3f> at = sampleSurface(mesh, samples, 5);
  u.samples = at.size();
  open3d::geometry::PointCloud cloud;
  cloud.points_.reserve(points.size());
  for (const auto& p : points) cloud.points_.push_back(p.cast<double>());
  const open3d::geometry::KDTreeFlann tree(cloud);
  std::vector<double> nearest(at.size(), 0);
  parallelFor(at.size(), [&](size_t i) {
    std::vector<int> idx;
    std::vector<double> d2;
    if (tree.SearchKNN(Eigen::Vector3d(at[i].cast<double>()), 1, idx, d2) > 0) nearest[i] = std::sqrt(d2[0]);
  });
  for (double f : fractions) {
    const double limit = f * u.scene_size;
    const size_t far = size_t(std::count_if(nearest.begin(), nearest.end(), [&](double d) { return d > limit; }));
    u.shares.push_back(at.empty() ? 0.0 : double(far) / double(at.size()));
  }
  return u;
}

MaskAgreement evaluateAgainstMasks(const std::vector<Eigen::Vector3f>& points,
                                   const Reconstruction& model, const std::filesystem::path& maskDir,
                                   int tolerancePx) {
  struct View {
    const Image* image;
    const Camera* camera;
    cv::Mat mask;
  };
  std::vector<View> views;
  for (const auto& [id, im] : model.images) {
    const auto file = findMaskFile(maskDir, im.name);
    if (!file) continue;
    cv::Mat mask = cv::imread(file->string(), cv::IMREAD_GRAYSCALE);
    if (mask.empty()) throw Error("mask '" + file->string() + "' cannot be read as an image");
    const Camera& cam = model.cameras.at(im.camera_id);
    if (mask.cols != cam.width || mask.rows != cam.height)
      throw Error("mask '" + file->string() + "' is " + std::to_string(mask.cols) + "x" +
                  std::to_string(mask.rows) + ", its photo " + std::to_string(cam.width) + "x" +
                  std::to_string(cam.height));
    cv::threshold(mask, mask, 127, 255, cv::THRESH_BINARY);
    if (tolerancePx > 0)
      cv::dilate(mask, mask,
                 cv::getStructuringElement(cv::MORPH_ELLIPSE,
                                           cv::Size(2 * tolerancePx + 1, 2 * tolerancePx + 1)));
    views.push_back({&im, &cam, mask});
  }
  if (views.empty())
    throw Error("no mask in '" + maskDir.string() + "' matches a photo of the model (looked for "
                "NAME.png, NAME, STEM.png and the same number)");
  MaskAgreement out;
  out.points = points.size();
  out.masks = views.size();
  size_t allInside = 0, projections = 0, inside = 0;
  for (const Eigen::Vector3f& p : points) {
    bool all = true;
    for (const View& v : views) {
      const Eigen::Vector3d x = v.image->cam_from_world * p.cast<double>();
      if (x.z() <= 0) continue;
      const Eigen::Vector2d uv = v.camera->imgFromCam(x);
      const int u = int(std::floor(uv.x())), w = int(std::floor(uv.y()));
      if (u < 0 || w < 0 || u >= v.mask.cols || w >= v.mask.rows) continue;
      ++projections;
      if (v.mask.at<uint8_t>(w, u)) ++inside;
      else all = false;
    }
    allInside += all;
  }
  out.inside_all = points.empty() ? 0 : double(allInside) / double(points.size());
  out.inside_views = projections ? double(inside) / double(projections) : 0;
  return out;
}

}  // namespace parallax
