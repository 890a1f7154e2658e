// segment.dgcnn: DGCNN (Wang et al., "Dynamic Graph CNN for Learning on Point Clouds")
// semantic segmentation with the S3DIS weights of AnTao97/dgcnn.pytorch
// (DGCNN_semseg_s3dis), written with torch::nn so that parameter names match the keys.
//
// The room is cut into square columns (block_size, S3DIS's 1 m) every block_stride;
// each pass takes block_points points of one column with S3DIS's nine features (x and y
// from the column's centre, z, rgb in [0, 1], xyz over the room's extent) and every
// point takes the summed class probabilities of all passes that saw it.
#include <torch/torch.h>

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <random>

#include "../common/torch_weights.h"
#include "params/dgcnn.h"
#include "plugin/plugin_api.h"
#include "segment/point_segmenter.h"
#include "util/cancel.h"

namespace tp = parallax::torch_plugin;
namespace nn = torch::nn;
using nlohmann::json;

namespace {

constexpr int kNeighbours = 20;  // k of the weights' training
constexpr int kClasses = 13;

parallax::ModelFile modelFile() {
  return {"dgcnn/dgcnn_semseg_s3dis.pt", "DGCNN S3DIS semantic segmentation weights",
          "https://github.com/AnTao97/dgcnn.pytorch (pretrained/semseg_s3dis/model_5.t7, MIT; "
          "converted as ../shared/models/README.md describes)"};
}

nn::LeakyReLU leaky() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); }

struct DgcnnImpl : nn::Module {
  // The batch norms are registered twice, as upstream does: on their own (bnN) and
  // inside the convolution blocks (convN.1); both names are in the weight file.
  nn::BatchNorm2d bn1{64}, bn2{64}, bn3{64}, bn4{64}, bn5{64};
  nn::BatchNorm1d bn6{1024}, bn7{512}, bn8{256};
  nn::Sequential conv1, conv2, conv3, conv4, conv5, conv6, conv7, conv8;
  nn::Conv1d conv9{nullptr};

  static nn::Conv2d edge(int in, int out) { return nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(false)); }
  static nn::Conv1d point(int in, int out) { return nn::Conv1d(nn::Conv1dOptions(in, out, 1).bias(false)); }

  DgcnnImpl() {
    register_module("bn1", bn1);
    register_module("bn2", bn2);
    register_module("bn3", bn3);
    register_module("bn4", bn4);
    register_module("bn5", bn5);
    register_module("bn6", bn6);
    register_module("bn7", bn7);
    register_module("bn8", bn8);
    conv1 = register_module("conv1", nn::Sequential(edge(18, 64), bn1, leaky()));
    conv2 = register_module("conv2", nn::Sequential(edge(64, 64), bn2, leaky()));
    conv3 = register_module("conv3", nn::Sequential(edge(128, 64), bn3, leaky()));
    conv4 = register_module("conv4", nn::Sequential(edge(64, 64), bn4, leaky()));
    conv5 = register_module("conv5", nn::Sequential(edge(128, 64), bn5, leaky()));
    conv6 = register_module("conv6", nn::Sequential(point(192, 1024), bn6, leaky()));
    conv7 = register_module("conv7", nn::Sequential(point(1216, 512), bn7, leaky()));
    conv8 = register_module("conv8", nn::Sequential(point(512, 256), bn8, leaky()));
    conv9 = register_module("conv9", point(256, kClasses));
  }

  // Indices (B, N, k) of each point's k nearest in feature space (itself included).
  static torch::Tensor knn(const torch::Tensor& x) {
    const torch::Tensor inner = torch::matmul(x.transpose(1, 2), x);
    const torch::Tensor xx = (x * x).sum(1, true);
    const torch::Tensor negDist = 2 * inner - xx - xx.transpose(1, 2);
    return std::get<1>(negDist.topk(kNeighbours, -1));
  }

  // Edge features (B, 2C, N, k): neighbour minus point, and the point.
  static torch::Tensor graphFeature(const torch::Tensor& x, const torch::Tensor& idx) {
    const int64_t B = x.size(0), C = x.size(1), N = x.size(2);
    const torch::Tensor pts = x.transpose(1, 2).contiguous();  // (B, N, C)
    const torch::Tensor flat = (idx + torch::arange(B, idx.options()).view({B, 1, 1}) * N).view(-1);
    const torch::Tensor nbr = pts.view({B * N, C}).index_select(0, flat).view({B, N, kNeighbours, C});
    const torch::Tensor centre = pts.view({B, N, 1, C}).expand({B, N, kNeighbours, C});
    return torch::cat({nbr - centre, centre}, 3).permute({0, 3, 1, 2}).contiguous();
  }

  // (B, 9, N) features -> (B, 13, N) class scores, as upstream computes them (the
  // reference the fast path is checked against).
  torch::Tensor forward(const torch::Tensor& x) {
    const int64_t N = x.size(2);
    // The first graph is built on the room-normalised coordinates (features 6..8).
    torch::Tensor x1 = conv2->forward(conv1->forward(graphFeature(x, knn(x.slice(1, 6, 9))))).amax(-1);
    torch::Tensor x2 = conv4->forward(conv3->forward(graphFeature(x1, knn(x1)))).amax(-1);
    torch::Tensor x3 = conv5->forward(graphFeature(x2, knn(x2))).amax(-1);
    const torch::Tensor local = torch::cat({x1, x2, x3}, 1);
    const torch::Tensor global = conv6->forward(local).amax(-1, true).expand({-1, -1, N});
    return conv9->forward(conv8->forward(conv7->forward(torch::cat({global, local}, 1))));
  }

  // --- The same network, fast: batch norms folded into the 1x1 convolutions, points
  // as rows (B, N, C), and two exact rewrites. An edge convolution of
  // [x_j - x_i, x_i] is W_a x_j + (W_b - W_a) x_i: both products are taken per point,
  // then gathered for the k neighbours (k times fewer products). conv7's input starts
  // with the global feature, the same for every point: its product is taken once.
  struct Folded {
    torch::Tensor w, b;  // (out, in), (out)
  };
  Folded c1, c2, c3, c4, c5, c6, c7, c8, c9;
  template <class BN>
  static Folded fold(const nn::Sequential& seq, const BN& bn) {
    const torch::Tensor w = seq->ptr(0)->named_parameters()["weight"];
    const torch::Tensor scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
    return {(w.reshape({w.size(0), -1}) * scale.unsqueeze(1)).contiguous(),
            (bn->bias - bn->running_mean * scale).contiguous()};
  }
  void fold() {
    torch::NoGradGuard noGrad;
    c1 = fold(conv1, bn1), c2 = fold(conv2, bn2), c3 = fold(conv3, bn3), c4 = fold(conv4, bn4);
    c5 = fold(conv5, bn5), c6 = fold(conv6, bn6), c7 = fold(conv7, bn7), c8 = fold(conv8, bn8);
    c9 = Folded{conv9->weight.reshape({kClasses, 256}).contiguous(), torch::zeros({kClasses})};
  }

  static torch::Tensor lrelu(const torch::Tensor& x) { return torch::leaky_relu(x, 0.2); }
  static torch::Tensor linear(const torch::Tensor& x, const Folded& f) {
    std::vector<int64_t> shape = x.sizes().vec();
    shape.back() = f.w.size(0);
    return torch::addmm(f.b, x.reshape({-1, x.size(-1)}), f.w.t()).view(shape);
  }

  // k nearest (B, N, k) of rows (B, N, C).
  static torch::Tensor knnRows(const torch::Tensor& x) {
    const torch::Tensor sq = (x * x).sum(-1);
    const torch::Tensor negDist = 2 * torch::bmm(x, x.transpose(1, 2)) - sq.unsqueeze(2) - sq.unsqueeze(1);
    return std::get<1>(negDist.topk(kNeighbours, -1));
  }

  // Edge convolution `first` (then `second`, if given) over the k nearest, max over them.
  static torch::Tensor edgeConv(const torch::Tensor& x, const torch::Tensor& idx, const Folded& first,
                                const Folded* second) {
    const int64_t B = x.size(0), N = x.size(1), C = x.size(2), O = first.w.size(0);
    const torch::Tensor wa = first.w.slice(1, 0, C), wd = first.w.slice(1, C, 2 * C) - wa;
    const torch::Tensor a = torch::matmul(x, wa.t());                      // (B, N, O)
    const torch::Tensor d = torch::addmm(first.b, x.reshape({-1, C}), wd.t()).view({B, N, 1, O});
    const torch::Tensor flat = (idx + torch::arange(B, idx.options()).view({B, 1, 1}) * N).view(-1);
    torch::Tensor h = lrelu(a.reshape({B * N, O}).index_select(0, flat).view({B, N, kNeighbours, O}) + d);
    if (second) h = lrelu(linear(h, *second));
    return std::get<0>(h.max(2));  // (B, N, O)
  }

  // (B, N, 9) rows -> (B, N, 13) class scores.
  torch::Tensor forwardFast(const torch::Tensor& x) {
    const torch::Tensor x1 = edgeConv(x, knnRows(x.slice(2, 6, 9).contiguous()), c1, &c2);
    const torch::Tensor x2 = edgeConv(x1, knnRows(x1), c3, &c4);
    const torch::Tensor x3 = edgeConv(x2, knnRows(x2), c5, nullptr);
    const torch::Tensor local = torch::cat({x1, x2, x3}, 2);                  // (B, N, 192)
    const torch::Tensor global = std::get<0>(lrelu(linear(local, c6)).max(1));  // (B, 1024)
    const torch::Tensor wg = c7.w.slice(1, 0, 1024), wl = c7.w.slice(1, 1024, 1216);
    const torch::Tensor g = torch::addmm(c7.b, global, wg.t()).unsqueeze(1);  // (B, 1, 512)
    torch::Tensor h = lrelu(torch::matmul(local, wl.t()) + g);
    h = lrelu(linear(h, c8));
    return torch::matmul(h, c9.w.t());
  }
};
TORCH_MODULE(Dgcnn);

std::mutex netMutex;
std::optional<Dgcnn> cached;

Dgcnn network() {
  std::lock_guard<std::mutex> lock(netMutex);
  if (cached) return *cached;
  const parallax::ModelFile model = modelFile();
  Dgcnn net;
  tp::assignWeights(*net, tp::loadStateDict(model), model);
  net->eval();
  net->fold();
  cached = net;
  return net;
}

float quantile(std::vector<float> v, double q) {
  const size_t k = std::min(v.size() - 1, size_t(q * double(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

// S3DIS's nine features per point, as rows (1, N, 9): x and y from the block's centre,
// z, rgb in [0, 1], and xyz over the room's extent.
torch::Tensor blockFeatures(const parallax::PointCloud& cloud, const std::vector<uint32_t>& pass,
                            float centreX, float centreY, const float extent[3]) {
  torch::Tensor f = torch::empty({1, int64_t(pass.size()), 9});
  float* a = f.data_ptr<float>();
  for (size_t k = 0; k < pass.size(); ++k, a += 9) {
    const Eigen::Vector3f& q = cloud.points[pass[k]];
    a[0] = q.x() - centreX;
    a[1] = q.y() - centreY;
    a[2] = q.z();
    for (int ch = 0; ch < 3; ++ch) a[3 + ch] = cloud.hasColors() ? cloud.colors[pass[k]][ch] / 255.f : 0.5f;
    a[6] = q.x() / extent[0];
    a[7] = q.y() / extent[1];
    a[8] = q.z() / extent[2];
  }
  return f;
}

// The fast path against upstream's formulation on random blocks (a port check).
json fastPathCheck(const json& args) {
  Dgcnn net = network();
  tp::setThreads(0);
  c10::InferenceMode inference;
  torch::manual_seed(args.value("seed", 3));
  const int64_t n = args.value("points", 1024);
  const torch::Tensor rows = torch::rand({2, n, 9});
  const torch::Tensor fast = net->forwardFast(rows);
  const torch::Tensor reference = net->forward(rows.transpose(1, 2).contiguous()).transpose(1, 2);
  return {{"max_abs_difference", (fast - reference).abs().max().item<double>()},
          {"max_abs", reference.abs().max().item<double>()}};
}

std::vector<int32_t> segment(const parallax::PointCloud& cloud, const json& p,
                             const std::function<void(size_t, size_t)>& progress) {
  Dgcnn net = network();
  tp::setThreads(0);
  // Each pass allocates and frees tens of megabytes; glibc would hand them back to the
  // system and page-fault them in again every pass (more system than user time). Keep them.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  c10::InferenceMode inference;
  const auto own = parallax::params::DgcnnSegment::from(p);
  const double size = own.block_size, stride = own.block_stride;
  const size_t perPass = size_t(own.block_points);
  const size_t n = cloud.size();
  if (n == 0) return {};
  if (stride > size) throw parallax::Error("segment.block_stride must not exceed segment.block_size (points between blocks would go unlabelled)");

  // The room's extent, for the normalised coordinates (S3DIS: each room from 0 to its max).
  float extent[3];
  for (int a = 0; a < 3; ++a) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = cloud.points[i][a];
    extent[a] = std::max(quantile(v, 0.995), 1e-3f);
  }
  // Columns every `stride`, `size` wide; a point belongs to every column that holds it.
  const int nx = std::max(1, int(std::ceil((extent[0] - size) / stride)) + 1);
  const int ny = std::max(1, int(std::ceil((extent[1] - size) / stride)) + 1);
  std::vector<std::vector<uint32_t>> blocks(size_t(nx) * size_t(ny));
  auto range = [&](float v, int count, int& lo, int& hi) {
    lo = std::clamp(int(std::ceil((v - size) / stride)), 0, count - 1);
    hi = std::clamp(int(std::floor(v / stride)), 0, count - 1);
    if (hi < lo) hi = lo;  // beyond the last column: the last one takes it
  };
  for (size_t i = 0; i < n; ++i) {
    int x0, x1, y0, y1;
    range(cloud.points[i].x(), nx, x0, x1);
    range(cloud.points[i].y(), ny, y0, y1);
    for (int by = y0; by <= y1; ++by)
      for (int bx = x0; bx <= x1; ++bx) blocks[size_t(by) * nx + bx].push_back(uint32_t(i));
  }
  // Columns with few points are passed over unless a point has no other (S3DIS skips
  // blocks under 100 points).
  constexpr size_t kFew = 100;
  std::vector<uint8_t> covered(n, 0);
  for (const auto& b : blocks)
    if (b.size() >= kFew)
      for (uint32_t i : b) covered[i] = 1;
  std::vector<size_t> todo;
  size_t passes = 0;
  for (size_t b = 0; b < blocks.size(); ++b) {
    bool needed = blocks[b].size() >= kFew;
    for (uint32_t i : blocks[b]) needed = needed || !covered[i];
    if (!needed || blocks[b].empty()) continue;
    todo.push_back(b);
    passes += (blocks[b].size() + perPass - 1) / perPass;
  }

  std::vector<float> votes(n * kClasses, 0.f);
  std::mt19937 rng(1);
  size_t done = 0;
  for (size_t b : todo) {
    std::vector<uint32_t> ids = blocks[b];
    std::shuffle(ids.begin(), ids.end(), rng);
    const size_t chunks = (ids.size() + perPass - 1) / perPass;
    for (size_t c = 0; c < chunks; ++c) {
      parallax::throwIfCancelled();
      // This pass's points, topped up with random others of the column to a full pass.
      std::vector<uint32_t> pass(ids.begin() + long(c * perPass),
                                 ids.begin() + long(std::min(ids.size(), (c + 1) * perPass)));
      std::uniform_int_distribution<size_t> any(0, ids.size() - 1);
      while (pass.size() < perPass) pass.push_back(ids[any(rng)]);
      float minX = std::numeric_limits<float>::max(), minY = minX;
      for (uint32_t i : pass) minX = std::min(minX, cloud.points[i].x()), minY = std::min(minY, cloud.points[i].y());
      const torch::Tensor f = blockFeatures(cloud, pass, minX + float(size) / 2, minY + float(size) / 2, extent);
      const torch::Tensor prob = torch::softmax(net->forwardFast(f), 2)[0].contiguous();  // (N, 13)
      const float* pr = prob.data_ptr<float>();
      for (size_t k = 0; k < perPass; ++k)
        for (int cl = 0; cl < kClasses; ++cl) votes[size_t(pass[k]) * kClasses + cl] += pr[k * kClasses + cl];
      if (progress) progress(++done, passes);
    }
  }
  std::vector<int32_t> labels(n, -1);
  for (size_t i = 0; i < n; ++i) {
    const float* v = &votes[i * kClasses];
    const float* best = std::max_element(v, v + kClasses);
    if (*best > 0) labels[i] = int32_t(best - v);
  }
  return labels;
}

}  // namespace

PARALLAX_PLUGIN_EXPORT int parallax_plugin_abi() { return parallax::kPluginAbi; }

PARALLAX_PLUGIN_EXPORT void parallax_plugin_register(parallax::PluginRegistrar& registrar) {
  registrar.setName("segment_dgcnn", "1.0");
  registrar.declareModel(modelFile());
  registrar.addCommand("dgcnn-check", fastPathCheck);
  registrar.declareMethods(parallax::params::kDgcnnDeclaration, parallax::params::dgcnnStructDefaults());
  parallax::LabelTable classes = parallax::s3disLabelTable();
  classes.method = "dgcnn";
  registrar.addMethod("segment", "dgcnn", parallax::PointSegmenter{classes, segment},
                      [](const json&) { network(); });
}
