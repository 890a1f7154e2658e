// field.neus: a signed-distance field trained per scene on the CPU (NeuS, Wang et al. 2021,
// on a hash grid as NeuS2 / instant-nsr-pl): an SDF network on the fused hash-grid
// encoding, NeuS's unbiased S-density turned into per-section opacities, the eikonal term
// on numerical gradients (a tetrahedral finite-difference stencil whose step shrinks during
// training, as Neuralangelo), a colour network on position features, normal and view
// direction. The surface is the zero level set.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "../field_common/field_training.h"
#include "../field_common/hash_grid.h"
#include "params/neus.h"
#include "params/stages.h"
#include "plugin/plugin_api.h"

using nlohmann::json;

namespace parallax::fields {
namespace {

struct NeusImpl : torch::nn::Module {
  NeusImpl(const HashGridOptions& o, double initRadius) : radius(initRadius) {
    grid = register_module("grid", HashGrid(o));
    const int in = grid->layout.outputDim() + 3;
    sdf1 = register_module("sdf1", torch::nn::Linear(in, 64));
    sdf2 = register_module("sdf2", torch::nn::Linear(64, 16));
    color1 = register_module("color1", torch::nn::Linear(3 + 16 + 15, 64));
    color2 = register_module("color2", torch::nn::Linear(64, 64));
    color3 = register_module("color3", torch::nn::Linear(64, 3));
    variance = register_parameter("variance", torch::full({1}, 0.3));
    // The network starts as a sphere: its own output small next to the analytic term.
    torch::NoGradGuard ng;
    sdf2->weight.mul_(0.01);
    sdf2->bias.zero_();
  }
  // (n, 16): signed distance (unit-cube lengths) in column 0, then the geometry feature.
  torch::Tensor geometry(const torch::Tensor& pos) {
    const torch::Tensor h = torch::cat({grid->forward(pos), pos - 0.5}, 1);
    torch::Tensor out = sdf2->forward(torch::softplus(sdf1->forward(h), 100.0));
    const torch::Tensor sphere = (pos - 0.5).norm(2, 1) - radius;
    return torch::cat({out.slice(1, 0, 1) + sphere.unsqueeze(1), out.slice(1, 1)}, 1);
  }
  torch::Tensor color(const torch::Tensor& normal, const torch::Tensor& dirs, const torch::Tensor& feature) {
    const torch::Tensor h = torch::cat({normal, sphericalHarmonics4(dirs), feature}, 1);
    return torch::sigmoid(color3->forward(torch::relu(color2->forward(torch::relu(color1->forward(h))))));
  }
  // NeuS's s, at most `maxSharpness`.
  torch::Tensor sharpness() const { return torch::exp(variance * 10.0).clamp(1.0, maxSharpness); }
  // A section's opacity depends on where in it the surface lies only while the S-density
  // (about 1/s wide) spans a marching step or more; sharper, every section the surface
  // crosses is opaque wherever it crosses it, the photos no longer move the surface within
  // a step and it freezes into terraces a step apart (seen on DTU: held-out PSNR falling
  // from 20.1 to 18.0 dB as s passed 1/step). So s stops at one width a step.
  double maxSharpness = 1e6;

  double radius;
  HashGrid grid{nullptr};
  torch::nn::Linear sdf1{nullptr}, sdf2{nullptr}, color1{nullptr}, color2{nullptr}, color3{nullptr};
  torch::Tensor variance;
};
TORCH_MODULE(Neus);

// Signed distance, its gradient and the geometry feature from four evaluations on a
// tetrahedron around each point: grad = sum(v_i f_i) / (4 eps), f = mean(f_i) (+ O(eps^2)).
struct Evaluated {
  torch::Tensor sdf, gradient, feature;
};
Evaluated evaluate(Neus& net, const torch::Tensor& pos, double eps) {
  static const float kStencil[4][3] = {{1, -1, -1}, {-1, -1, 1}, {-1, 1, -1}, {1, 1, 1}};
  const torch::Tensor v = torch::from_blob(const_cast<float*>(&kStencil[0][0]), {4, 3}).clone();
  const int64_t n = pos.size(0);
  // (4n, 3): the four corners of every point, corner-major.
  const torch::Tensor corners = (pos.unsqueeze(0) + float(eps / std::sqrt(3.0)) * v.unsqueeze(1)).reshape({-1, 3});
  const torch::Tensor geo = net->geometry(corners.clamp(0.0, 1.0)).reshape({4, n, 16});
  const torch::Tensor f = geo.select(2, 0);  // (4, n)
  Evaluated e;
  e.sdf = f.mean(0);
  e.gradient = (f.unsqueeze(2) * v.unsqueeze(1)).sum(0) * float(std::sqrt(3.0) / (4.0 * eps));
  e.feature = geo.slice(2, 1).mean(0);
  return e;
}

class NeusModel : public FieldModel {
 public:
  explicit NeusModel(const json& p) : NeusModel(p, params::NeusField::from(p)) {}
  NeusModel(const json& p, const params::NeusField& own)
      : eikonalWeight_(own.eikonal_weight),
        maskWeight_(own.mask_weight),
        pointWeight_(own.points_weight),
        hullWeight_(own.hull_weight),
        baseStep_(MarchSettings(p).dt) {
    const params::Field field = params::Field::from(p);
    torch::manual_seed(uint64_t(field.seed));
    HashGridOptions o;
    o.log2_table = field.hash_log2_size;
    o.max_resolution = field.hash_max_resolution;
    net_ = Neus(o, 0.3);
    net_->maxSharpness = 1.0 / baseStep_;
    schedule(0);
  }
  std::string name() const override { return "NeuS"; }
  torch::nn::Module& module() override { return *net_; }

  void schedule(double progress) override {
    progress_ = progress;
    // Coarse to fine (Neuralangelo): 4 levels at first, all of them by 60% of the training;
    // the finite-difference step is the finest active level's cell.
    const auto& L = net_->grid->layout;
    const int levels = L.options.levels;
    const int active = std::min(levels, 4 + int(std::floor((levels - 4) * std::min(1.0, progress / 0.6))));
    net_->grid->activeLevels = active;
    eps_ = 1.0 / double(L.resolution[size_t(active - 1)]);
    // NeuS's cosine annealing over the first fifth of the training.
    anneal_ = std::min(1.0, progress / 0.2);
    // The S-density is about 1/s wide: two samples across it are enough (NeuS's opacity
    // of a section is exact for a locally planar distance, whatever its length), up to 8
    // steps of field.steps_per_diagonal while the surface is blurry.
    const double s = net_->sharpness().item<double>();
    stepScale_ = float(std::clamp(1.0 / (2.0 * s * baseStep_), 1.0, 8.0));
  }
  float stepScale() const override { return stepScale_; }

  // The sharpness at a tenth of the learning rate (as instant-nsr-pl), so that it follows
  // the geometry as it settles rather than leading it.
  std::vector<torch::Tensor> slowParameters() override { return {net_->variance}; }
  // Structure from motion's points (Geo-NeuS, Fu et al. 2022): |f| at the points is the
  // surface's error; on the lines of sight to them the field must be outside (the NeuS
  // CDF sigmoid(-s f) there, 1/2 on a surface, is matter where the photos saw none).
  // Without them a scene that is not one object in the middle (a ground plane reaching the
  // cameras, sky) lets the sphere the field starts as swell until it fills the field and
  // the photos are painted on its boundary.
  bool usesPoints() const override { return pointWeight_ > 0; }
  torch::Tensor pointLoss(const torch::Tensor& onSurface, const torch::Tensor& freeSpace) override {
    torch::Tensor loss = net_->geometry(onSurface).select(1, 0).abs().mean();
    if (freeSpace.size(0) > 0)
      loss = loss + torch::sigmoid(-net_->sharpness() * net_->geometry(freeSpace).select(1, 0)).mean();
    return pointWeight_ * loss;
  }
  // Lines of sight stop where the S-density of the point's own surface has faded.
  double clearance() const override { return std::max(0.02, 4.0 / net_->sharpness().item<double>()); }

  double maskWeight() const override { return maskWeight_; }
  // Outside the visual hull the distance to the object is at least the distance to the hull
  // (and outside the sphere, the object being in it: its surface closes inside).
  bool usesHull() const override { return hullWeight_ > 0; }
  torch::Tensor hullLoss(const torch::Tensor& positions, const torch::Tensor& bound) override {
    return hullWeight_ * torch::relu(bound - net_->geometry(positions).select(1, 0)).mean();
  }

  // NeuS's logistic density s e^{-s f} / (1 + e^{-s f})^2, largest on the surface, at the
  // distance less a cell's diagonal and a marching step: a cell is sampled at one random
  // point, and once the density is sharp (s in the thousands, a band thinner than a cell)
  // that point would miss the surface crossing the cell, leaving holes no ray samples.
  torch::Tensor occupancyDensity(const torch::Tensor& pos) override {
    const torch::Tensor s = net_->sharpness();
    const double margin = std::sqrt(3.0) / kOccupancyResolution + baseStep_ * stepScale_;
    const torch::Tensor f = torch::relu(net_->geometry(pos).select(1, 0).abs() - margin);
    const torch::Tensor sig = torch::sigmoid(-s * f);
    return s * sig * (1 - sig);
  }

  torch::Tensor densityOnly(const Samples& samples) override {
    // Sections seen head-on (cos = -1): an upper bound of their opacity.
    const torch::Tensor f = net_->geometry(samples.positions).select(1, 0);
    return densityFromSections(f + 0.5 * samples.deltas, f - 0.5 * samples.deltas, samples.deltas);
  }

  Output forward(const Samples& samples, bool training) override {
    const Evaluated e = evaluate(net_, samples.positions, eps_);
    const torch::Tensor cosine = (samples.directions * e.gradient).sum(1);
    // NeuS: the cosine annealed from "always facing" (-1) to the true one.
    const torch::Tensor iterCos =
        -(torch::relu(-cosine * 0.5 + 0.5) * (1.0 - anneal_) + torch::relu(-cosine) * anneal_);
    const torch::Tensor prev = e.sdf - iterCos * samples.deltas * 0.5;
    const torch::Tensor next = e.sdf + iterCos * samples.deltas * 0.5;
    Output out;
    out.density = densityFromSections(prev, next, samples.deltas);
    const torch::Tensor normal = torch::nn::functional::normalize(
        e.gradient, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-6));
    out.color = net_->color(normal, samples.directions, e.feature);
    if (training && eikonalWeight_ > 0)
      out.regulariser = eikonalWeight_ * (e.gradient.norm(2, 1) - 1).pow(2).mean();
    return out;
  }

  // The first fifth of the training samples the whole box (the sphere it starts as would
  // otherwise confine where surfaces can form).
  bool skipEmptySpace() const override { return progress_ >= 0.2; }
  // As NeuS: the scene inside the sphere (cameras placed around it stay outside).
  bool sphereBounded() const override { return true; }
  torch::Tensor surfaceValue(const torch::Tensor& pos) override { return net_->geometry(pos).select(1, 0); }
  float surfaceLevel() const override { return 0.f; }
  bool insideAbove() const override { return false; }
  torch::Tensor surfaceColor(const torch::Tensor& pos, const torch::Tensor& dirs) override {
    const Evaluated e = evaluate(net_, pos, eps_);
    const torch::Tensor normal = torch::nn::functional::normalize(
        e.gradient, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-6));
    return net_->color(normal, dirs, e.feature);
  }
  json summary() override {
    return {{"sharpness", net_->sharpness().item<double>()}, {"eikonal_step", eps_}, {"step_scale", stepScale_},
            {"active_levels", net_->grid->activeLevels}};
  }

 private:
  // Opacity of a section from the S-density's CDF at its ends, as a density over its length
  // (alpha = 1 - exp(-density * delta)) for the compositing kernel.
  torch::Tensor densityFromSections(const torch::Tensor& prev, const torch::Tensor& next,
                                    const torch::Tensor& deltas) {
    const torch::Tensor s = net_->sharpness();
    const torch::Tensor cdfPrev = torch::sigmoid(prev * s), cdfNext = torch::sigmoid(next * s);
    const torch::Tensor alpha = ((cdfPrev - cdfNext + 1e-5) / (cdfPrev + 1e-5)).clamp(0.0, 1.0 - 1e-6);
    return -torch::log1p(-alpha) / deltas;
  }

  Neus net_{nullptr};
  float stepScale_ = 1.f;
  double eikonalWeight_, maskWeight_, pointWeight_, hullWeight_, baseStep_, eps_ = 1.0 / 64, anneal_ = 0, progress_ = 0;
};

json train(FieldJob& job) {
  NeusModel model(job.params);
  return trainField(job, model);
}

json evaluateHeldOut(FieldJob& job) {
  NeusModel model(job.params);
  model.schedule(1.0);
  return evaluateField(job, model);
}

}  // namespace
}  // namespace parallax::fields

PARALLAX_PLUGIN_EXPORT int parallax_plugin_abi() { return parallax::kPluginAbi; }

PARALLAX_PLUGIN_EXPORT void parallax_plugin_register(parallax::PluginRegistrar& registrar) {
  registrar.setName("field_neus", "1.0");
  registrar.declareMethods(parallax::params::kNeusDeclaration, parallax::params::neusStructDefaults());
  registrar.addMethod("field", "neus", parallax::FieldTrainer{parallax::fields::train, parallax::fields::evaluateHeldOut});
}
