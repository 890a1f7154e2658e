#include "field_training.h"

#include "params/stages.h"

#include <malloc.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <random>

#include "../common/torch_weights.h"
#include "io/ply.h"
#include "mvs/geometry_eval.h"
#include "surface/iso_surface.h"
#include "util/atomic_file.h"
#include "util/cancel.h"
#include "util/error.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace parallax::fields {

void prepareProcess() {
  torch_plugin::setThreads(0);
  // Training allocates and frees tens of megabytes per step (the table's gradient, Adam's
  // temporaries); glibc serves such blocks with mmap and returns them at once, so every
  // step page-faults them in again (measured: more system than user time). Keep them.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

MarchSettings::MarchSettings(const json& p) {
  const int steps = params::Field::from(p).steps_per_diagonal;
  dt = float(std::sqrt(3.0) / steps);
  // Cells where a step's opacity stays under 1% are empty.
  threshold = 0.01f / dt;
}

namespace {

// Colour of what lies beyond the scene box, from the view direction (a sky, far walls);
// trained with the field when the photos have no alpha.
struct BackgroundImpl : torch::nn::Module {
  BackgroundImpl() {
    layer1 = register_module("layer1", torch::nn::Linear(16, 32));
    layer2 = register_module("layer2", torch::nn::Linear(32, 3));
  }
  torch::Tensor forward(const torch::Tensor& dirs) {
    return torch::sigmoid(layer2->forward(torch::relu(layer1->forward(sphericalHarmonics4(dirs)))));
  }
  torch::nn::Linear layer1{nullptr}, layer2{nullptr};
};
TORCH_MODULE(Background);

// Ray of pixel (x, y) of a view in unit-cube coordinates.
void pixelRay(const FieldView& v, const UnitBox& box, double x, double y, float* o, float* d) {
  const Eigen::Vector3d dc((x - v.cx) / v.fx, (y - v.cy) / v.fy, 1.0);
  const Eigen::Vector3d dw = (v.rotation * dc).normalized();
  const Eigen::Vector3d ow = (v.center - box.min) / box.side;
  for (int a = 0; a < 3; ++a) o[a] = float(ow[a]), d[a] = float(dw[a]);
}

bool anyAlpha(const FieldDataset& data) {
  for (const auto& v : data.views)
    if (v.hasAlpha) return true;
  return false;
}

struct Renderer {
  FieldModel& model;
  Background background;
  OccupancyGrid occ;
  MarchSettings march;
  bool learnedBackground;

  struct Rendered {
    torch::Tensor rgb, alpha, regulariser;  // (R, 3) over the background, (R), scalar or undefined
  };
  // Colour of a batch of samples' rays over a background: the learned one, or `bg` (R, 3).
  Rendered render(const Samples& all, const Rays& rays, const torch::Tensor& bg, bool training) {
    torch::Tensor first;
    {
      torch::NoGradGuard noGrad;  // inference tensors could not be saved for backward
      first = model.densityOnly(all);
    }
    const Samples kept = pruneOccluded(all, first, 1e-4f);
    FieldModel::Output out = model.forward(kept, training);
    auto [rgb, alpha] = composite(out.density, out.color, kept);
    torch::Tensor back = bg;
    if (learnedBackground) {
      const torch::Tensor dirs =
          torch::from_blob(const_cast<float*>(rays.direction.data()), {int64_t(rays.size()), 3})
              .clone();
      back = background->forward(dirs);
    }
    return {rgb + (1 - alpha).unsqueeze(1) * back, alpha, out.regulariser};
  }

  // Every `stride`-th pixel of every `stride`-th row (1: the whole view), row-major.
  std::vector<float> renderView(const FieldView& v, const UnitBox& box, const float white[3],
                                int stride = 1) {
    c10::InferenceMode guard;
    Rays rays;
    for (int y = 0; y < v.height; y += stride)
      for (int x = 0; x < v.width; x += stride) {
        float o[3], d[3];
        pixelRay(v, box, x + 0.5, y + 0.5, o, d);
        rays.origin.insert(rays.origin.end(), o, o + 3);
        rays.direction.insert(rays.direction.end(), d, d + 3);
      }
    std::vector<float> out(rays.size() * 3);
    const size_t chunk = 8192;
    for (size_t b = 0; b < rays.size(); b += chunk) {
      const size_t e = std::min(rays.size(), b + chunk);
      Rays part;
      part.origin.assign(rays.origin.begin() + long(3 * b), rays.origin.begin() + long(3 * e));
      part.direction.assign(rays.direction.begin() + long(3 * b),
                            rays.direction.begin() + long(3 * e));
      const Samples all = marchRays(part, occ, march.dt * model.stepScale(), march.maxSamples,
                                    nullptr, model.sphereBounded());
      const torch::Tensor bg =
          torch::tensor({white[0], white[1], white[2]}).expand({int64_t(e - b), 3});
      torch::Tensor c;
      if (all.size() == 0) {
        c = learnedBackground
                ? background->forward(
                      torch::from_blob(part.direction.data(), {int64_t(e - b), 3}).clone())
                : bg.clone();
      } else {
        c = render(all, part, bg, false).rgb;
      }
      c = c.clamp(0, 1).contiguous();
      std::copy(c.data_ptr<float>(), c.data_ptr<float>() + c.numel(), out.begin() + long(3 * b));
    }
    return out;
  }

  std::vector<torch::Tensor> state() {
    std::vector<torch::Tensor> t;
    for (const auto& p : model.module().parameters()) t.push_back(p.detach().clone());
    for (const auto& p : background->parameters()) t.push_back(p.detach().clone());
    t.push_back(occ.state());
    return t;
  }

  void save(const fs::path& path) {
    const fs::path tmp = path.string() + ".tmp";
    torch::save(state(), tmp.string());
    fs::rename(tmp, path);
  }

  void load(const fs::path& path) {
    const std::string what = model.name();
    if (!fs::exists(path))
      throw Error("no " + what + " checkpoint at '" + path.string() +
                  "'; run the field stage first");
    std::vector<torch::Tensor> tensors;
    try {
      torch::load(tensors, path.string());
    } catch (const std::exception& e) {
      throw Error(what + " checkpoint '" + path.string() + "' is corrupt (" +
                  std::string(e.what()).substr(0, 120) + "); run the field stage again");
    }
    std::vector<torch::Tensor> params = model.module().parameters();
    for (const auto& p : background->parameters()) params.push_back(p);
    if (tensors.size() != params.size() + 1)
      throw Error(what + " checkpoint '" + path.string() +
                  "' was trained with other settings; run the field stage again");
    for (size_t i = 0; i < params.size(); ++i)
      if (tensors[i].sizes() != params[i].sizes())
        throw Error(what + " checkpoint '" + path.string() +
                    "' was trained with other hash-grid settings; run the field stage again");
    // Checked first: a checkpoint that does not fit leaves the model as it was.
    torch::NoGradGuard ng;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(tensors[i]);
    occ.setState(tensors.back(), march.threshold);
  }
};

// The view's photo over a background, RGB (the learned background: the photo as it is),
// at the pixels renderView renders with the same stride.
std::vector<float> reference(const FieldView& v, const float bg[3], int stride = 1) {
  std::vector<float> out;
  for (int y = 0; y < v.height; y += stride)
    for (int x = 0; x < v.width; x += stride) {
      const size_t k = size_t(y) * size_t(v.width) + size_t(x);
      const float a = v.rgba[4 * k + 3];
      for (int c = 0; c < 3; ++c) out.push_back(v.rgba[4 * k + size_t(c)] * a + bg[c] * (1 - a));
    }
  return out;
}

void writePng(const fs::path& path, const std::vector<float>& rgb, int w, int h) {
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img.at<cv::Vec3b>(y, x)[2 - c] = uchar(std::lround(
            std::clamp(rgb[(size_t(y) * size_t(w) + size_t(x)) * 3 + size_t(c)], 0.f, 1.f) * 255));
  cv::imwrite(path.string(), img);
}

// The surface where the model's value crosses its level, sampled on a res^3 grid over the
// box, with vertex colours seen from outside. World units.
// With `masksOf`, what its `maskViews` show on their masks' background is outside.
TriangleMesh extractSurface(FieldModel& model, const UnitBox& box, int res, bool largestOnly,
                            const Reconstruction* seenBy, const FieldDataset* masksOf,
                            const std::vector<size_t>& maskViews, Reporter& report) {
  c10::InferenceMode guard;
  ScalarGrid grid;
  grid.resolution = res;
  grid.spacing = 1.0 / (res - 1);
  grid.values.assign(size_t(res) * size_t(res) * size_t(res), 0.f);
  const int64_t total = int64_t(grid.values.size());
  const int64_t chunk = 131072;
  for (int64_t b = 0; b < total; b += chunk) {
    throwIfCancelled();
    const int64_t e = std::min<int64_t>(total, b + chunk);
    torch::Tensor pos = torch::empty({e - b, 3});
    float* p = pos.data_ptr<float>();
    for (int64_t i = b; i < e; ++i) {
      const int64_t k = i;
      p[3 * (i - b)] = float(double(k % res) * grid.spacing);
      p[3 * (i - b) + 1] = float(double((k / res) % res) * grid.spacing);
      p[3 * (i - b) + 2] = float(double(k / (int64_t(res) * res)) * grid.spacing);
    }
    const torch::Tensor v = model.surfaceValue(pos).contiguous();
    std::copy(v.data_ptr<float>(), v.data_ptr<float>() + (e - b), grid.values.begin() + b);
    report.progress(size_t(e), size_t(total), "sampling the field for its surface");
  }
  if (masksOf) {
    report.progress(0, 1, "cutting away what the masks show as background");
    const float level = model.surfaceLevel();
    const float margin = model.insideAbove() ? 0.5f * std::abs(level) : float(0.5 * grid.spacing);
    // A field in a sphere holds the object inside it: the surface closes just outside the
    // nine tenths the visual-hull term kept it in during training (visualHullBound).
    const size_t moved = carveByMasks(grid, level, model.insideAbove(), margin, *masksOf, maskViews,
                                      box.min, box.side, model.sphereBounded() ? 0.47 : 0.0);
    if (moved)
      report.info(std::to_string(moved) + " grid points the masks show as background set outside the surface");
  }
  TriangleMesh mesh = isoSurface(grid, model.surfaceLevel(), model.insideAbove());
  if (model.sphereBounded()) {
    // Outside the sphere no ray ever sampled the field: what it holds there is noise.
    // Cut there (a surface that leaves the sphere stays open, not capped by a false wall).
    std::vector<Eigen::Vector3i> inside;
    for (const auto& f : mesh.faces) {
      const Eigen::Vector3f c =
          (mesh.points[size_t(f[0])] + mesh.points[size_t(f[1])] + mesh.points[size_t(f[2])]) / 3.f;
      if ((c - Eigen::Vector3f::Constant(0.5f)).norm() <= 0.5f) inside.push_back(f);
    }
    mesh.faces.swap(inside);
  }
  if (seenBy && !mesh.faces.empty()) {
    report.progress(0, 1, "keeping the surface the training photos see");
    mesh = keepSeenFaces(mesh, *seenBy);
  }
  if (largestOnly && !mesh.faces.empty()) mesh = largestComponent(mesh);
  if (mesh.faces.empty()) return mesh;
  mesh.computeVertexNormals();
  const int64_t n = int64_t(mesh.points.size());
  mesh.colors.resize(size_t(n));
  for (int64_t b = 0; b < n; b += chunk) {
    const int64_t e = std::min(n, b + chunk);
    torch::Tensor pos = torch::empty({e - b, 3}), dir = torch::empty({e - b, 3});
    for (int64_t i = b; i < e; ++i)
      for (int a = 0; a < 3; ++a) {
        const float nrm = mesh.normals[size_t(i)][a];
        pos.data_ptr<float>()[3 * (i - b) + a] = std::clamp(mesh.points[size_t(i)][a], 0.f, 1.f);
        dir.data_ptr<float>()[3 * (i - b) + a] = -nrm;
      }
    const torch::Tensor rgb = model.surfaceColor(pos, dir).contiguous();
    const float* c = rgb.data_ptr<float>();
    for (int64_t i = b; i < e; ++i)
      for (int a = 0; a < 3; ++a)
        mesh.colors[size_t(i)][size_t(a)] =
            uint8_t(std::lround(std::clamp(c[3 * (i - b) + a], 0.f, 1.f) * 255));
  }
  for (auto& p : mesh.points) p = (box.min + box.side * p.cast<double>()).cast<float>();
  return mesh;
}

}  // namespace

namespace {

// What a checkpoint must share with the run that resumes it: every setting but how long
// to train and what to do afterwards, the views and the box.
std::string resumeKey(const json& p, const FieldDataset& data, const FieldModel& model) {
  json k = p;
  for (const char* f :
       {"enabled", "time_budget_s", "iterations", "curve_interval_s", "checkpoint_interval_s",
        "mesh_resolution", "mesh_level", "mesh_largest_component", "mesh_seen_only", "mesh_in_masks",
        "preview_view"})
    k.erase(f);
  k["method"] = model.name();
  k["views"] = data.views.size();
  k["size"] = {data.views[0].width, data.views[0].height};
  k["box"] = {data.boxMin.x(), data.boxMin.y(), data.boxMin.z(),
              data.boxMax.x(), data.boxMax.y(), data.boxMax.z()};
  return k.dump();
}

}  // namespace

json trainField(FieldJob& job, FieldModel& model) {
  prepareProcess();
  const FieldDataset& data = job.data;
  const params::Field f = params::Field::from(job.params);
  const json& p = job.params;
  const int holdout = f.holdout_every;
  std::vector<size_t> trainViews, testViews;
  for (size_t i = 0; i < data.views.size(); ++i)
    (isHeldOut(i, holdout) ? testViews : trainViews).push_back(i);
  if (trainViews.empty()) throw Error("no views left to train on; lower field.holdout_every");
  const UnitBox box(data);
  std::mt19937 rng(uint32_t(f.seed));
  Renderer R{model, Background(), OccupancyGrid(), MarchSettings(p), !anyAlpha(data)};

  std::vector<std::pair<uint32_t, uint32_t>> pixels;  // (view, pixel), drawn uniformly
  for (size_t vi : trainViews)
    for (uint32_t k = 0; k < uint32_t(data.views[vi].width * data.views[vi].height); ++k)
      pixels.emplace_back(uint32_t(vi), k);

  const double lr = f.learning_rate;
  // Two groups: the parameters at the learning rate, and the model's slow ones at a tenth.
  const std::vector<torch::Tensor> slow = model.slowParameters();
  std::vector<torch::Tensor> params;
  for (const auto& q : model.module().parameters()) {
    const bool isSlow =
        std::any_of(slow.begin(), slow.end(), [&](const torch::Tensor& t) { return t.is_same(q); });
    if (!isSlow) params.push_back(q);
  }
  for (const auto& q : R.background->parameters()) params.push_back(q);
  const auto adamOptions = [](double rate) {
    return std::make_unique<torch::optim::AdamOptions>(
        torch::optim::AdamOptions(rate).betas({0.9, 0.99}).eps(1e-15));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(params, adamOptions(lr));
  if (!slow.empty()) groups.emplace_back(slow, adamOptions(lr * 0.1));
  torch::optim::Adam adam(groups, *adamOptions(lr));
  const bool maskLoss = !R.learnedBackground && model.maskWeight() > 0;
  fs::create_directories(job.outDir);
  const fs::path checkpoint = job.outDir / "checkpoint.pt",
                 optimizerFile = job.outDir / "optimizer.pt",
                 progressFile = job.outDir / "progress.json";
  const std::string key = resumeKey(p, data, model);

  // An interrupted run (stopped, or its process died) with the same settings resumes from
  // its last checkpoint: parameters, occupancy, Adam's moments, iteration, time and curve.
  int64_t iter = 0;
  double resumedSeconds = 0;
  json curve = json::array();  // PSNR of the probe view over training time
  bool resumed = false;
  if (fs::exists(progressFile) && fs::exists(checkpoint)) {
    try {
      const json pr = json::parse(readFile(progressFile));
      if (!pr.value("finished", true) && pr.value("settings", "") == key) {
        R.load(checkpoint);
        resumed = true;
        iter = pr.at("iterations").get<int64_t>();
        resumedSeconds = pr.at("train_seconds").get<double>();
        curve = pr.value("psnr_curve", json::array());
        torch::serialize::InputArchive archive;
        archive.load_from(optimizerFile.string());
        adam.load(archive);
        job.report.info("resuming the training stopped at iteration " + std::to_string(iter) +
                        " (" + std::to_string(int(resumedSeconds)) + " s trained)");
      } else if (!pr.value("finished", true)) {
        job.report.info("the stopped training in " + job.outDir.string() +
                        " had other settings; training from the start");
      }
    } catch (const std::exception& e) {
      job.report.warning(
          std::string(resumed ? "Adam's state of the stopped training cannot be read ("
                              : "the stopped training cannot be resumed (") +
          std::string(e.what()).substr(0, 160) +
          (resumed ? "); resuming with fresh moments" : "); training from the start"));
    }
  }
  const int64_t maxIters = f.iterations;
  const double budget = f.time_budget_s;
  const int64_t targetSamples = f.batch_samples;
  int64_t rays = 2048;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  // The probe view (field.preview_view, else the first held-out one) rendered every
  // curve_interval_s: its PSNR is the curve, the render the live preview (preview.png,
  // curve.json, announced as the "field_render" preview).
  std::optional<size_t> probeView;
  const std::string& chosen = f.preview_view;
  for (size_t i = 0; i < data.views.size() && !chosen.empty(); ++i)
    if (data.views[i].name == chosen || fs::path(data.views[i].name).stem().string() == chosen)
      probeView = i;
  if (!chosen.empty() && !probeView)
    job.report.warning("field.preview_view '" + chosen +
                       "' is none of the views; previewing the first held-out one");
  if (!probeView && !testViews.empty()) probeView = testViews[0];
  const bool probeHeldOut = probeView && isHeldOut(*probeView, holdout);
  const double curveEvery = f.curve_interval_s;
  // On about 10,000 pixels (every other row and column of a 200x200 view; sparser on
  // larger ones): the curve and the preview cost little of the training time.
  const int curveStride =
      probeView ? std::max(2, int(std::ceil(std::sqrt(double(data.views[*probeView].width) *
                                                      data.views[*probeView].height / 1e4))))
                : 2;
  double nextCurve = (std::floor(resumedSeconds / curveEvery) + 1) * curveEvery, evalSeconds = 0;
  const float white[3] = {1, 1, 1};
  auto probe = [&](double at, int64_t iteration) {
    if (!probeView) return;
    const auto e0 = std::chrono::steady_clock::now();
    model.module().eval();
    const FieldView& v = data.views[*probeView];
    const std::vector<float> img = R.renderView(v, box, white, curveStride);
    const double db = psnr(img, reference(v, white, curveStride));
    model.module().train();
    curve.push_back({{"seconds", at}, {"iteration", iteration}, {"psnr", db}});
    // Written aside and renamed: the GUI may read it at any moment.
    writePng(job.outDir / "preview.tmp.png", img, (v.width + curveStride - 1) / curveStride,
             (v.height + curveStride - 1) / curveStride);
    fs::rename(job.outDir / "preview.tmp.png", job.outDir / "preview.png");
    writeFileAtomic(job.outDir / "curve.json", json{{"method", model.name()},
                                                    {"view", v.name},
                                                    {"held_out", probeHeldOut},
                                                    {"psnr_curve", curve}}
                                                   .dump(1));
    job.report.preview("field_render", (job.outDir / "preview.png").string());
    evalSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
    job.report.info(std::to_string(iteration) + " iterations, " + std::to_string(int(at)) + " s, " +
                    (probeHeldOut ? "held-out" : "training-view") + " PSNR " +
                    std::to_string(db).substr(0, 5) + " dB");
  };
  // Every checkpoint_interval_s, and when stopped: what a later run resumes from.
  const double checkpointEvery = f.checkpoint_interval_s;
  double nextCheckpoint = resumedSeconds + checkpointEvery;
  auto saveProgress = [&](double at, bool finished) {
    R.save(checkpoint);
    torch::serialize::OutputArchive archive;
    adam.save(archive);
    archive.save_to((optimizerFile.string() + ".tmp"));
    fs::rename(optimizerFile.string() + ".tmp", optimizerFile);
    writeFileAtomic(progressFile, json{{"finished", finished},
                                       {"iterations", iter},
                                       {"train_seconds", at},
                                       {"psnr_curve", curve},
                                       {"settings", key}}
                                      .dump(1));
  };

  // Structure from motion's points in the unit cube: those inside the field (its sphere
  // for NeuS) lie on its surface; the lines of sight to every point from the training
  // views that see it cross free space.
  // Which of (n, 3) unit-cube points lie inside the field (its sphere, or the box).
  const auto inField = [&](const torch::Tensor& q) {
    return model.sphereBounded() ? (q - 0.5).norm(2, 1) < 0.5 : ((q > 0) & (q < 1)).all(1);
  };
  torch::Tensor surfacePoints, sightFrom, sightTo;
  if (model.usesPoints()) {
    std::vector<float> inside, from, to;
    for (size_t i = 0; i < data.points.size(); ++i) {
      const Eigen::Vector3d q = (data.points[i] - box.min) / box.side;
      inside.insert(inside.end(), {float(q.x()), float(q.y()), float(q.z())});
      for (uint32_t v : i < data.pointViews.size() ? data.pointViews[i] : std::vector<uint32_t>{}) {
        if (v >= data.views.size() || isHeldOut(v, holdout)) continue;
        const Eigen::Vector3d c = (data.views[v].center - box.min) / box.side;
        from.insert(from.end(), {float(c.x()), float(c.y()), float(c.z())});
        to.insert(to.end(), {float(q.x()), float(q.y()), float(q.z())});
      }
    }
    surfacePoints = torch::from_blob(inside.data(), {int64_t(inside.size() / 3), 3}).clone();
    surfacePoints = surfacePoints.index({inField(surfacePoints)});
    if (surfacePoints.size(0) >= 20) {
      sightFrom = torch::from_blob(from.data(), {int64_t(from.size() / 3), 3}).clone();
      sightTo = torch::from_blob(to.data(), {int64_t(to.size() / 3), 3}).clone();
      job.report.info(std::to_string(surfacePoints.size(0)) + " sparse points pin the surface, " +
                      std::to_string(sightFrom.size(0)) + " lines of sight clear the space before them");
    } else {
      surfacePoints = torch::Tensor();
    }
  }
  // With masks: the visual hull's lower bound on the distance to the object, looked up at
  // random points of the box each step.
  torch::Tensor hullBound;
  int64_t hullRes = 0;
  if (!R.learnedBackground && model.usesHull()) {
    const ScalarGrid hull = visualHullBound(data, trainViews, box.min, box.side, 128, model.sphereBounded());
    if (!hull.values.empty()) {
      hullRes = hull.resolution;
      hullBound = torch::from_blob(const_cast<float*>(hull.values.data()), {int64_t(hull.values.size())}).clone();
      job.report.info("the masks' visual hull leaves " +
                      std::to_string(int(std::lround(100.0 * (hullBound <= 0).sum().item<double>() /
                                                     double(hull.values.size())))) +
                      "% of the box where the object can be");
    }
  }
  int64_t occupancyUpdates = resumed ? 1 : 0;
  double lastLoss = 0, tMarch = 0, tTrain = 0, tAdam = 0;
  std::uniform_int_distribution<size_t> pickPixel(0, pixels.size() - 1);
  std::uniform_real_distribution<float> u01(0.f, 1.f);
  // Training time excludes the curve's renders and adds the resumed run's.
  auto trained = [&] { return elapsed() - evalSeconds + resumedSeconds; };
  try {
    for (; iter < maxIters; ++iter) {
      throwIfCancelled();
      const double t = trained();
      if (t >= budget) break;
      if (checkpointEvery > 0 && t >= nextCheckpoint) {
        const auto c0 = std::chrono::steady_clock::now();
        saveProgress(t, false);
        evalSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
        nextCheckpoint = t + checkpointEvery;
      }
      if (t >= nextCurve) {
        probe(t, iter);
        nextCurve += curveEvery;
      }
      const double progress = std::max(double(iter) / double(maxIters), t / budget);
      for (size_t g = 0; g < adam.param_groups().size(); ++g)
        static_cast<torch::optim::AdamOptions&>(adam.param_groups()[g].options())
            .lr((g == 0 ? lr : lr * 0.1) * std::pow(0.1, progress));
      model.schedule(progress);

      // Occupancy: all cells first, then every 16 iterations a random quarter.
      if (iter % 16 == 0 && model.skipEmptySpace()) {
        c10::InferenceMode guard;
        const int64_t G = R.occ.resolution(), cells = G * G * G;
        auto [pos, ids] = R.occ.sampleCells(occupancyUpdates++ == 0 ? 0 : cells / 4, rng);
        torch::Tensor dens = torch::empty({pos.size(0)});
        for (int64_t b = 0; b < pos.size(0); b += 262144) {
          const int64_t e = std::min(pos.size(0), b + 262144);
          dens.slice(0, b, e).copy_(model.occupancyDensity(pos.slice(0, b, e)));
        }
        R.occ.update(ids, dens, 0.95f, R.march.threshold);
      }

      // A batch of random pixels; with alpha, a random background each (teaches transparency).
      auto lap = std::chrono::steady_clock::now();
      auto clock = [&](double& acc) {
        const auto now = std::chrono::steady_clock::now();
        acc += std::chrono::duration<double>(now - lap).count();
        lap = now;
      };
      Rays batch;
      batch.origin.resize(size_t(3 * rays));
      batch.direction.resize(size_t(3 * rays));
      torch::Tensor target = torch::empty({rays, 3}), bg = torch::empty({rays, 3}),
                    mask = torch::empty({rays});
      float *tg = target.data_ptr<float>(), *bgp = bg.data_ptr<float>(),
            *mk = mask.data_ptr<float>();
      for (int64_t r = 0; r < rays; ++r) {
        const auto [vi, k] = pixels[pickPixel(rng)];
        const FieldView& v = data.views[vi];
        const int x = int(k % uint32_t(v.width)), y = int(k / uint32_t(v.width));
        pixelRay(v, box, x + u01(rng), y + u01(rng), &batch.origin[size_t(3 * r)],
                 &batch.direction[size_t(3 * r)]);
        const float* px = &v.rgba[size_t(k) * 4];
        mk[r] = px[3];
        for (int c = 0; c < 3; ++c) {
          bgp[3 * r + c] = u01(rng);
          tg[3 * r + c] = px[c] * px[3] + bgp[3 * r + c] * (1 - px[3]);
        }
      }
      const Samples all = marchRays(batch, R.occ, R.march.dt * model.stepScale(),
                                    R.march.maxSamples, &rng, model.sphereBounded());
      clock(tMarch);
      if (all.size() == 0) {  // every ray missed the occupied cells: try more of them
        rays = 16384;
        continue;
      }
      const Renderer::Rendered out = R.render(all, batch, bg, true);
      torch::Tensor loss = torch::mse_loss(out.rgb, target);
      if (out.regulariser.defined()) loss = loss + out.regulariser;
      if (surfacePoints.defined()) {
        const auto pick = [](int64_t n) {
          return torch::randint(n, {std::min<int64_t>(4096, n)}, torch::TensorOptions().dtype(torch::kInt64));
        };
        const torch::Tensor on = surfacePoints.index_select(0, pick(surfacePoints.size(0)));
        torch::Tensor free;
        if (sightFrom.size(0) > 0) {
          // A random point of each line of sight, up to `clearance` short of its end.
          const torch::Tensor k = pick(sightFrom.size(0));
          const torch::Tensor a = sightFrom.index_select(0, k), b = sightTo.index_select(0, k);
          const torch::Tensor length = (b - a).norm(2, 1, true).clamp_min(1e-6);
          const torch::Tensor u = torch::rand({k.size(0), 1}) * (1 - model.clearance() / length).clamp_min(0);
          free = a + u * (b - a);
          free = free.index({inField(free)});
        }
        const torch::Tensor pl = model.pointLoss(on, free.defined() ? free : torch::empty({0, 3}));
        if (pl.defined()) loss = loss + pl;
      }
      if (hullBound.defined()) {
        const torch::Tensor pos = torch::rand({8192, 3});
        const torch::Tensor cell = (pos * float(hullRes - 1)).round().to(torch::kInt64);
        const torch::Tensor flat = cell.select(1, 0) + hullRes * (cell.select(1, 1) + hullRes * cell.select(1, 2));
        const torch::Tensor bound = hullBound.index_select(0, flat);
        const torch::Tensor outside = bound > 0;
        if (outside.any().item<bool>()) {  // (the mean of no points would be NaN)
          const torch::Tensor hl = model.hullLoss(pos.index({outside}), bound.index({outside}));
          if (hl.defined()) loss = loss + hl;
        }
      }
      if (maskLoss)
        loss = loss + model.maskWeight() *
                          torch::binary_cross_entropy(out.alpha.clamp(1e-3, 1 - 1e-3), mask);
      adam.zero_grad();
      loss.backward();
      clock(tTrain);
      adam.step();
      clock(tAdam);
      lastLoss = loss.item<double>();
      // Rays per batch follow the samples they produced.
      const double perRay = double(std::max<int64_t>(1, all.size())) / double(rays);
      rays = std::clamp<int64_t>(int64_t(double(targetSamples) / perRay), 256, 16384);

      if (iter % 20 == 0)
        job.report.progress(size_t(std::min(1.0, progress) * 1000), 1000,
                            "iteration " + std::to_string(iter) + ", loss " +
                                std::to_string(lastLoss) + ", " + std::to_string(rays) +
                                " rays x " + std::to_string(int(perRay)) + " samples");
    }
  } catch (const Cancelled&) {
    // Stopped: the progress so far is kept for the next run to resume.
    saveProgress(trained(), false);
    job.report.info("stopped at iteration " + std::to_string(iter) +
                    "; running the field stage again resumes here");
    throw;
  }
  const double seconds = trained();
  // The schedule where training ended (a run resumed at its budget trains no step, and the
  // model would otherwise render and give its surface at the schedule's start).
  model.schedule(std::min(1.0, std::max(double(iter) / double(maxIters), seconds / budget)));
  probe(seconds, iter);
  saveProgress(seconds, true);
  json summary = {{"method", model.name()},
                  {"iterations", iter},
                  {"train_seconds", seconds},
                  {"final_loss", lastLoss},
                  {"train_views", trainViews.size()},
                  {"held_out_views", testViews.size()},
                  {"learned_background", R.learnedBackground},
                  {"occupied_fraction", R.occ.occupiedFraction()},
                  {"seconds_in",
                   {{"march", tMarch},
                    {"train_pass", tTrain},
                    {"adam", tAdam},
                    {"curve_renders", evalSeconds}}},
                  {"model", model.summary()},
                  {"psnr_curve", curve},
                  {"psnr_curve_view", probeView ? data.views[*probeView].name : ""},
                  {"psnr_curve_held_out", probeHeldOut},
                  {"resumed_from_seconds", resumedSeconds}};
  const int meshRes = f.mesh_resolution;
  if (meshRes > 0) {
    // In the unit cube, where the surface is extracted.
    const Reconstruction trainingCameras = fieldCameras(data, trainViews, box.min, box.side);
    const TriangleMesh mesh =
        extractSurface(model, box, meshRes, f.mesh_largest_component,
                       f.mesh_seen_only ? &trainingCameras : nullptr,
                       f.mesh_in_masks ? &data : nullptr, trainViews, job.report);
    if (mesh.faces.empty()) {
      job.report.warning(
          "the field has no surface at its level (field.mesh_level); no mesh written");
    } else {
      writePly(job.outDir / "mesh.ply", mesh);
      job.report.preview("field_mesh", (job.outDir / "mesh.ply").string());
    }
    const MeshTopology topology = meshTopology(mesh);
    summary["mesh"] = {{"vertices", mesh.points.size()},
                       {"faces", mesh.faces.size()},
                       {"resolution", meshRes},
                       {"components", topology.components},
                       {"boundary_edges", topology.boundaryEdges},
                       {"closed", topology.closed()}};
    if (!mesh.faces.empty())
      job.report.info("surface: " + std::to_string(mesh.faces.size()) + " faces, " +
                      std::to_string(topology.components) + " component(s), " +
                      std::to_string(topology.boundaryEdges) + " boundary edges" +
                      (topology.closed() ? " (closed)" : ""));
  }
  writeFileAtomic(job.outDir / "training.json", summary.dump(2));
  return summary;
}

json evaluateField(FieldJob& job, FieldModel& model) {
  prepareProcess();
  const FieldDataset& data = job.data;
  const json& p = job.params;
  const UnitBox box(data);
  Renderer R{model, Background(), OccupancyGrid(), MarchSettings(p), !anyAlpha(data)};
  R.load(job.outDir / "checkpoint.pt");
  model.module().eval();
  const int holdout = params::Field::from(p).holdout_every;
  const fs::path renders = job.outDir / "renders";
  fs::create_directories(renders);
  const float white[3] = {1, 1, 1};
  json views = json::array();
  double sumP = 0, sumS = 0;
  size_t n = 0;
  for (size_t i = 0; i < data.views.size(); ++i) {
    if (!isHeldOut(i, holdout)) continue;
    throwIfCancelled();
    const FieldView& v = data.views[i];
    const std::vector<float> img = R.renderView(v, box, white), ref = reference(v, white);
    const double db = psnr(img, ref), ss = ssim(img, ref, v.width, v.height);
    writePng(renders / (fs::path(v.name).stem().string() + ".png"), img, v.width, v.height);
    views.push_back({{"view", v.name}, {"psnr", db}, {"ssim", ss}});
    sumP += db, sumS += ss, ++n;
    job.report.progress(n, data.views.size() / size_t(std::max(1, holdout)) + 1,
                        v.name + ": PSNR " + std::to_string(db).substr(0, 5) + " dB");
  }
  if (n == 0) throw Error("no held-out views (field.holdout_every is 0)");
  return {{"views", views},
          {"psnr", sumP / double(n)},
          {"ssim", sumS / double(n)},
          {"renders", renders.string()}};
}

}  // namespace parallax::fields
