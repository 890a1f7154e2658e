// field.nerf: a radiance field trained per scene on the CPU, instant-ngp style: a
// multiresolution hash grid (fused C++ kernel) feeding a small density MLP and a colour
// MLP on spherical harmonics of the view direction; an occupancy grid that skips empty
// space; samples behind opaque matter pruned by a density-only pass before the training
// pass; emission-absorption compositing as a fused kernel with its analytic gradient.
#include <torch/torch.h>

#include <chrono>
#include <random>

#include "../field_common/field_training.h"
#include "../field_common/hash_grid.h"
#include "params/nerf.h"
#include "params/stages.h"
#include "plugin/plugin_api.h"

using nlohmann::json;

namespace parallax::fields {
namespace {

struct NerfImpl : torch::nn::Module {
  explicit NerfImpl(const HashGridOptions& o) {
    grid = register_module("grid", HashGrid(o));
    const int in = grid->layout.outputDim();
    density1 = register_module("density1", torch::nn::Linear(torch::nn::LinearOptions(in, 64).bias(false)));
    density2 = register_module("density2", torch::nn::Linear(torch::nn::LinearOptions(64, 16).bias(false)));
    color1 = register_module("color1", torch::nn::Linear(torch::nn::LinearOptions(32, 64).bias(false)));
    color2 = register_module("color2", torch::nn::Linear(torch::nn::LinearOptions(64, 64).bias(false)));
    color3 = register_module("color3", torch::nn::Linear(torch::nn::LinearOptions(64, 3).bias(false)));
  }
  // (S, 16): log density in column 0, then the geometry feature.
  torch::Tensor geometry(const torch::Tensor& pos) {
    return density2->forward(torch::relu(density1->forward(grid->forward(pos))));
  }
  static torch::Tensor density(const torch::Tensor& geo) {
    // exp of a clamped input: positive, and no overflow early in training.
    return torch::exp(geo.select(1, 0).clamp(-15.0, 15.0));
  }
  torch::Tensor color(const torch::Tensor& geo, const torch::Tensor& dirs) {
    const torch::Tensor h = torch::cat({geo, sphericalHarmonics4(dirs)}, 1);
    return torch::sigmoid(color3->forward(torch::relu(color2->forward(torch::relu(color1->forward(h))))));
  }
  HashGrid grid{nullptr};
  torch::nn::Linear density1{nullptr}, density2{nullptr}, color1{nullptr}, color2{nullptr}, color3{nullptr};
};
TORCH_MODULE(Nerf);

class NerfModel : public FieldModel {
 public:
  explicit NerfModel(const json& p) : level_(float(params::NerfField::from(p).mesh_level)) {
    const params::Field field = params::Field::from(p);
    torch::manual_seed(uint64_t(field.seed));
    HashGridOptions o;
    o.log2_table = field.hash_log2_size;
    o.max_resolution = field.hash_max_resolution;
    net_ = Nerf(o);
  }
  std::string name() const override { return "NeRF"; }
  torch::nn::Module& module() override { return *net_; }
  torch::Tensor occupancyDensity(const torch::Tensor& pos) override {
    return NerfImpl::density(net_->geometry(pos));
  }
  torch::Tensor densityOnly(const Samples& s) override { return occupancyDensity(s.positions); }
  Output forward(const Samples& s, bool) override {
    const torch::Tensor geo = net_->geometry(s.positions);
    return {NerfImpl::density(geo), net_->color(geo, s.directions), {}};
  }
  torch::Tensor surfaceValue(const torch::Tensor& pos) override { return occupancyDensity(pos); }
  float surfaceLevel() const override { return level_; }
  bool insideAbove() const override { return true; }
  torch::Tensor surfaceColor(const torch::Tensor& pos, const torch::Tensor& dirs) override {
    // Seen from a little outside the surface (the density rises across it).
    return net_->color(net_->geometry(pos), dirs);
  }

 private:
  Nerf net_{nullptr};
  float level_;
};

json train(FieldJob& job) {
  NerfModel model(job.params);
  return trainField(job, model);
}

json evaluate(FieldJob& job) {
  NerfModel model(job.params);
  return evaluateField(job, model);
}

// Throughput of the fused hash-grid kernel against the tensor-op encoding: points per
// second, forward + backward, on points along random rays.
json hashGridBenchmark(const json& args) {
  prepareProcess();
  if (args.contains("threads")) at::set_num_threads(args["threads"].get<int>());
  const int64_t n = args.value("points", 262144LL);
  const int reps = int(args.value("repeats", 5LL));
  HashGridOptions o;
  o.log2_table = int(args.value("log2_size", 19LL));
  o.max_resolution = int(args.value("max_resolution", 1024LL));
  HashGrid grid(o);
  // Points as a field sees them: 256 steps along each of n/256 random rays through the
  // unit cube (training batches are ray-major).
  torch::manual_seed(0);
  const int64_t steps = 256, nrays = std::max<int64_t>(1, n / steps);
  const torch::Tensor a0 = torch::rand({nrays, 1, 3}), a1 = torch::rand({nrays, 1, 3});
  const torch::Tensor t = torch::linspace(0, 1, steps).reshape({1, steps, 1});
  const torch::Tensor pos = (a0 + (a1 - a0) * t).reshape({-1, 3}).contiguous();
  const torch::Tensor weights = torch::randn({pos.size(0), grid->layout.outputDim()});
  auto run = [&](bool fused) {
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
      grid->table.mutable_grad() = torch::Tensor();
      const auto t0 = std::chrono::steady_clock::now();
      const torch::Tensor enc = fused ? hashGridEncode(pos, grid->table, grid->layout)
                                      : hashGridEncodeReference(pos, grid->table, grid->layout);
      (enc * weights).sum().backward();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return double(n) / best;
  };
  // Same numbers both ways.
  const torch::Tensor a = hashGridEncode(pos.slice(0, 0, 4096), grid->table, grid->layout);
  const torch::Tensor b = hashGridEncodeReference(pos.slice(0, 0, 4096), grid->table, grid->layout);
  const double diff = (a - b).abs().max().item<double>();
  // And the same table gradients.
  auto gradOf = [&](bool fused) {
    grid->table.mutable_grad() = torch::Tensor();
    const torch::Tensor p = pos.slice(0, 0, 4096);
    const torch::Tensor enc = fused ? hashGridEncode(p, grid->table, grid->layout)
                                    : hashGridEncodeReference(p, grid->table, grid->layout);
    (enc * weights.slice(0, 0, 4096)).sum().backward();
    return grid->table.grad().clone();
  };
  const torch::Tensor ga = gradOf(true), gb = gradOf(false);
  const double gradDiff = (ga - gb).abs().max().item<double>();
  const double gradScale = gb.abs().max().item<double>();
  const double fused = run(true), reference = run(false);
  return {{"points", pos.size(0)},
          {"levels", o.levels},
          {"log2_size", o.log2_table},
          {"threads", at::get_num_threads()},
          {"fused_points_per_s", fused},
          {"tensor_ops_points_per_s", reference},
          {"speedup", fused / reference},
          {"max_abs_difference", diff},
          {"max_grad_difference", gradDiff},
          {"max_grad", gradScale}};
}

// The fused compositing kernel against the same sums written with tensor operations
// (exclusive cumulative product of transmittance): outputs and gradients.
json compositeCheck(const json& args) {
  torch::manual_seed(uint64_t(args.value("seed", 1LL)));
  const int64_t R = args.value("rays", 64LL);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> count(0, 40);
  Samples s;
  int64_t total = 0;
  for (int64_t r = 0; r < R; ++r) {
    s.start.push_back(total);
    s.count.push_back(count(rng));
    total += s.count.back();
  }
  s.deltas = torch::rand({total}) * 0.05 + 0.001;
  const torch::Tensor sigma0 = torch::rand({total}) * 60, color0 = torch::rand({total, 3});
  const torch::Tensor wC = torch::randn({R, 3}), wA = torch::randn({R});
  auto run = [&](bool fused) {
    torch::Tensor sigma = sigma0.clone().requires_grad_(true), color = color0.clone().requires_grad_(true);
    torch::Tensor C, A;
    if (fused) {
      std::tie(C, A) = composite(sigma, color, s);
    } else {
      std::vector<torch::Tensor> cs, as;
      for (int64_t r = 0; r < R; ++r) {
        const int64_t b = s.start[size_t(r)], n = s.count[size_t(r)];
        if (n == 0) {
          cs.push_back(torch::zeros({3}));
          as.push_back(torch::zeros({}));
          continue;
        }
        const torch::Tensor tau = sigma.slice(0, b, b + n) * s.deltas.slice(0, b, b + n);
        const torch::Tensor alpha = 1 - torch::exp(-tau);
        const torch::Tensor T = torch::exp(-(torch::cumsum(tau, 0) - tau));
        const torch::Tensor w = T * alpha;
        cs.push_back((w.unsqueeze(1) * color.slice(0, b, b + n)).sum(0));
        as.push_back(w.sum());
      }
      C = torch::stack(cs), A = torch::stack(as);
    }
    ((C * wC).sum() + (A * wA).sum()).backward();
    return std::vector<torch::Tensor>{C.detach(), A.detach(), sigma.grad(), color.grad()};
  };
  const auto a = run(true), b = run(false);
  auto diff = [](const torch::Tensor& x, const torch::Tensor& y) { return (x - y).abs().max().item<double>(); };
  return {{"samples", total},
          {"max_color_difference", diff(a[0], b[0])},
          {"max_opacity_difference", diff(a[1], b[1])},
          {"max_density_grad_difference", diff(a[2], b[2])},
          {"max_density_grad", b[2].abs().max().item<double>()},
          {"max_color_grad_difference", diff(a[3], b[3])}};
}

}  // namespace
}  // namespace parallax::fields

PARALLAX_PLUGIN_EXPORT int parallax_plugin_abi() { return parallax::kPluginAbi; }

PARALLAX_PLUGIN_EXPORT void parallax_plugin_register(parallax::PluginRegistrar& registrar) {
  registrar.setName("field_nerf", "1.0");
  registrar.declareMethods(parallax::params::kNerfDeclaration, parallax::params::nerfStructDefaults());
  registrar.addMethod("field", "nerf", parallax::FieldTrainer{parallax::fields::train, parallax::fields::evaluate});
  registrar.addCommand("hashgrid-benchmark", parallax::fields::hashGridBenchmark);
  registrar.addCommand("composite-check", parallax::fields::compositeCheck);
}
