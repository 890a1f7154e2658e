// features.alike: ALIKE keypoints and descriptors (Zhao et al., "ALIKE: Accurate and
// Lightweight Keypoint Detection and Descriptor Extraction", TMM 2022), written with
// torch::nn so the parameter names are the weight files' keys (../shared/models/alike,
// BSD-3-Clause), with its differentiable keypoint detection at inference: score-map
// NMS, threshold, soft-argmax refinement in a 5x5 window, bilinear descriptor sampling.
//
// Network: a VGG-like encoder at 1, 1/2, 1/8 and 1/32 resolution (a conv block, then
// three residual blocks after 2x, 4x and 4x max pooling), each level reduced to dim/4
// channels by a 1x1 convolution, upsampled to full resolution (bilinear, corners
// aligned) and concatenated; a 1x1 head gives dim descriptor channels and one score
// channel. For the single-head variants (t, s, n) both the head and the upsampling are
// linear, so the score map is computed from one channel per level and descriptors
// only at keypoints: the same numbers as the dense maps, without the full-resolution
// dim-channel tensors (about 1.8 GB at 1600 px).
#include <torch/torch.h>

#include <cmath>
#include <mutex>

#include "../common/torch_weights.h"
#include "features/feature_extractor.h"
#include "params/alike.h"
#include "params/stages.h"
#include "plugin/plugin_api.h"

using nlohmann::json;
namespace F = torch::nn::functional;
namespace tp = parallax::torch_plugin;

namespace {

struct Config {
  int c1, c2, c3, c4, dim;
  bool single_head;
};

Config config(const std::string& variant) {
  if (variant == "t") return {8, 16, 32, 64, 64, true};
  if (variant == "s") return {8, 16, 48, 96, 96, true};
  if (variant == "n") return {16, 32, 64, 128, 128, true};
  if (variant == "l") return {32, 64, 128, 128, 128, false};
  throw parallax::Error("features.alike_model = '" + variant + "' is not an ALIKE variant; use t, s, n or l");
}

parallax::ModelFile modelFile(const std::string& variant) {
  return {"alike/alike-" + variant + ".pt", "ALIKE-" + variant + " weights",
          "https://github.com/Shiaoming/ALIKE (models/alike-" + variant +
              ".pth, BSD-3-Clause; converted as ../shared/models/README.md describes)"};
}

torch::nn::Conv2d conv(int in, int out, int k, bool bias) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(k / 2).bias(bias));
}

// Two 3x3 convolutions, each followed by batch norm and ReLU.
struct ConvBlockImpl : torch::nn::Module {
  torch::nn::Conv2d conv1, conv2;
  torch::nn::BatchNorm2d bn1, bn2;
  ConvBlockImpl(int in, int out)
      : conv1(conv(in, out, 3, false)), conv2(conv(out, out, 3, false)), bn1(out), bn2(out) {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("conv2", conv2);
    register_module("bn2", bn2);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(bn1(conv1(x)));
    return torch::relu(bn2(conv2(x)));
  }
};
TORCH_MODULE(ConvBlock);

// A ResNet basic block with a 1x1 projection (with bias) on the shortcut.
struct ResBlockImpl : torch::nn::Module {
  torch::nn::Conv2d conv1, conv2, downsample;
  torch::nn::BatchNorm2d bn1, bn2;
  ResBlockImpl(int in, int out)
      : conv1(conv(in, out, 3, false)),
        conv2(conv(out, out, 3, false)),
        downsample(conv(in, out, 1, true)),
        bn1(out),
        bn2(out) {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("conv2", conv2);
    register_module("bn2", bn2);
    register_module("downsample", downsample);
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor out = torch::relu(bn1(conv1(x)));
    out = bn2(conv2(out));
    return torch::relu(out + downsample(x));
  }
};
TORCH_MODULE(ResBlock);

struct ALNetImpl : torch::nn::Module {
  Config cfg;
  ConvBlock block1;
  ResBlock block2, block3, block4;
  torch::nn::Conv2d conv1, conv2, conv3, conv4, convhead1{nullptr}, convhead2;
  explicit ALNetImpl(const Config& c)
      : cfg(c),
        block1(3, c.c1),
        block2(c.c1, c.c2),
        block3(c.c2, c.c3),
        block4(c.c3, c.c4),
        conv1(conv(c.c1, c.dim / 4, 1, false)),
        conv2(conv(c.c2, c.dim / 4, 1, false)),
        conv3(conv(c.c3, c.dim / 4, 1, false)),
        conv4(conv(c.dim, c.dim / 4, 1, false)),
        convhead2(conv(c.dim, c.dim + 1, 1, false)) {
    register_module("block1", block1);
    register_module("block2", block2);
    register_module("block3", block3);
    register_module("block4", block4);
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("conv3", conv3);
    register_module("conv4", conv4);
    if (!c.single_head) {
      convhead1 = conv(c.dim, c.dim, 1, false);
      register_module("convhead1", convhead1);
    }
    register_module("convhead2", convhead2);
  }
};
TORCH_MODULE(ALNet);

std::mutex netMutex;
std::map<std::string, ALNet> nets;

ALNet network(const std::string& variant) {
  std::lock_guard<std::mutex> lock(netMutex);
  auto it = nets.find(variant);
  if (it != nets.end()) return it->second;
  const Config c = config(variant);
  const parallax::ModelFile model = modelFile(variant);
  ALNet net(c);
  tp::assignWeights(*net, tp::loadStateDict(model), model);
  net->eval();
  nets.emplace(variant, net);
  return net;
}

torch::Tensor upsample(const torch::Tensor& x, int64_t height, int64_t width) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{height, width})
                               .mode(torch::kBilinear)
                               .align_corners(true));
}

// Score-map NMS (radius 2): local maxima, then twice more the maxima among what the
// kept ones do not suppress.
torch::Tensor simpleNms(const torch::Tensor& scores, int radius) {
  auto pool = [radius](const torch::Tensor& x) {
    return F::max_pool2d(x, F::MaxPool2dFuncOptions(2 * radius + 1).stride(1).padding(radius));
  };
  const torch::Tensor zeros = torch::zeros_like(scores);
  torch::Tensor maxMask = scores == pool(scores);
  for (int i = 0; i < 2; ++i) {
    const torch::Tensor suppressed = pool(maxMask.to(torch::kFloat32)) > 0;
    const torch::Tensor rest = torch::where(suppressed, zeros, scores);
    const torch::Tensor newMax = rest == pool(rest);
    maxMask = maxMask.logical_or(newMax.logical_and(suppressed.logical_not()));
  }
  return torch::where(maxMask, scores, zeros);
}

parallax::ExtractedFeatures extract(const parallax::RgbImage& image, const json& values) {
  const auto stage = parallax::params::Features::from(values);
  const auto own = parallax::params::AlikeFeatures::from(values);
  const std::string& variant = own.alike_model;
  ALNet net = network(variant);
  tp::setThreads(stage.num_threads);
  const int maxKeypoints = stage.max_num_features;
  const float threshold = float(own.alike_score_threshold);
  constexpr int kRadius = 2;
  constexpr float kTemperature = 0.1f;
  c10::InferenceMode inference;

  // The coarsest level is 1/32. Upstream pads with zeros to a multiple of 32; but its
  // levels are upsampled with aligned corners over the padded size, which shifts the
  // coarse features against the content by up to half a coarse cell when there is
  // padding (on the 320x240 sample, padded 240 -> 256: AUC@5 0.07, resized: 0.20, before
  // flat keypoints were dropped). The photo is resized to the nearest multiple of 32
  // instead, and keypoints scaled back.
  const int64_t h0 = image.height, w0 = image.width;
  const int64_t h = std::max<int64_t>(32, (h0 + 16) / 32 * 32), w = std::max<int64_t>(32, (w0 + 16) / 32 * 32);
  torch::Tensor x = tp::rgbTensor(image);
  if (h != h0 || w != w0)
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{h, w})
                              .mode(torch::kBilinear)
                              .align_corners(false));
  const float rx = float(w0) / float(w), ry = float(h0) / float(h);
  const Config& c = net->cfg;
  torch::Tensor x1 = net->block1(x);
  torch::Tensor x2 = net->block2(F::max_pool2d(x1, F::MaxPool2dFuncOptions(2).stride(2)));
  torch::Tensor x3 = net->block3(F::max_pool2d(x2, F::MaxPool2dFuncOptions(4).stride(4)));
  torch::Tensor x4 = net->block4(F::max_pool2d(x3, F::MaxPool2dFuncOptions(4).stride(4)));
  std::vector<torch::Tensor> levels = {torch::relu(net->conv1(x1)), torch::relu(net->conv2(x2)),
                                       torch::relu(net->conv3(x3)), torch::relu(net->conv4(x4))};
  x1.reset(), x2.reset(), x3.reset(), x4.reset();
  const torch::Tensor head = net->convhead2->weight.reshape({c.dim + 1, c.dim});
  const int64_t q = c.dim / 4;

  torch::Tensor scoreLogit, descriptorMap;  // descriptorMap: dense path only (variant l)
  if (c.single_head) {
    // Score = sigmoid(w . concat(levels upsampled)) = sigmoid(sum of upsampled w_l . level_l).
    const torch::Tensor ws = head[c.dim];
    for (int l = 0; l < 4; ++l) {
      torch::Tensor s = F::conv2d(levels[size_t(l)], ws.slice(0, l * q, (l + 1) * q).reshape({1, q, 1, 1}));
      if (l > 0) s = upsample(s, h, w);
      scoreLogit = l == 0 ? s : scoreLogit + s;
    }
  } else {
    std::vector<torch::Tensor> up = {levels[0]};
    for (int l = 1; l < 4; ++l) up.push_back(upsample(levels[size_t(l)], h, w));
    torch::Tensor features = torch::relu(net->convhead1(torch::cat(up, 1)));
    torch::Tensor out = net->convhead2(features);
    scoreLogit = out.slice(1, c.dim, c.dim + 1);
    descriptorMap = F::normalize(out.slice(1, 0, c.dim), F::NormalizeFuncOptions().dim(1));
  }
  const torch::Tensor scores =
      torch::sigmoid(scoreLogit).contiguous();  // (1,1,h,w)

  // Detection: NMS, borders removed, above the threshold (or above the mean when nothing
  // is), strongest max_num_features.
  torch::Tensor nms = simpleNms(scores, kRadius);
  nms.slice(2, 0, kRadius + 1).zero_();
  nms.slice(3, 0, kRadius + 1).zero_();
  nms.slice(2, std::max<int64_t>(0, h - kRadius), h).zero_();
  nms.slice(3, std::max<int64_t>(0, w - kRadius), w).zero_();
  torch::Tensor flat = nms.reshape({-1});
  torch::Tensor candidates = torch::nonzero(flat > threshold).reshape({-1});
  if (candidates.numel() == 0)
    candidates = torch::nonzero(flat > scores.mean()).reshape({-1});
  if (candidates.numel() > maxKeypoints) {
    const torch::Tensor order =
        std::get<1>(flat.index_select(0, candidates).sort(0, /*descending=*/true));
    candidates = candidates.index_select(0, order.slice(0, 0, maxKeypoints));
  }
  const int64_t n = candidates.numel();
  parallax::ExtractedFeatures out;
  if (n == 0) return out;

  // Soft-argmax in the 5x5 window (temperature 0.1): the sub-pixel position.
  const auto sa = scores.accessor<float, 4>();
  const auto ca = candidates.accessor<int64_t, 1>();
  std::vector<float> kx(static_cast<size_t>(n)), ky(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t cx = ca[i] % w, cy = ca[i] / w;
    float maxV = 0.f;
    for (int dy = -kRadius; dy <= kRadius; ++dy)
      for (int dx = -kRadius; dx <= kRadius; ++dx) {
        const int64_t yy = cy + dy, xx = cx + dx;
        if (yy >= 0 && yy < h && xx >= 0 && xx < w) maxV = std::max(maxV, sa[0][0][yy][xx]);
      }
    double sum = 0, sx = 0, sy = 0;
    for (int dy = -kRadius; dy <= kRadius; ++dy)
      for (int dx = -kRadius; dx <= kRadius; ++dx) {
        const int64_t yy = cy + dy, xx = cx + dx;
        const float v = (yy >= 0 && yy < h && xx >= 0 && xx < w) ? sa[0][0][yy][xx] : 0.f;
        const double e = std::exp(double(v - maxV) / kTemperature);
        sum += e, sx += e * dx, sy += e * dy;
      }
    kx[size_t(i)] = float(cx + sx / sum);
    ky[size_t(i)] = float(cy + sy / sum);
  }
  // Scores at the refined positions (bilinear), for ranking.
  torch::Tensor kpt = torch::stack({torch::from_blob(kx.data(), {n}, torch::kFloat32),
                                    torch::from_blob(ky.data(), {n}, torch::kFloat32)},
                                   1);  // (n, 2) pixels
  auto grid = [](const torch::Tensor& px, int64_t width, int64_t height) {
    // align_corners=True normalisation: pixel 0 -> -1, pixel size-1 -> +1.
    return torch::stack({px.select(1, 0) * (2.0 / double(width - 1)) - 1.0,
                         px.select(1, 1) * (2.0 / double(height - 1)) - 1.0},
                        1)
        .reshape({1, 1, -1, 2});
  };
  auto sample = [](const torch::Tensor& map, const torch::Tensor& g) {
    return F::grid_sample(map, g,
                          F::GridSampleFuncOptions().mode(torch::kBilinear).align_corners(true))
        .reshape({map.size(1), -1})
        .t();  // (n, C)
  };
  const torch::Tensor kptScore = sample(scores, grid(kpt, w, h)).reshape({-1});

  // Descriptors: the unit descriptor map sampled bilinearly at each keypoint, normalised.
  torch::Tensor desc;
  if (c.single_head) {
    // The dense map at the 4 pixels around each keypoint, from the levels (upsampled with
    // aligned corners = bilinear sampling at the same normalised position), then the head.
    const torch::Tensor x0 = kpt.select(1, 0).floor().clamp(0, double(w - 1));
    const torch::Tensor y0 = kpt.select(1, 1).floor().clamp(0, double(h - 1));
    const torch::Tensor x1n = (x0 + 1).clamp_max(double(w - 1)), y1n = (y0 + 1).clamp_max(double(h - 1));
    const torch::Tensor fx = (kpt.select(1, 0) - x0).clamp(0, 1), fy = (kpt.select(1, 1) - y0).clamp(0, 1);
    const torch::Tensor corners =
        torch::cat({torch::stack({x0, y0}, 1), torch::stack({x1n, y0}, 1),
                    torch::stack({x0, y1n}, 1), torch::stack({x1n, y1n}, 1)},
                   0);  // (4n, 2)
    const torch::Tensor g = grid(corners, w, h);
    std::vector<torch::Tensor> parts;
    for (const auto& level : levels) parts.push_back(sample(level, g));
    torch::Tensor d = torch::matmul(torch::cat(parts, 1), head.slice(0, 0, c.dim).t());  // (4n, dim)
    d = F::normalize(d, F::NormalizeFuncOptions().dim(1)).reshape({4, n, c.dim});
    const torch::Tensor wx = fx.unsqueeze(1), wy = fy.unsqueeze(1);
    desc = d[0] * (1 - wx) * (1 - wy) + d[1] * wx * (1 - wy) + d[2] * (1 - wx) * wy + d[3] * wx * wy;
  } else {
    desc = sample(descriptorMap, grid(kpt, w, h));
  }
  desc = F::normalize(desc, F::NormalizeFuncOptions().dim(1)).contiguous();

  // Strongest first.
  const torch::Tensor order = std::get<1>(kptScore.sort(0, /*descending=*/true));
  desc = desc.index_select(0, order).contiguous();
  const auto oa = order.accessor<int64_t, 1>();
  const auto ks = kptScore.accessor<float, 1>();
  out.keypoints.resize(size_t(n));
  out.scores.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t j = oa[i];
    // ALIKE's positions are pixel indices (centre of the first pixel at 0); COLMAP's +0.5,
    // then scaled back to the photo's size.
    auto& k = out.keypoints[size_t(i)];
    k.x = (kx[size_t(j)] + 0.5f) * rx;
    k.y = (ky[size_t(j)] + 0.5f) * ry;
    k.a11 = rx, k.a22 = ry;
    out.scores[size_t(i)] = ks[j];
  }
  out.descriptors.rows = int(n);
  out.descriptors.cols = c.dim;
  out.descriptors.values.assign(desc.data_ptr<float>(), desc.data_ptr<float>() + n * c.dim);
  return out;
}

}  // namespace

PARALLAX_PLUGIN_EXPORT int parallax_plugin_abi() { return parallax::kPluginAbi; }

PARALLAX_PLUGIN_EXPORT void parallax_plugin_register(parallax::PluginRegistrar& registrar) {
  registrar.setName("features_alike", "1.0");
  for (const char* v : {"t", "s", "n", "l"}) registrar.declareModel(modelFile(v));
  registrar.declareMethods(parallax::params::kAlikeDeclaration, parallax::params::alikeStructDefaults());
  auto variant = [](const json& p) { return parallax::params::AlikeFeatures::from(p).alike_model; };
  parallax::FeatureExtractor extractor;
  extractor.extract = extract;
  extractor.type = [variant](const json& p) { return "alike-" + variant(p); };
  extractor.matchRatio = [](const json& matching) {
    return parallax::params::AlikeMatching::from(matching).alike_max_ratio;
  };
  registrar.addMethod("features", "alike", extractor, [variant](const json& p) { network(variant(p)); });
}
