// mvs.patchmatchnet: depth maps from PatchmatchNet (Wang et al., CVPR 2021), the
// upstream TorchScript module (../shared/models/patchmatchnet, MIT) run on the CPU.
// Registers a DepthEstimator that the mvs stage in core uses; see models/README.md
// for the module's forward signature.
#include <torch/script.h>
#include <torch/torch.h>

#include <malloc.h>

#include <cmath>
#include <mutex>
#include <thread>

#include "mvs/depth_estimator.h"
#include "params/patchmatchnet.h"
#include "params/stages.h"
#include "plugin/plugin_api.h"
#include "plugin/plugin_manager.h"
#include "util/error.h"

using nlohmann::json;

namespace {

const parallax::ModelFile kModule{
    "patchmatchnet/patchmatchnet_module.pt", "PatchmatchNet TorchScript module",
    "https://github.com/FangjinhuaWang/PatchmatchNet (checkpoints/module_000007.pt, MIT licence)"};

// The module's code triggers a deprecation warning (torch.meshgrid without
// `indexing`) that says nothing to a user; keep stderr for real problems.
struct QuietWarnings : c10::WarningHandler {
  void process(const c10::SourceLocation&, const std::string&, const bool) override {}
};

std::mutex moduleMutex;
std::shared_ptr<torch::jit::Module> cachedModule;

std::shared_ptr<torch::jit::Module> module() {
  std::lock_guard<std::mutex> lock(moduleMutex);
  if (cachedModule) return cachedModule;
  static QuietWarnings quiet;
  c10::Warning::set_warning_handler(&quiet);
  const std::filesystem::path path = parallax::locateModel(kModule);  // throws, naming the file
  try {
    auto m = std::make_shared<torch::jit::Module>(torch::jit::load(path.string(), torch::kCPU));
    m->eval();
    cachedModule = m;
  } catch (const c10::Error& e) {
    std::string reason = e.what_without_backtrace();
    reason = reason.substr(0, reason.find('\n'));
    throw parallax::Error("model file '" + path.string() +
                          "' is corrupt or not a TorchScript module (" + reason +
                          "); download it again from " + kModule.source);
  }
  return cachedModule;
}

// A view's photo as a (1, 3, H, W) tensor at the network's size.
torch::Tensor imageTensor(const parallax::MvsView& v, int64_t height, int64_t width) {
  torch::Tensor t = torch::from_blob(const_cast<float*>(v.rgb.data()), {v.height, v.width, 3},
                                     torch::kFloat32)
                        .permute({2, 0, 1})
                        .unsqueeze(0)
                        .contiguous();
  if (t.size(2) == height && t.size(3) == width) return t;
  namespace F = torch::nn::functional;
  const bool shrink = height < v.height && width < v.width;
  auto options = F::InterpolateFuncOptions().size(std::vector<int64_t>{height, width});
  if (shrink) return F::interpolate(t, options.mode(torch::kArea));
  return F::interpolate(t, options.mode(torch::kBilinear).align_corners(false));
}

parallax::DepthMap estimate(const std::vector<parallax::MvsView>& views, int ref, const json& values) {
  const auto own = parallax::params::PatchmatchnetMvs::from(values);
  auto net = module();
  // The network allocates and frees large tensors per call; keep freed memory in the
  // heap instead of returning it to the kernel (mmap/munmap and page faults cost
  // about a third of the time otherwise).
  static const bool heapTuned = [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)heapTuned;
  const parallax::MvsView& rv = views[size_t(ref)];
  const int maxSize = own.net_max_image_size;
  const int numSources = own.net_num_sources;
  const int threads = parallax::params::Mvs::from(values).num_threads;
  at::set_num_threads(threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency())));
  const double s = std::min(1.0, double(maxSize) / std::max(rv.width, rv.height));
  const int64_t W = std::max<int64_t>(8, int64_t(std::floor(rv.width * s / 8.0)) * 8);
  const int64_t H = std::max<int64_t>(8, int64_t(std::floor(rv.height * s / 8.0)) * 8);

  std::vector<int> ids{ref};
  for (int src : rv.sources)
    if (int(ids.size()) <= numSources) ids.push_back(src);
  if (ids.size() < 2) throw parallax::Error("'" + rv.name + "' has no source photos");
  const int64_t N = int64_t(ids.size());
  std::vector<torch::Tensor> images;
  torch::Tensor K = torch::zeros({1, N, 3, 3}, torch::kFloat32);
  torch::Tensor E = torch::zeros({1, N, 4, 4}, torch::kFloat32);
  auto Ka = K.accessor<float, 4>();
  auto Ea = E.accessor<float, 4>();
  for (int64_t k = 0; k < N; ++k) {
    const parallax::MvsView& v = views[size_t(ids[size_t(k)])];
    // Every view is resized to the reference's network size; intrinsics follow
    // (COLMAP's pixel convention: the principal point + 0.5 of ours).
    const double sx = double(W) / v.width, sy = double(H) / v.height;
    images.push_back(imageTensor(v, H, W));
    Ka[0][k][0][0] = float(v.K(0, 0) * sx);
    Ka[0][k][1][1] = float(v.K(1, 1) * sy);
    Ka[0][k][0][2] = float((v.K(0, 2) + 0.5) * sx);
    Ka[0][k][1][2] = float((v.K(1, 2) + 0.5) * sy);
    Ka[0][k][2][2] = 1.0f;
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) Ea[0][k][r][c] = float(v.R(r, c));
      Ea[0][k][r][3] = float(v.t(r));
    }
    Ea[0][k][3][3] = 1.0f;
  }
  torch::NoGradGuard noGrad;
  // The network draws its first depth hypotheses at random: seeded per photo, the same
  // photos give the same depth maps run after run (and the same mesh downstream).
  torch::manual_seed(0x5eed0000ull + rv.image_id);
  c10::List<torch::Tensor> imageList;
  for (auto& t : images) imageList.push_back(t);
  auto out = net->forward({imageList, K, E, torch::tensor({float(rv.depth_min)}),
                           torch::tensor({float(rv.depth_max)})})
                 .toTuple();
  torch::Tensor depth = out->elements()[0].toTensor().reshape({1, 1, H, W});
  torch::Tensor confidence = out->elements()[1].toTensor().reshape({1, 1, H, W});
  // Back to the photo's size (nearest: no depth mixed across edges).
  namespace F = torch::nn::functional;
  auto nearest = F::InterpolateFuncOptions()
                     .size(std::vector<int64_t>{rv.height, rv.width})
                     .mode(torch::kNearest);
  depth = F::interpolate(depth, nearest).contiguous();
  confidence = F::interpolate(confidence, nearest).contiguous();

  parallax::DepthMap map;
  map.width = rv.width;
  map.height = rv.height;
  const size_t n = size_t(rv.width) * size_t(rv.height);
  map.depth.assign(depth.data_ptr<float>(), depth.data_ptr<float>() + n);
  map.confidence.assign(confidence.data_ptr<float>(), confidence.data_ptr<float>() + n);
  const float minConfidence = float(own.net_min_confidence);
  for (size_t i = 0; i < n; ++i)
    if (!(map.confidence[i] >= minConfidence) || !(map.depth[i] >= rv.depth_min * 0.9) ||
        !(map.depth[i] <= rv.depth_max * 1.1))
      map.depth[i] = 0.0f;
  return map;
}

}  // namespace

PARALLAX_PLUGIN_EXPORT int parallax_plugin_abi() { return parallax::kPluginAbi; }

PARALLAX_PLUGIN_EXPORT void parallax_plugin_register(parallax::PluginRegistrar& registrar) {
  registrar.setName("depth_patchmatchnet", "1.0");
  registrar.declareModel(kModule);
  registrar.declareMethods(parallax::params::kPatchmatchnetDeclaration,
                           parallax::params::patchmatchnetStructDefaults());
  parallax::DepthEstimator estimator;
  estimator.numSources = [](const json& p) { return parallax::params::PatchmatchnetMvs::from(p).net_num_sources; };
  estimator.estimate = estimate;
  registrar.addMethod("mvs", "patchmatchnet", estimator, [](const json&) { module(); });
}
