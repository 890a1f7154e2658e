// features.xfeat: XFeat keypoints and descriptors in its sparse mode (Potje et al.,
// "XFeat: Accelerated Features for Lightweight Image Matching", CVPR 2024), written
// with torch::nn so the parameter names are the keys of xfeat/xfeat_backbone.pt
// (Apache-2.0; batch norm already folded into the convolutions).
//
// Network: the grey image (mean of RGB) instance-normalised; a strided CNN to 1/8
// resolution with a 4x4-average-pooled skip of the input at 1/4; features of 1/8, 1/16
// and 1/32 resolution summed at 1/8 (bilinear) and fused into 64-d descriptors; a
// reliability map from them, and keypoint logits from the 8x8 pixel cells of the input
// (65 classes: each pixel of the cell, or none). Sparse mode: the cells' softmax as a
// full-resolution heatmap, 5x5 NMS above a threshold, ranked by heatmap x reliability,
// descriptors sampled bicubically and normalised.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "../common/torch_weights.h"
#include "features/feature_extractor.h"
#include "params/stages.h"
#include "params/xfeat.h"
#include "plugin/plugin_api.h"

using nlohmann::json;
namespace F = torch::nn::functional;
namespace tp = parallax::torch_plugin;

namespace {

const parallax::ModelFile kWeights{
    "xfeat/xfeat_backbone.pt", "XFeat backbone weights",
    "https://github.com/mikexyl/xfeat-cpp (onnx_model/xfeat_320x224.onnx, Apache-2.0; weights "
    "extracted from the ONNX graph as ../shared/models/README.md describes)"};

// Convolution (batch norm folded in, so with bias) and ReLU: upstream's BasicLayer,
// whose Sequential puts the convolution at index 0 of `layer`.
struct BasicLayerImpl : torch::nn::Module {
  torch::nn::Sequential layer;
  BasicLayerImpl(int in, int out, int kernel = 3, int stride = 1)
      : layer(torch::nn::Conv2d(
                  torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2)),
              torch::nn::ReLU()) {
    register_module("layer", layer);
  }
  torch::Tensor forward(const torch::Tensor& x) { return layer->forward(x); }
};
TORCH_MODULE(BasicLayer);

torch::nn::Conv2d conv1x1(int in, int out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1));
}

struct XFeatNetImpl : torch::nn::Module {
  torch::nn::Sequential skip1{torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(4).stride(4)),
                              conv1x1(1, 24)};
  torch::nn::Sequential block1{BasicLayer(1, 4), BasicLayer(4, 8, 3, 2), BasicLayer(8, 8),
                               BasicLayer(8, 24, 3, 2)};
  torch::nn::Sequential block2{BasicLayer(24, 24), BasicLayer(24, 24)};
  torch::nn::Sequential block3{BasicLayer(24, 64, 3, 2), BasicLayer(64, 64), BasicLayer(64, 64, 1)};
  torch::nn::Sequential block4{BasicLayer(64, 64, 3, 2), BasicLayer(64, 64), BasicLayer(64, 64)};
  torch::nn::Sequential block5{BasicLayer(64, 128, 3, 2), BasicLayer(128, 128),
                               BasicLayer(128, 128), BasicLayer(128, 64, 1)};
  torch::nn::Sequential block_fusion{BasicLayer(64, 64), BasicLayer(64, 64), conv1x1(64, 64)};
  torch::nn::Sequential heatmap_head{BasicLayer(64, 64, 1), BasicLayer(64, 64, 1), conv1x1(64, 1),
                                     torch::nn::Sigmoid()};
  torch::nn::Sequential keypoint_head{BasicLayer(64, 64, 1), BasicLayer(64, 64, 1),
                                      BasicLayer(64, 64, 1), conv1x1(64, 65)};
  XFeatNetImpl() {
    register_module("skip1", skip1);
    register_module("block1", block1);
    register_module("block2", block2);
    register_module("block3", block3);
    register_module("block4", block4);
    register_module("block5", block5);
    register_module("block_fusion", block_fusion);
    register_module("heatmap_head", heatmap_head);
    register_module("keypoint_head", keypoint_head);
  }
};
TORCH_MODULE(XFeatNet);

std::mutex netMutex;
XFeatNet cachedNet{nullptr};

XFeatNet network() {
  std::lock_guard<std::mutex> lock(netMutex);
  if (cachedNet) return cachedNet;
  XFeatNet net;
  tp::assignWeights(*net, tp::loadStateDict(kWeights), kWeights);
  net->eval();
  cachedNet = net;
  return net;
}

parallax::ExtractedFeatures extract(const parallax::RgbImage& image, const json& values) {
  const auto stage = parallax::params::Features::from(values);
  const auto own = parallax::params::XfeatFeatures::from(values);
  XFeatNet net = network();
  tp::setThreads(stage.num_threads);
  const int64_t topK = stage.max_num_features;
  const float threshold = float(own.xfeat_detection_threshold);
  c10::InferenceMode inference;

  // Resized (bilinear) to multiples of 32, as upstream: no padding artefacts. Descriptors
  // come from a grid 8x coarser than the photo, so a small photo (a 640x480 object shot)
  // is first enlarged until its long side is xfeat_min_size, as SIFT doubles its input
  // for its finest octave: on warped 640 px photos MMA@3 0.78 -> 0.86 at 1.5x.
  const int64_t h = image.height, w = image.width;
  const double minSize = double(own.xfeat_min_size);
  const double up = std::max(1.0, minSize / double(std::max(h, w)));
  const int64_t H = std::max<int64_t>(32, std::llround(h * up) / 32 * 32),
                W = std::max<int64_t>(32, std::llround(w * up) / 32 * 32);
  torch::Tensor x = tp::rgbTensor(image).mean(1, /*keepdim=*/true);
  if (H != h || W != w)
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{H, W})
                              .mode(torch::kBilinear)
                              .align_corners(false));
  x = F::instance_norm(x, F::InstanceNormFuncOptions().eps(1e-5));

  const torch::Tensor x1 = net->block1->forward(x);
  const torch::Tensor x2 = net->block2->forward(x1 + net->skip1->forward(x));
  const torch::Tensor x3 = net->block3->forward(x2);
  const torch::Tensor x4 = net->block4->forward(x3);
  const torch::Tensor x5 = net->block5->forward(x4);
  auto to3 = [&](const torch::Tensor& t) {
    return F::interpolate(t, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{x3.size(2), x3.size(3)})
                                 .mode(torch::kBilinear)
                                 .align_corners(false));
  };
  const torch::Tensor fused = net->block_fusion->forward(x3 + to3(x4) + to3(x5));
  const torch::Tensor reliability = net->heatmap_head->forward(fused);  // (1,1,H/8,W/8)
  const torch::Tensor feats = F::normalize(fused, F::NormalizeFuncOptions().dim(1));
  // Keypoint heatmap: the head classifies each 8x8 cell's pixels (65-way softmax: a pixel
  // of the cell, or none). Its peaks lean towards places fixed by the cell grid, which does
  // not move with the scene: under a change of viewpoint the same corner is found 1-3 px
  // off (MMA@1 0.96 for a pure change of light, 0.47 with perspective). The head is cheap
  // (1x1 convolutions on the raw cells), so it is also run with the grid shifted by half a
  // cell in x, y and both, and the four heatmaps, aligned, are averaged.
  const int shifts = own.xfeat_grid_shifts;
  auto cellHeatmap = [&](const torch::Tensor& image) {
    const torch::Tensor logits = net->keypoint_head->forward(torch::pixel_unshuffle(image, 8));
    return torch::pixel_shuffle(torch::softmax(logits, 1).slice(1, 0, 64), 8);
  };
  torch::Tensor heatmap = cellHeatmap(x);
  if (shifts > 1) {
    torch::Tensor sum = heatmap.clone(), count = torch::ones_like(heatmap);
    // 4 shifts: the grid moved by half a cell; 16: by quarter cells.
    const int64_t step = shifts >= 16 ? 2 : 4;
    std::vector<std::pair<int64_t, int64_t>> offsets;
    for (int64_t oy = 0; oy < 8; oy += step)
      for (int64_t ox = 0; ox < 8; ox += step)
        if (ox || oy) offsets.emplace_back(ox, oy);
    for (const auto& [dx, dy] : offsets) {
      // Content at (y, x) sits at (y - dy, x - dx) of the shifted image, padded back to
      // whole cells; its heatmap is moved back the same way.
      torch::Tensor shifted = F::pad(x.slice(2, dy).slice(3, dx),
                                     F::PadFuncOptions({0, dx, 0, dy}).mode(torch::kReplicate));
      torch::Tensor h = cellHeatmap(shifted).slice(2, 0, H - dy).slice(3, 0, W - dx);
      sum.slice(2, dy).slice(3, dx).add_(h);
      count.slice(2, dy).slice(3, dx).add_(1.0);
    }
    heatmap = sum / count;
  }
  heatmap = heatmap.contiguous();  // (1,1,H,W)

  // 5x5 NMS above the threshold.
  const torch::Tensor localMax =
      F::max_pool2d(heatmap, F::MaxPool2dFuncOptions(5).stride(1).padding(2));
  const torch::Tensor positions =
      torch::nonzero(((heatmap == localMax) & (heatmap > threshold)).reshape({H, W}));  // (n,[y,x])
  parallax::ExtractedFeatures out;
  const int64_t n = positions.size(0);
  if (n == 0) return out;
  const torch::Tensor xy = positions.flip({1}).to(torch::kFloat32);  // (n, [x, y])
  // Upstream's sampling grid: pixel / (size - 1) on a grid read with align_corners=False.
  const torch::Tensor grid =
      torch::stack({xy.select(1, 0) * (2.0 / double(W - 1)) - 1.0,
                    xy.select(1, 1) * (2.0 / double(H - 1)) - 1.0},
                   1)
          .reshape({1, 1, -1, 2});
  // aten's grid_sampler modes: 0 bilinear, 1 nearest, 2 bicubic; padding 0: zeros.
  enum { kBilinear = 0, kNearest = 1, kBicubic = 2 };
  auto sample = [&](const torch::Tensor& map, int mode) {
    return torch::grid_sampler(map, grid, mode, 0, /*align_corners=*/false)
        .reshape({map.size(1), -1})
        .t();  // (n, C)
  };
  const torch::Tensor score =
      (sample(heatmap, kNearest) * sample(reliability, kBilinear)).reshape({-1});
  torch::Tensor order = std::get<1>(score.sort(0, /*descending=*/true));
  if (order.numel() > topK) order = order.slice(0, 0, topK);
  const torch::Tensor keptScore = score.index_select(0, order);
  order = order.index_select(0, torch::nonzero(keptScore > 0).reshape({-1}));
  const int64_t m = order.numel();
  if (m == 0) return out;
  // Descriptors only at the kept keypoints (bicubic), unit length.
  const torch::Tensor keptXy = xy.index_select(0, order);
  const torch::Tensor keptGrid = grid.index_select(2, order);
  torch::Tensor desc = torch::grid_sampler(feats, keptGrid, kBicubic, 0, /*align_corners=*/false)
                           .reshape({feats.size(1), -1})
                           .t();
  desc = F::normalize(desc, F::NormalizeFuncOptions().dim(1)).contiguous();

  // Back to the photo's pixels: the centre of resized pixel (x, y) is at ((x + 0.5) W/w', ...)
  // in COLMAP's convention.
  const float rx = float(w) / float(W), ry = float(h) / float(H);
  const auto xa = keptXy.accessor<float, 2>();
  // Sub-pixel position: the centroid of the heatmap's 3x3 neighbourhood of the peak
  // (upstream's sparse mode stops at whole pixels).
  const auto hm = heatmap.accessor<float, 4>();

  const torch::Tensor s = score.index_select(0, order).contiguous();
  const auto sa = s.accessor<float, 1>();
  out.keypoints.resize(size_t(m));
  out.scores.resize(size_t(m));
  for (int64_t i = 0; i < m; ++i) {
    auto& k = out.keypoints[size_t(i)];
    const int64_t px = int64_t(xa[i][0]), py = int64_t(xa[i][1]);
    float dx = 0.f, dy = 0.f;
    {
      double sw = 0, sx = 0, sy = 0;
      for (int oy = -1; oy <= 1; ++oy)
        for (int ox = -1; ox <= 1; ++ox) {
          const int64_t yy = py + oy, xx = px + ox;
          if (yy < 0 || xx < 0 || yy >= H || xx >= W) continue;
          const double v = hm[0][0][yy][xx];
          sw += v, sx += v * ox, sy += v * oy;
        }
      if (sw > 0) dx = float(sx / sw), dy = float(sy / sw);
    }
    k.x = (float(px) + dx + 0.5f) * rx;
    k.y = (float(py) + dy + 0.5f) * ry;
    k.a11 = rx, k.a22 = ry;
    out.scores[size_t(i)] = sa[i];
  }
  out.descriptors.rows = int(m);
  out.descriptors.cols = int(desc.size(1));
  out.descriptors.values.assign(desc.data_ptr<float>(), desc.data_ptr<float>() + m * desc.size(1));
  return out;
}

}  // namespace

PARALLAX_PLUGIN_EXPORT int parallax_plugin_abi() { return parallax::kPluginAbi; }

PARALLAX_PLUGIN_EXPORT void parallax_plugin_register(parallax::PluginRegistrar& registrar) {
  registrar.setName("features_xfeat", "1.0");
  registrar.declareModel(kWeights);
  registrar.declareMethods(parallax::params::kXfeatDeclaration, parallax::params::xfeatStructDefaults());
  parallax::FeatureExtractor extractor;
  extractor.extract = extract;
  extractor.type = [](const json&) { return std::string("xfeat"); };
  extractor.matchRatio = [](const json& matching) {
    return parallax::params::XfeatMatching::from(matching).xfeat_max_ratio;
  };
  registrar.addMethod("features", "xfeat", extractor, [](const json&) { network(); });
}
