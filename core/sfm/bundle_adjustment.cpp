#include "sfm/bundle_adjustment.h"

#include <ceres/ceres.h>

#include <cmath>
#include <memory>
#include <thread>

#include "geometry/camera_models.h"
#include "util/error.h"

namespace parallax {
namespace {

// Reprojection residual of a world point in a posed camera. The rigid transform's
// derivatives are written out and only the camera model is differentiated
// automatically (Jets of 3 + #intrinsics, not 4 + 3 + #intrinsics + 3): bundle
// adjustment spends most of its time here.
//   cam = v + 2w (u x v) + 2 u x (u x v) + t,  q = (u, w) stored x, y, z, w as Eigen does.
template <int ModelId>
class ReprojectionCost
    : public ceres::SizedCostFunction<2, 4, 3, CameraModel<ModelId>::kNumParams, 3> {
 public:
  static constexpr int P = CameraModel<ModelId>::kNumParams;
  explicit ReprojectionCost(const Eigen::Vector2d& observed) : observed_(observed) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override {
    const Eigen::Map<const Eigen::Vector3d> u(parameters[0]), t(parameters[1]), v(parameters[3]);
    const double w = parameters[0][3];
    const double* params = parameters[2];
    const Eigen::Vector3d c1 = u.cross(v);
    const Eigen::Vector3d cam = v + 2.0 * w * c1 + 2.0 * u.cross(c1) + t;
    if (!jacobians) {
      double xy[2];
      CameraModel<ModelId>::project(params, cam.x() / cam.z(), cam.y() / cam.z(), xy);
      residuals[0] = xy[0] - observed_.x();
      residuals[1] = xy[1] - observed_.y();
      return true;
    }
    using Jet = ceres::Jet<double, 3 + P>;
    Jet camJ[3], paramsJ[P], xy[2];
    for (int k = 0; k < 3; ++k) camJ[k] = Jet(cam[k], k);
    for (int k = 0; k < P; ++k) paramsJ[k] = Jet(params[k], 3 + k);
    CameraModel<ModelId>::project(paramsJ, camJ[0] / camJ[2], camJ[1] / camJ[2], xy);
    residuals[0] = xy[0].a - observed_.x();
    residuals[1] = xy[1].a - observed_.y();
    Eigen::Matrix<double, 2, 3> dCam;
    for (int r = 0; r < 2; ++r) dCam.row(r) = xy[r].v.template head<3>().transpose();
    auto skew = [](const Eigen::Vector3d& a) {
      Eigen::Matrix3d m;
      m << 0, -a.z(), a.y(), a.z(), 0, -a.x(), -a.y(), a.x(), 0;
      return m;
    };
    using RowMajor2x = Eigen::Matrix<double, 2, Eigen::Dynamic, Eigen::RowMajor>;
    if (jacobians[0]) {
      Eigen::Matrix<double, 3, 4> dq;
      dq.leftCols<3>() = -2.0 * w * skew(v) - 2.0 * skew(c1) - 2.0 * skew(u) * skew(v);
      dq.col(3) = 2.0 * c1;
      Eigen::Map<Eigen::Matrix<double, 2, 4, Eigen::RowMajor>> dRotation(jacobians[0]);
      dRotation = dCam * dq;
    }
    if (jacobians[1]) {
      Eigen::Map<Eigen::Matrix<double, 2, 3, Eigen::RowMajor>> dTranslation(jacobians[1]);
      dTranslation = dCam;
    }
    if (jacobians[2]) {
      Eigen::Map<RowMajor2x> dParams(jacobians[2], 2, P);
      for (int r = 0; r < 2; ++r) dParams.row(r) = xy[r].v.template tail<P>().transpose();
    }
    if (jacobians[3]) {
      const Eigen::Matrix3d su = skew(u);
      const Eigen::Matrix3d dX = Eigen::Matrix3d::Identity() + 2.0 * w * su + 2.0 * su * su;
      Eigen::Map<Eigen::Matrix<double, 2, 3, Eigen::RowMajor>> dPoint(jacobians[3]);
      dPoint = dCam * dX;
    }
    return true;
  }

 private:
  Eigen::Vector2d observed_;
};

// The same residual differentiated automatically throughout: the reference the
// written-out derivatives are checked against.
template <int ModelId>
struct AutoDiffReprojection {
  explicit AutoDiffReprojection(const Eigen::Vector2d& observed) : observed_(observed) {}
  template <typename T>
  bool operator()(const T* rotation, const T* translation, const T* params, const T* point,
                  T* residuals) const {
    const Eigen::Map<const Eigen::Quaternion<T>> q(rotation);
    const Eigen::Map<const Eigen::Matrix<T, 3, 1>> t(translation);
    const Eigen::Map<const Eigen::Matrix<T, 3, 1>> x(point);
    const Eigen::Matrix<T, 3, 1> cam = q * x + t;
    T xy[2];
    CameraModel<ModelId>::project(params, cam[0] / cam[2], cam[1] / cam[2], xy);
    residuals[0] = xy[0] - T(observed_.x());
    residuals[1] = xy[1] - T(observed_.y());
    return true;
  }
  Eigen::Vector2d observed_;
};

template <int ModelId>
ceres::CostFunction* makeCost(const Eigen::Vector2d& observed, bool autodiff) {
  if (autodiff)
    return new ceres::AutoDiffCostFunction<AutoDiffReprojection<ModelId>, 2, 4, 3,
                                           CameraModel<ModelId>::kNumParams, 3>(
        new AutoDiffReprojection<ModelId>(observed));
  return new ReprojectionCost<ModelId>(observed);
}

ceres::CostFunction* reprojectionCost(int model_id, const Eigen::Vector2d& observed,
                                      bool autodiff = false) {
  switch (model_id) {
    case kSimplePinhole: return makeCost<kSimplePinhole>(observed, autodiff);
    case kPinhole: return makeCost<kPinhole>(observed, autodiff);
    case kSimpleRadial: return makeCost<kSimpleRadial>(observed, autodiff);
    case kRadial: return makeCost<kRadial>(observed, autodiff);
    case kOpenCV: return makeCost<kOpenCV>(observed, autodiff);
    default:
      throw Error(std::string("camera model ") + cameraModelById(model_id).name +
                  std::string(" is not supported by bundle adjustment; use SIMPLE_PINHOLE, "
                              "PINHOLE, SIMPLE_RADIAL, RADIAL or OPENCV (import.camera_model)"));
  }
}

// Indices of the parameters held fixed for a camera model under the options.
std::vector<int> constantIntrinsics(int model_id, const BundleOptions& o) {
  std::vector<int> focal, principal, extra;
  switch (model_id) {
    case kSimplePinhole: focal = {0}, principal = {1, 2}; break;
    case kPinhole: focal = {0, 1}, principal = {2, 3}; break;
    case kSimpleRadial: focal = {0}, principal = {1, 2}, extra = {3}; break;
    case kRadial: focal = {0}, principal = {1, 2}, extra = {3, 4}; break;
    case kOpenCV: focal = {0, 1}, principal = {2, 3}, extra = {4, 5, 6, 7}; break;
    default: break;
  }
  std::vector<int> fixed;
  if (!o.refine_focal_length) fixed.insert(fixed.end(), focal.begin(), focal.end());
  if (!o.refine_principal_point) fixed.insert(fixed.end(), principal.begin(), principal.end());
  if (!o.refine_extra_params) fixed.insert(fixed.end(), extra.begin(), extra.end());
  return fixed;
}

int threads(int requested) {
  return requested > 0 ? requested : std::max(1, int(std::thread::hardware_concurrency()));
}

double rmse(ceres::Problem& problem) {
  double cost = 0;
  problem.Evaluate(ceres::Problem::EvaluateOptions(), &cost, nullptr, nullptr, nullptr);
  const int n = problem.NumResiduals();
  return n > 0 ? std::sqrt(2.0 * cost / n) : 0.0;
}

}  // namespace

BundleSummary bundleAdjust(Reconstruction& rec, const BundleConfig& config,
                           const BundleOptions& options) {
  BundleSummary summary;
  ceres::Problem::Options problemOptions;
  problemOptions.manifold_ownership = ceres::TAKE_OWNERSHIP;
  ceres::Problem problem(problemOptions);
  ceres::LossFunction* loss = new ceres::HuberLoss(options.loss_scale_px);  // owned by `problem`

  // Eigen quaternions are stored x, y, z, w: the layout EigenQuaternionManifold expects.
  std::set<uint32_t> posedImages, usedCameras;
  std::set<uint64_t> points;
  auto addObservation = [&](Image& image, const Point2D& p2) {
    Camera& camera = rec.cameras.at(image.camera_id);
    Point3D& point = rec.points3D.at(p2.point3D_id);
    problem.AddResidualBlock(reprojectionCost(camera.model_id, p2.xy), loss,
                             image.cam_from_world.rotation.coeffs().data(),
                             image.cam_from_world.translation.data(), camera.params.data(),
                             point.xyz.data());
    posedImages.insert(image.image_id);
    usedCameras.insert(camera.camera_id);
    points.insert(p2.point3D_id);
    ++summary.num_residuals;
  };
  for (uint32_t id : config.variable_images) {
    Image& image = rec.images.at(id);
    for (const Point2D& p2 : image.points2D)
      if (p2.point3D_id != kInvalidPoint3DId) addObservation(image, p2);
  }
  std::set<uint32_t> otherImages;
  if (config.include_other_observers) {
    const std::set<uint64_t> adjusted = points;
    for (uint64_t pid : adjusted)
      for (const TrackElement& el : rec.points3D.at(pid).track)
        if (!config.variable_images.count(el.image_id)) {
          Image& image = rec.images.at(el.image_id);
          addObservation(image, image.points2D.at(el.point2D_idx));
          otherImages.insert(el.image_id);
        }
  }
  if (summary.num_residuals == 0) {
    summary.message = "nothing to adjust";
    return summary;
  }

  for (uint32_t id : posedImages) {
    Image& image = rec.images.at(id);
    double* q = image.cam_from_world.rotation.coeffs().data();
    double* t = image.cam_from_world.translation.data();
    problem.SetManifold(q, new ceres::EigenQuaternionManifold);
    if (otherImages.count(id) || config.constant_poses.count(id)) {
      problem.SetParameterBlockConstant(q);
      problem.SetParameterBlockConstant(t);
    } else if (id == config.scale_gauge_image) {
      int axis = 0;
      image.cam_from_world.translation.cwiseAbs().maxCoeff(&axis);
      problem.SetManifold(t, new ceres::SubsetManifold(3, {axis}));
    }
  }
  // Intrinsics refined only when all images using them are variable.
  std::set<uint32_t> fixedCameras = config.constant_cameras;
  for (uint32_t id : otherImages) fixedCameras.insert(rec.images.at(id).camera_id);
  for (uint32_t cid : usedCameras) {
    Camera& camera = rec.cameras.at(cid);
    double* params = camera.params.data();
    BundleOptions cameraOptions = options;
    if (config.fixed_principal_point_cameras.count(cid)) cameraOptions.refine_principal_point = false;
    const std::vector<int> fixed = constantIntrinsics(camera.model_id, cameraOptions);
    if (fixedCameras.count(cid) || int(fixed.size()) == int(camera.params.size())) {
      problem.SetParameterBlockConstant(params);
    } else if (!fixed.empty()) {
      problem.SetManifold(params, new ceres::SubsetManifold(int(camera.params.size()), fixed));
    }
  }
  for (uint64_t pid : config.constant_points)
    if (points.count(pid)) problem.SetParameterBlockConstant(rec.points3D.at(pid).xyz.data());

  ceres::Solver::Options solver;
  solver.linear_solver_type =
      posedImages.size() <= 50 ? ceres::DENSE_SCHUR : ceres::SPARSE_SCHUR;
  solver.max_num_iterations = options.max_iterations;
  solver.function_tolerance = options.function_tolerance;
  solver.gradient_tolerance = 1e-10;
  solver.parameter_tolerance = 1e-8;
  // Small problems run faster on one thread: Ceres' per-block locks cost more than they save.
  solver.num_threads = summary.num_residuals < 20000 ? 1 : threads(options.num_threads);
  solver.logging_type = ceres::SILENT;
  solver.minimizer_progress_to_stdout = false;

  summary.initial_rmse_px = rmse(problem);
  ceres::Solver::Summary result;
  ceres::Solve(solver, &problem, &result);
  summary.iterations = int(result.iterations.size());
  summary.usable = result.IsSolutionUsable();
  summary.final_rmse_px = rmse(problem);
  summary.message = result.BriefReport();
  for (uint32_t id : posedImages) rec.images.at(id).cam_from_world.rotation.normalize();
  return summary;
}

bool refineAbsolutePose(Image& image, Camera& camera,
                        const std::vector<std::pair<Eigen::Vector2d, Eigen::Vector3d>>& matches,
                        bool refine_focal, double loss_scale_px) {
  ceres::Problem problem;
  std::vector<Eigen::Vector3d> points;
  points.reserve(matches.size());
  ceres::LossFunction* loss = new ceres::HuberLoss(loss_scale_px);
  double* q = image.cam_from_world.rotation.coeffs().data();
  double* t = image.cam_from_world.translation.data();
  for (const auto& [xy, xyz] : matches) {
    points.push_back(xyz);
    problem.AddResidualBlock(reprojectionCost(camera.model_id, xy), loss, q, t,
                             camera.params.data(), points.back().data());
    problem.SetParameterBlockConstant(points.back().data());
  }
  if (matches.empty()) return false;
  problem.SetManifold(q, new ceres::EigenQuaternionManifold);
  BundleOptions o;
  o.refine_focal_length = refine_focal;
  o.refine_extra_params = false;
  const std::vector<int> fixed = constantIntrinsics(camera.model_id, o);
  if (int(fixed.size()) == int(camera.params.size()))
    problem.SetParameterBlockConstant(camera.params.data());
  else
    problem.SetManifold(camera.params.data(),
                        new ceres::SubsetManifold(int(camera.params.size()), fixed));
  ceres::Solver::Options solver;
  solver.linear_solver_type = ceres::DENSE_QR;
  solver.max_num_iterations = 100;
  solver.logging_type = ceres::SILENT;
  ceres::Solver::Summary result;
  ceres::Solve(solver, &problem, &result);
  image.cam_from_world.rotation.normalize();
  return result.IsSolutionUsable();
}

double reprojectionJacobianError(const Camera& camera, const Rigid3d& cam_from_world,
                                 const Eigen::Vector3d& point, const Eigen::Vector2d& observed) {
  std::unique_ptr<ceres::CostFunction> written(reprojectionCost(camera.model_id, observed)),
      reference(reprojectionCost(camera.model_id, observed, true));
  Eigen::Vector4d q = cam_from_world.rotation.coeffs();
  Eigen::Vector3d t = cam_from_world.translation, x = point;
  std::vector<double> params = camera.params;
  const double* parameters[] = {q.data(), t.data(), params.data(), x.data()};
  const int sizes[] = {4, 3, int(params.size()), 3};
  double worst = 0;
  double r1[2], r2[2];
  std::vector<std::vector<double>> j1, j2;
  std::vector<double*> p1, p2;
  for (int k = 0; k < 4; ++k) {
    j1.emplace_back(size_t(2 * sizes[k]));
    j2.emplace_back(size_t(2 * sizes[k]));
  }
  for (int k = 0; k < 4; ++k) p1.push_back(j1[size_t(k)].data()), p2.push_back(j2[size_t(k)].data());
  written->Evaluate(parameters, r1, p1.data());
  reference->Evaluate(parameters, r2, p2.data());
  for (int r = 0; r < 2; ++r) worst = std::max(worst, std::abs(r1[r] - r2[r]));
  for (size_t k = 0; k < 4; ++k)
    for (size_t e = 0; e < j1[k].size(); ++e)
      worst = std::max(worst, std::abs(j1[k][e] - j2[k][e]) / std::max(1.0, std::abs(j2[k][e])));
  return worst;
}

}  // namespace parallax
