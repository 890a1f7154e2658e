#include "field_training.h"

#include "params/stages.h"

#include <malloc.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <random>

#include "../common/torch_weights.h"
#include "field_renderer.h"
#include "field_surface.h"
#include "io/ply.h"
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


// One training run of a field: the views split into training and held-out ones, Adam
// over the model's and the background's parameters, the run resumed from an interrupted
// one with the same settings, the batches of random pixels, the probe view's PSNR curve
// and live preview, periodic checkpoints, and at the end the summary and the surface.
class Trainer {
 public:
  Trainer(FieldJob& job, FieldModel& model);
  // Continues an interrupted run (stopped, or its process died) with the same settings
  // from its last checkpoint: parameters, occupancy, Adam's moments, iteration, time, curve.
  void resume();
  // The sparse points and the masks' visual hull, for models that learn from them.
  void gatherGuides();
  // Trains until field.iterations or field.time_budget_s; stopped: the progress is saved
  // for the next run to resume, and Cancelled goes on.
  void train();
  // The last curve point and checkpoint, the surface; the summary (training.json).
  json finish();

 private:
  double trained() const;  // seconds, without the curve's renders, plus the resumed run's
  void setSchedule(double progress);
  void updateOccupancy();
  void step(double progress);
  torch::Tensor guideLoss();
  // Which of (n, 3) unit-cube points lie inside the field (its sphere, or the box).
  torch::Tensor inField(const torch::Tensor& q) const {
    return model_.sphereBounded() ? (q - 0.5).norm(2, 1) < 0.5 : ((q > 0) & (q < 1)).all(1);
  }
  void probe(double at);
  void saveProgress(double at, bool finished);
  json extractMesh();

  FieldJob& job_;
  FieldModel& model_;
  const FieldDataset& data_;
  const params::Field f_;
  const UnitBox box_;
  std::vector<size_t> trainViews_, testViews_;
  std::mt19937 rng_;
  Renderer R_;
  std::vector<std::pair<uint32_t, uint32_t>> pixels_;  // (view, pixel), drawn uniformly
  std::unique_ptr<torch::optim::Adam> adam_;
  bool maskLoss_;
  fs::path checkpoint_, optimizerFile_, progressFile_;
  std::string key_;

  int64_t iter_ = 0;
  double resumedSeconds_ = 0;
  json curve_ = json::array();  // PSNR of the probe view over training time
  bool resumed_ = false;
  int64_t rays_ = 2048;
  std::chrono::steady_clock::time_point t0_;
  double evalSeconds_ = 0;
  // The probe view (field.preview_view, else the first held-out one) rendered every
  // curve_interval_s: its PSNR is the curve, the render the live preview (preview.png,
  // curve.json, announced as the "field_render" preview).
  std::optional<size_t> probeView_;
  bool probeHeldOut_ = false;
  int curveStride_ = 2;
  double nextCurve_ = 0, nextCheckpoint_ = 0;

  torch::Tensor surfacePoints_, sightFrom_, sightTo_;  // the sparse points' guides
  torch::Tensor hullBound_;                            // the visual hull's, per cell
  int64_t hullRes_ = 0;
  int64_t occupancyUpdates_ = 0;
  double lastLoss_ = 0, tMarch_ = 0, tTrain_ = 0, tAdam_ = 0;
  std::uniform_int_distribution<size_t> pickPixel_;
  std::uniform_real_distribution<float> u01_{0.f, 1.f};
};

Trainer::Trainer(FieldJob& job, FieldModel& model)
    : job_(job),
      model_(model),
      data_(job.data),
      f_(params::Field::from(job.params)),
      box_(job.data),
      rng_(uint32_t(f_.seed)),
      R_{model, Background(), OccupancyGrid(), MarchSettings(job.params), !anyAlpha(job.data)} {
  for (size_t i = 0; i < data_.views.size(); ++i)
    (isHeldOut(i, f_.holdout_every) ? testViews_ : trainViews_).push_back(i);
  if (trainViews_.empty()) throw Error("no views left to train on; lower field.holdout_every");
  for (size_t vi : trainViews_)
    for (uint32_t k = 0; k < uint32_t(data_.views[vi].width * data_.views[vi].height); ++k)
      pixels_.emplace_back(uint32_t(vi), k);
  pickPixel_ = std::uniform_int_distribution<size_t>(0, pixels_.size() - 1);

  const double lr = f_.learning_rate;
  // Two groups: the parameters at the learning rate, and the model's slow ones at a tenth.
  const std::vector<torch::Tensor> slow = model.slowParameters();
  std::vector<torch::Tensor> params;
  for (const auto& q : model.module().parameters()) {
    const bool isSlow =
        std::any_of(slow.begin(), slow.end(), [&](const torch::Tensor& t) { return t.is_same(q); });
    if (!isSlow) params.push_back(q);
  }
  for (const auto& q : R_.background->parameters()) params.push_back(q);
  const auto adamOptions = [](double rate) {
    return std::make_unique<torch::optim::AdamOptions>(
        torch::optim::AdamOptions(rate).betas({0.9, 0.99}).eps(1e-15));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(params, adamOptions(lr));
  if (!slow.empty()) groups.emplace_back(slow, adamOptions(lr * 0.1));
  adam_ = std::make_unique<torch::optim::Adam>(groups, *adamOptions(lr));
  maskLoss_ = !R_.learnedBackground && model.maskWeight() > 0;
  fs::create_directories(job.outDir);
  checkpoint_ = job.outDir / "checkpoint.pt";
  optimizerFile_ = job.outDir / "optimizer.pt";
  progressFile_ = job.outDir / "progress.json";
  key_ = resumeKey(job.params, data_, model);
}

void Trainer::resume() {
  if (fs::exists(progressFile_) && fs::exists(checkpoint_)) {
    try {
      const json pr = json::parse(readFile(progressFile_));
      if (!pr.value("finished", true) && pr.value("settings", "") == key_) {
        R_.load(checkpoint_);
        resumed_ = true;
        iter_ = pr.at("iterations").get<int64_t>();
        resumedSeconds_ = pr.at("train_seconds").get<double>();
        curve_ = pr.value("psnr_curve", json::array());
        torch::serialize::InputArchive archive;
        archive.load_from(optimizerFile_.string());
        adam_->load(archive);
        job_.report.info("resuming the training stopped at iteration " + std::to_string(iter_) +
                         " (" + std::to_string(int(resumedSeconds_)) + " s trained)");
      } else if (!pr.value("finished", true)) {
        job_.report.info("the stopped training in " + job_.outDir.string() +
                         " had other settings; training from the start");
      }
    } catch (const std::exception& e) {
      job_.report.warning(
          std::string(resumed_ ? "Adam's state of the stopped training cannot be read ("
                               : "the stopped training cannot be resumed (") +
          std::string(e.what()).substr(0, 160) +
          (resumed_ ? "); resuming with fresh moments" : "); training from the start"));
    }
  }
  t0_ = std::chrono::steady_clock::now();
  const std::string& chosen = f_.preview_view;
  for (size_t i = 0; i < data_.views.size() && !chosen.empty(); ++i)
    if (data_.views[i].name == chosen || fs::path(data_.views[i].name).stem().string() == chosen)
      probeView_ = i;
  if (!chosen.empty() && !probeView_)
    job_.report.warning("field.preview_view '" + chosen +
                        "' is none of the views; previewing the first held-out one");
  if (!probeView_ && !testViews_.empty()) probeView_ = testViews_[0];
  probeHeldOut_ = probeView_ && isHeldOut(*probeView_, f_.holdout_every);
  // On about 10,000 pixels (every other row and column of a 200x200 view; sparser on
  // larger ones): the curve and the preview cost little of the training time.
  if (probeView_)
    curveStride_ = std::max(2, int(std::ceil(std::sqrt(double(data_.views[*probeView_].width) *
                                                        data_.views[*probeView_].height / 1e4))));
  nextCurve_ = (std::floor(resumedSeconds_ / f_.curve_interval_s) + 1) * f_.curve_interval_s;
  nextCheckpoint_ = resumedSeconds_ + f_.checkpoint_interval_s;
  occupancyUpdates_ = resumed_ ? 1 : 0;
}

double Trainer::trained() const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  return elapsed - evalSeconds_ + resumedSeconds_;
}

void Trainer::probe(double at) {
  if (!probeView_) return;
  const auto e0 = std::chrono::steady_clock::now();
  const float white[3] = {1, 1, 1};
  model_.module().eval();
  const FieldView& v = data_.views[*probeView_];
  const std::vector<float> img = R_.renderView(v, box_, white, curveStride_);
  const double db = psnr(img, reference(v, white, curveStride_));
  model_.module().train();
  curve_.push_back({{"seconds", at}, {"iteration", iter_}, {"psnr", db}});
  // Written aside and renamed: the GUI may read it at any moment.
  writePng(job_.outDir / "preview.tmp.png", img, (v.width + curveStride_ - 1) / curveStride_,
           (v.height + curveStride_ - 1) / curveStride_);
  fs::rename(job_.outDir / "preview.tmp.png", job_.outDir / "preview.png");
  writeFileAtomic(job_.outDir / "curve.json", json{{"method", model_.name()},
                                                   {"view", v.name},
                                                   {"held_out", probeHeldOut_},
                                                   {"psnr_curve", curve_}}
                                                  .dump(1));
  job_.report.preview("field_render", (job_.outDir / "preview.png").string());
  evalSeconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
  job_.report.info(std::to_string(iter_) + " iterations, " + std::to_string(int(at)) + " s, " +
                   (probeHeldOut_ ? "held-out" : "training-view") + " PSNR " +
                   std::to_string(db).substr(0, 5) + " dB");
}

// Every checkpoint_interval_s, and when stopped: what a later run resumes from.
void Trainer::saveProgress(double at, bool finished) {
  R_.save(checkpoint_);
  torch::serialize::OutputArchive archive;
  adam_->save(archive);
  archive.save_to((optimizerFile_.string() + ".tmp"));
  fs::rename(optimizerFile_.string() + ".tmp", optimizerFile_);
  writeFileAtomic(progressFile_, json{{"finished", finished},
                                      {"iterations", iter_},
                                      {"train_seconds", at},
                                      {"psnr_curve", curve_},
                                      {"settings", key_}}
                                     .dump(1));
}

// Structure from motion's points in the unit cube: those inside the field (its sphere
// for NeuS) lie on its surface; the lines of sight to every point from the training
// views that see it cross free space. With masks: the visual hull's lower bound on the
// distance to the object, looked up at random points of the box each step.
void Trainer::gatherGuides() {
  const int holdout = f_.holdout_every;
  if (model_.usesPoints()) {
    std::vector<float> inside, from, to;
    for (size_t i = 0; i < data_.points.size(); ++i) {
      const Eigen::Vector3d q = (data_.points[i] - box_.min) / box_.side;
      inside.insert(inside.end(), {float(q.x()), float(q.y()), float(q.z())});
      for (uint32_t v : i < data_.pointViews.size() ? data_.pointViews[i] : std::vector<uint32_t>{}) {
        if (v >= data_.views.size() || isHeldOut(v, holdout)) continue;
        const Eigen::Vector3d c = (data_.views[v].center - box_.min) / box_.side;
        from.insert(from.end(), {float(c.x()), float(c.y()), float(c.z())});
        to.insert(to.end(), {float(q.x()), float(q.y()), float(q.z())});
      }
    }
    surfacePoints_ = torch::from_blob(inside.data(), {int64_t(inside.size() / 3), 3}).clone();
    surfacePoints_ = surfacePoints_.index({inField(surfacePoints_)});
    if (surfacePoints_.size(0) >= 20) {
      sightFrom_ = torch::from_blob(from.data(), {int64_t(from.size() / 3), 3}).clone();
      sightTo_ = torch::from_blob(to.data(), {int64_t(to.size() / 3), 3}).clone();
      job_.report.info(std::to_string(surfacePoints_.size(0)) + " sparse points pin the surface, " +
                       std::to_string(sightFrom_.size(0)) + " lines of sight clear the space before them");
    } else {
      surfacePoints_ = torch::Tensor();
    }
  }
  if (!R_.learnedBackground && model_.usesHull()) {
    const ScalarGrid hull =
        visualHullBound(data_, trainViews_, box_.min, box_.side, 128, model_.sphereBounded());
    if (!hull.values.empty()) {
      hullRes_ = hull.resolution;
      hullBound_ = torch::from_blob(const_cast<float*>(hull.values.data()), {int64_t(hull.values.size())}).clone();
      job_.report.info("the masks' visual hull leaves " +
                       std::to_string(int(std::lround(100.0 * (hullBound_ <= 0).sum().item<double>() /
                                                      double(hull.values.size())))) +
                       "% of the box where the object can be");
    }
  }
}

void Trainer::train() {
  try {
    for (; iter_ < f_.iterations; ++iter_) {
      throwIfCancelled();
      const double t = trained();
      if (t >= f_.time_budget_s) break;
      if (f_.checkpoint_interval_s > 0 && t >= nextCheckpoint_) {
        const auto c0 = std::chrono::steady_clock::now();
        saveProgress(t, false);
        evalSeconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
        nextCheckpoint_ = t + f_.checkpoint_interval_s;
      }
      if (t >= nextCurve_) {
        probe(t);
        nextCurve_ += f_.curve_interval_s;
      }
      const double progress = std::max(double(iter_) / double(f_.iterations), t / f_.time_budget_s);
      setSchedule(progress);
      updateOccupancy();
      step(progress);
    }
  } catch (const Cancelled&) {
    saveProgress(trained(), false);
    job_.report.info("stopped at iteration " + std::to_string(iter_) +
                     "; running the field stage again resumes here");
    throw;
  }
}

// The learning rates fall tenfold over the training; the model's own schedule follows.
void Trainer::setSchedule(double progress) {
  const double lr = f_.learning_rate;
  for (size_t g = 0; g < adam_->param_groups().size(); ++g)
    static_cast<torch::optim::AdamOptions&>(adam_->param_groups()[g].options())
        .lr((g == 0 ? lr : lr * 0.1) * std::pow(0.1, progress));
  model_.schedule(progress);
}

// Occupancy: all cells first, then every 16 iterations a random quarter.
void Trainer::updateOccupancy() {
  if (iter_ % 16 != 0 || !model_.skipEmptySpace()) return;
  c10::InferenceMode guard;
  const int64_t G = R_.occ.resolution(), cells = G * G * G;
  auto [pos, ids] = R_.occ.sampleCells(occupancyUpdates_++ == 0 ? 0 : cells / 4, rng_);
  torch::Tensor dens = torch::empty({pos.size(0)});
  for (int64_t b = 0; b < pos.size(0); b += 262144) {
    const int64_t e = std::min(pos.size(0), b + 262144);
    dens.slice(0, b, e).copy_(model_.occupancyDensity(pos.slice(0, b, e)));
  }
  R_.occ.update(ids, dens, 0.95f, R_.march.threshold);
}

// A batch of random pixels; with alpha, a random background each (teaches transparency).
void Trainer::step(double progress) {
  auto lap = std::chrono::steady_clock::now();
  auto clock = [&](double& acc) {
    const auto now = std::chrono::steady_clock::now();
    acc += std::chrono::duration<double>(now - lap).count();
    lap = now;
  };
  Rays batch;
  batch.origin.resize(size_t(3 * rays_));
  batch.direction.resize(size_t(3 * rays_));
  torch::Tensor target = torch::empty({rays_, 3}), bg = torch::empty({rays_, 3}),
                mask = torch::empty({rays_});
  float *tg = target.data_ptr<float>(), *bgp = bg.data_ptr<float>(), *mk = mask.data_ptr<float>();
  for (int64_t r = 0; r < rays_; ++r) {
    const auto [vi, k] = pixels_[pickPixel_(rng_)];
    const FieldView& v = data_.views[vi];
    const int x = int(k % uint32_t(v.width)), y = int(k / uint32_t(v.width));
    pixelRay(v, box_, x + u01_(rng_), y + u01_(rng_), &batch.origin[size_t(3 * r)],
             &batch.direction[size_t(3 * r)]);
    const float* px = &v.rgba[size_t(k) * 4];
    mk[r] = px[3];
    for (int c = 0; c < 3; ++c) {
      bgp[3 * r + c] = u01_(rng_);
      tg[3 * r + c] = px[c] * px[3] + bgp[3 * r + c] * (1 - px[3]);
    }
  }
  const Samples all = marchRays(batch, R_.occ, R_.march.dt * model_.stepScale(), R_.march.maxSamples,
                                &rng_, model_.sphereBounded());
  clock(tMarch_);
  if (all.size() == 0) {  // every ray missed the occupied cells: try more of them
    rays_ = 16384;
    return;
  }
  const Renderer::Rendered out = R_.render(all, batch, bg, true);
  torch::Tensor loss = torch::mse_loss(out.rgb, target);
  if (out.regulariser.defined()) loss = loss + out.regulariser;
  const torch::Tensor guides = guideLoss();
  if (guides.defined()) loss = loss + guides;
  if (maskLoss_)
    loss = loss + model_.maskWeight() * torch::binary_cross_entropy(out.alpha.clamp(1e-3, 1 - 1e-3), mask);
  adam_->zero_grad();
  loss.backward();
  clock(tTrain_);
  adam_->step();
  clock(tAdam_);
  lastLoss_ = loss.item<double>();
  // Rays per batch follow the samples they produced.
  const double perRay = double(std::max<int64_t>(1, all.size())) / double(rays_);
  rays_ = std::clamp<int64_t>(int64_t(double(f_.batch_samples) / perRay), 256, 16384);
  if (iter_ % 20 == 0)
    job_.report.progress(size_t(std::min(1.0, progress) * 1000), 1000,
                         "iteration " + std::to_string(iter_) + ", loss " + std::to_string(lastLoss_) +
                             ", " + std::to_string(rays_) + " rays x " + std::to_string(int(perRay)) +
                             " samples");
}

// The sparse points' loss (on the surface; nothing along the lines of sight before
// them) and the visual hull's (nothing outside it), on random subsets; undefined if none.
torch::Tensor Trainer::guideLoss() {
  torch::Tensor loss;
  auto add = [&](const torch::Tensor& term) {
    if (term.defined()) loss = loss.defined() ? loss + term : term;
  };
  if (surfacePoints_.defined()) {
    const auto pick = [](int64_t n) {
      return torch::randint(n, {std::min<int64_t>(4096, n)}, torch::TensorOptions().dtype(torch::kInt64));
    };
    const torch::Tensor on = surfacePoints_.index_select(0, pick(surfacePoints_.size(0)));
    torch::Tensor free;
    if (sightFrom_.size(0) > 0) {
      // A random point of each line of sight, up to `clearance` short of its end.
      const torch::Tensor k = pick(sightFrom_.size(0));
      const torch::Tensor a = sightFrom_.index_select(0, k), b = sightTo_.index_select(0, k);
      const torch::Tensor length = (b - a).norm(2, 1, true).clamp_min(1e-6);
      const torch::Tensor u = torch::rand({k.size(0), 1}) * (1 - model_.clearance() / length).clamp_min(0);
      free = a + u * (b - a);
      free = free.index({inField(free)});
    }
    add(model_.pointLoss(on, free.defined() ? free : torch::empty({0, 3})));
  }
  if (hullBound_.defined()) {
    const torch::Tensor pos = torch::rand({8192, 3});
    const torch::Tensor cell = (pos * float(hullRes_ - 1)).round().to(torch::kInt64);
    const torch::Tensor flat = cell.select(1, 0) + hullRes_ * (cell.select(1, 1) + hullRes_ * cell.select(1, 2));
    const torch::Tensor bound = hullBound_.index_select(0, flat);
    const torch::Tensor outside = bound > 0;
    if (outside.any().item<bool>())  // (the mean of no points would be NaN)
      add(model_.hullLoss(pos.index({outside}), bound.index({outside})));
  }
  return loss;
}

json Trainer::finish() {
  const double seconds = trained();
  // The schedule where training ended (a run resumed at its budget trains no step, and the
  // model would otherwise render and give its surface at the schedule's start).
  model_.schedule(std::min(1.0, std::max(double(iter_) / double(f_.iterations), seconds / f_.time_budget_s)));
  probe(seconds);
  saveProgress(seconds, true);
  json summary = {{"method", model_.name()},
                  {"iterations", iter_},
                  {"train_seconds", seconds},
                  {"final_loss", lastLoss_},
                  {"train_views", trainViews_.size()},
                  {"held_out_views", testViews_.size()},
                  {"learned_background", R_.learnedBackground},
                  {"occupied_fraction", R_.occ.occupiedFraction()},
                  {"seconds_in",
                   {{"march", tMarch_}, {"train_pass", tTrain_}, {"adam", tAdam_}, {"curve_renders", evalSeconds_}}},
                  {"model", model_.summary()},
                  {"psnr_curve", curve_},
                  {"psnr_curve_view", probeView_ ? data_.views[*probeView_].name : ""},
                  {"psnr_curve_held_out", probeHeldOut_},
                  {"resumed_from_seconds", resumedSeconds_}};
  if (f_.mesh_resolution > 0) summary["mesh"] = extractMesh();
  writeFileAtomic(job_.outDir / "training.json", summary.dump(2));
  return summary;
}

json Trainer::extractMesh() {
  // In the unit cube, where the surface is extracted.
  const Reconstruction trainingCameras = fieldCameras(data_, trainViews_, box_.min, box_.side);
  const TriangleMesh mesh = extractSurface(model_, box_, f_.mesh_resolution, f_.mesh_largest_component,
                                           f_.mesh_seen_only ? &trainingCameras : nullptr,
                                           f_.mesh_in_masks ? &data_ : nullptr, trainViews_, job_.report);
  if (mesh.faces.empty()) {
    job_.report.warning("the field has no surface at its level (field.mesh_level); no mesh written");
  } else {
    writePly(job_.outDir / "mesh.ply", mesh);
    job_.report.preview("field_mesh", (job_.outDir / "mesh.ply").string());
  }
  const MeshTopology topology = meshTopology(mesh);
  if (!mesh.faces.empty())
    job_.report.info("surface: " + std::to_string(mesh.faces.size()) + " faces, " +
                     std::to_string(topology.components) + " component(s), " +
                     std::to_string(topology.boundaryEdges) + " boundary edges" +
                     (topology.closed() ? " (closed)" : ""));
  return {{"vertices", mesh.points.size()},
          {"faces", mesh.faces.size()},
          {"resolution", f_.mesh_resolution},
          {"components", topology.components},
          {"boundary_edges", topology.boundaryEdges},
          {"closed", topology.closed()}};
}

}  // namespace

json trainField(FieldJob& job, FieldModel& model) {
  prepareProcess();
  Trainer trainer(job, model);
  trainer.resume();
  trainer.gatherGuides();
  trainer.train();
  return trainer.finish();
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
