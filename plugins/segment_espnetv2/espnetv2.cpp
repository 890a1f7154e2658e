// segment.image2d: ESPNetv2 (Mehta et al., "ESPNetv2: A Light-weight, Power Efficient,
// and General Purpose Convolutional Neural Network") for semantic segmentation, scale
// s = 2.0, with the Cityscapes or Pascal VOC weights of sacmehta/EdgeNets, written with
// torch::nn so that parameter names match the keys. The encoder is EESPNet's levels 1-4
// (EESP blocks: reduce, split into dilated depth-wise branches fused hierarchically,
// merge; down-sampling by average pooling beside a strided EESP, reinforced by the input
// image); the decoder climbs back with efficient pyramid pooling and
// attention-weighted skip projections.
#include <torch/torch.h>

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>

#include "../common/torch_weights.h"
#include "params/espnetv2.h"
#include "plugin/plugin_api.h"
#include "segment/image_segmenter.h"

namespace tp = parallax::torch_plugin;
namespace nn = torch::nn;
namespace F = torch::nn::functional;
using nlohmann::json;

namespace {

nn::Conv2d conv(int in, int out, int k, int stride = 1, int groups = 1, int dilation = 1, bool bias = false) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k)
                        .stride(stride)
                        .padding((k - 1) / 2 * dilation)
                        .dilation(dilation)
                        .groups(groups)
                        .bias(bias));
}
nn::PReLU prelu(int n) { return nn::PReLU(nn::PReLUOptions().num_parameters(n)); }

// espnet_utils' blocks: named members conv / bn / act.
struct CbrImpl : nn::Module {
  nn::Conv2d conv{nullptr};
  nn::BatchNorm2d bn{nullptr};
  nn::PReLU act{nullptr};
  CbrImpl(int in, int out, int k, int stride = 1, int groups = 1) {
    conv = register_module("conv", ::conv(in, out, k, stride, groups));
    bn = register_module("bn", nn::BatchNorm2d(out));
    act = register_module("act", prelu(out));
  }
  torch::Tensor forward(const torch::Tensor& x) { return act(bn(conv(x))); }
};
TORCH_MODULE(Cbr);

struct CbImpl : nn::Module {
  nn::Conv2d conv{nullptr};
  nn::BatchNorm2d bn{nullptr};
  CbImpl(int in, int out, int k, int stride = 1, int groups = 1) {
    conv = register_module("conv", ::conv(in, out, k, stride, groups));
    bn = register_module("bn", nn::BatchNorm2d(out));
  }
  torch::Tensor forward(const torch::Tensor& x) { return bn(conv(x)); }
};
TORCH_MODULE(Cb);

struct BrImpl : nn::Module {
  nn::BatchNorm2d bn{nullptr};
  nn::PReLU act{nullptr};
  explicit BrImpl(int n) {
    bn = register_module("bn", nn::BatchNorm2d(n));
    act = register_module("act", prelu(n));
  }
  torch::Tensor forward(const torch::Tensor& x) { return act(bn(x)); }
};
TORCH_MODULE(Br);

// A dilated convolution wrapped as upstream's CDilated (member conv).
struct CDilatedImpl : nn::Module {
  nn::Conv2d conv{nullptr};
  CDilatedImpl(int n, int stride, int dilation) { conv = register_module("conv", ::conv(n, n, 3, stride, n, dilation)); }
  torch::Tensor forward(const torch::Tensor& x) { return conv(x); }
};
TORCH_MODULE(CDilated);

// EESP: reduce (grouped 1x1), split into k depth-wise branches of growing dilation,
// add each to the previous (hierarchical fusion), merge (BN, PReLU, grouped 1x1).
struct EespImpl : nn::Module {
  Cbr proj_1x1{nullptr};
  nn::ModuleList spp_dw;
  Cb conv_1x1_exp{nullptr};
  Br br_after_cat{nullptr};
  nn::PReLU module_act{nullptr};
  int stride;
  bool downAvg;
  EespImpl(int nIn, int nOut, int stride_, int k, int rLim, bool avg) : stride(stride_), downAvg(avg) {
    const int n = nOut / k;
    proj_1x1 = register_module("proj_1x1", Cbr(nIn, n, 1, 1, k));
    std::vector<int> sizes;
    for (int i = 0; i < k; ++i) sizes.push_back(3 + 2 * i <= rLim ? 3 + 2 * i : 3);
    std::sort(sizes.begin(), sizes.end());
    spp_dw = register_module("spp_dw", nn::ModuleList());
    for (int s : sizes) spp_dw->push_back(CDilated(n, stride, (s - 1) / 2));
    conv_1x1_exp = register_module("conv_1x1_exp", Cb(nOut, nOut, 1, 1, k));
    br_after_cat = register_module("br_after_cat", Br(nOut));
    module_act = register_module("module_act", prelu(nOut));
  }
  torch::Tensor forward(const torch::Tensor& input) {
    const torch::Tensor reduced = proj_1x1(input);
    std::vector<torch::Tensor> out;
    for (size_t i = 0; i < spp_dw->size(); ++i) {
      torch::Tensor o = spp_dw[i]->as<CDilatedImpl>()->forward(reduced);
      if (i > 0) o = o + out.back();
      out.push_back(o);
    }
    torch::Tensor expanded = conv_1x1_exp(br_after_cat(torch::cat(out, 1)));
    if (stride == 2 && downAvg) return expanded;
    if (expanded.sizes() == input.sizes()) expanded = expanded + input;
    return module_act(expanded);
  }
};
TORCH_MODULE(Eesp);

// Down-sampling: average pooling beside a strided EESP, plus the input image brought to
// the same size (input reinforcement).
struct DownSamplerImpl : nn::Module {
  Eesp eesp{nullptr};
  nn::Sequential inp_reinf{nullptr};
  nn::PReLU act{nullptr};
  DownSamplerImpl(int nin, int nout, int k, int rLim) {
    eesp = register_module("eesp", Eesp(nin, nout - nin, 2, k, rLim, true));
    inp_reinf = register_module("inp_reinf", nn::Sequential(Cbr(3, 3, 3, 1), Cb(3, nout, 1, 1)));
    act = register_module("act", prelu(nout));
  }
  static torch::Tensor pool(const torch::Tensor& x) {
    return F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(2).padding(1));
  }
  torch::Tensor forward(const torch::Tensor& input, torch::Tensor image) {
    const torch::Tensor avg = pool(input);
    torch::Tensor output = torch::cat({avg, eesp(input)}, 1);
    do image = pool(image);
    while (image.size(2) != avg.size(2));
    return act(output + inp_reinf->forward(image));
  }
};
TORCH_MODULE(DownSampler);

struct BaseNetImpl : nn::Module {
  Cbr level1{nullptr};
  DownSampler level2_0{nullptr}, level3_0{nullptr}, level4_0{nullptr};
  nn::ModuleList level3, level4;
  BaseNetImpl() {
    const int ch[] = {32, 128, 256, 512};  // s = 2.0
    level1 = register_module("level1", Cbr(3, ch[0], 3, 2));
    level2_0 = register_module("level2_0", DownSampler(ch[0], ch[1], 4, 13));
    level3_0 = register_module("level3_0", DownSampler(ch[1], ch[2], 4, 11));
    level3 = register_module("level3", nn::ModuleList());
    for (int i = 0; i < 3; ++i) level3->push_back(Eesp(ch[2], ch[2], 1, 4, 9, false));
    level4_0 = register_module("level4_0", DownSampler(ch[2], ch[3], 4, 9));
    level4 = register_module("level4", nn::ModuleList());
    for (int i = 0; i < 7; ++i) level4->push_back(Eesp(ch[3], ch[3], 1, 4, 7, false));
  }
};
TORCH_MODULE(BaseNet);

// cnn_utils' blocks: an nn.Sequential named cbr / br.
struct CbrSeqImpl : nn::Module {
  nn::Sequential cbr{nullptr};
  CbrSeqImpl(int in, int out, int k, int groups = 1) {
    cbr = register_module("cbr", nn::Sequential(conv(in, out, k, 1, groups), nn::BatchNorm2d(out), prelu(out)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return cbr->forward(x); }
};
TORCH_MODULE(CbrSeq);

struct BrSeqImpl : nn::Module {
  nn::Sequential br{nullptr};
  explicit BrSeqImpl(int n) { br = register_module("br", nn::Sequential(nn::BatchNorm2d(n), prelu(n))); }
  torch::Tensor forward(const torch::Tensor& x) { return br->forward(x); }
};
TORCH_MODULE(BrSeq);

torch::Tensor resize(const torch::Tensor& x, int64_t h, int64_t w) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{h, w})
                               .mode(torch::kBilinear)
                               .align_corners(true));
}

// The merge of the pyramid: BR, channel shuffle, grouped CBR, 1x1 (indices 0, 2, 3
// upstream; 1 is the parameter-free shuffle).
struct PyrMergeImpl : nn::Module {
  BrSeq br0{nullptr};
  CbrSeq cbr2{nullptr};
  nn::Conv2d conv3{nullptr};
  int groups;
  PyrMergeImpl(int proj, int scales, int out, bool bias) : groups(scales) {
    br0 = register_module("0", BrSeq(proj * scales));
    cbr2 = register_module("2", CbrSeq(proj * scales, proj, 3, proj));
    conv3 = register_module("3", conv(proj, out, 1, 1, 1, 1, bias));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = br0(x);
    const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    x = x.view({b, groups, c / groups, h, w}).transpose(1, 2).contiguous().view({b, c, h, w});
    return conv3(cbr2(x));
  }
};
TORCH_MODULE(PyrMerge);

// Efficient pyramid pooling: project, then one depth-wise 3x3 at each of five scales
// (2, 1.5, 1, 0.5, 0.1 of the map, at least 5 pixels), back to the map's size, merged.
struct PyrPoolImpl : nn::Module {
  CbrSeq projection_layer{nullptr};
  nn::ModuleList stages;
  PyrMerge merge_layer{nullptr};
  BrSeq br{nullptr};
  std::vector<double> scales = {2.0, 1.5, 1.0, 0.5, 0.1};
  PyrPoolImpl(int in, int proj, int out, bool lastBr) {
    projection_layer = register_module("projection_layer", CbrSeq(in, proj, 1));
    stages = register_module("stages", nn::ModuleList());
    for (size_t i = 0; i < scales.size(); ++i) stages->push_back(conv(proj, proj, 3, 1, proj));
    merge_layer = register_module("merge_layer", PyrMerge(proj, int(scales.size()), out, !lastBr));
    if (lastBr) br = register_module("br", BrSeq(out));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = projection_layer(x);
    const int64_t h = x.size(2), w = x.size(3);
    std::vector<torch::Tensor> hs;
    for (size_t i = 0; i < scales.size(); ++i) {
      const int64_t hs_ = std::max<int64_t>(5, int64_t(std::ceil(double(h) * scales[i])));
      const int64_t ws_ = std::max<int64_t>(5, int64_t(std::ceil(double(w) * scales[i])));
      auto* stage = stages[i]->as<nn::Conv2dImpl>();
      torch::Tensor y;
      if (scales[i] < 1.0)
        y = resize(stage->forward(F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({hs_, ws_}))), h, w);
      else if (scales[i] > 1.0)
        y = F::adaptive_avg_pool2d(stage->forward(resize(x, hs_, ws_)), F::AdaptiveAvgPool2dFuncOptions({h, w}));
      else
        y = stage->forward(x);
      hs.push_back(y);
    }
    torch::Tensor out = merge_layer(torch::cat(hs, 1));
    return br ? br(out) : out;
  }
};
TORCH_MODULE(PyrPool);

// A skip projection weighted by a per-channel attention from its global average.
struct PwWeightImpl : nn::Module {
  nn::Conv2d conv1{nullptr};
  PwWeightImpl(int in, int out) { conv1 = register_module("1", conv(in, out, 1)); }
};
TORCH_MODULE(PwWeight);

struct EfficientPwConvImpl : nn::Module {
  PwWeight wt_layer{nullptr};
  CbrSeq expansion_layer{nullptr};
  EfficientPwConvImpl(int in, int out) {
    wt_layer = register_module("wt_layer", PwWeight(in, out));
    expansion_layer = register_module("expansion_layer", CbrSeq(in, out, 3, std::gcd(in, out)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const torch::Tensor w = torch::sigmoid(wt_layer->conv1(F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1))));
    return expansion_layer(x) * w;
  }
};
TORCH_MODULE(EfficientPwConv);

struct EspNetV2Impl : nn::Module {
  BaseNet base_net{nullptr};
  PyrPool bu_dec_l1{nullptr}, bu_dec_l2{nullptr}, bu_dec_l3{nullptr}, bu_dec_l4{nullptr};
  EfficientPwConv merge_enc_dec_l2{nullptr}, merge_enc_dec_l3{nullptr}, merge_enc_dec_l4{nullptr};
  nn::Sequential bu_br_l2{nullptr}, bu_br_l3{nullptr}, bu_br_l4{nullptr};
  explicit EspNetV2Impl(int classes) {
    const int proj = std::min(classes / 2, 16);
    base_net = register_module("base_net", BaseNet());
    bu_dec_l1 = register_module("bu_dec_l1", PyrPool(512, proj, 64, true));
    bu_dec_l2 = register_module("bu_dec_l2", PyrPool(64, proj, 48, true));
    bu_dec_l3 = register_module("bu_dec_l3", PyrPool(48, proj, 32, true));
    bu_dec_l4 = register_module("bu_dec_l4", PyrPool(32, proj, classes, false));
    merge_enc_dec_l2 = register_module("merge_enc_dec_l2", EfficientPwConv(256, 64));
    merge_enc_dec_l3 = register_module("merge_enc_dec_l3", EfficientPwConv(128, 48));
    merge_enc_dec_l4 = register_module("merge_enc_dec_l4", EfficientPwConv(32, 32));
    bu_br_l2 = register_module("bu_br_l2", nn::Sequential(nn::BatchNorm2d(64), prelu(64)));
    bu_br_l3 = register_module("bu_br_l3", nn::Sequential(nn::BatchNorm2d(48), prelu(48)));
    bu_br_l4 = register_module("bu_br_l4", nn::Sequential(nn::BatchNorm2d(32), prelu(32)));
  }
  static torch::Tensor up2(const torch::Tensor& x) { return resize(x, x.size(2) * 2, x.size(3) * 2); }
  // (1, 3, H, W) normalised image, H and W multiples of 16 -> (1, classes, H, W) scores.
  torch::Tensor forward(const torch::Tensor& x) {
    BaseNetImpl& b = *base_net;
    const torch::Tensor l1 = b.level1(x);
    const torch::Tensor l2 = b.level2_0(l1, x);
    torch::Tensor l3 = b.level3_0(l2, x);
    for (auto& m : *b.level3) l3 = m->as<EespImpl>()->forward(l3);
    torch::Tensor l4 = b.level4_0(l3, x);
    for (auto& m : *b.level4) l4 = m->as<EespImpl>()->forward(l4);
    torch::Tensor d = bu_dec_l1(l4);
    d = bu_dec_l2(bu_br_l2->forward(merge_enc_dec_l2(l3) + up2(d)));
    d = bu_dec_l3(bu_br_l3->forward(merge_enc_dec_l3(l2) + up2(d)));
    d = bu_dec_l4(bu_br_l4->forward(merge_enc_dec_l4(l1) + up2(d)));
    return resize(d, x.size(2), x.size(3));
  }
};
TORCH_MODULE(EspNetV2);

struct Variant {
  std::string dataset;  // "cityscapes" or "pascal"
  int classes;
  int width, height;  // the size it was trained at
};
Variant variant(const std::string& d) {
  if (d == "pascal") return {"pascal", 21, 384, 384};
  return {"cityscapes", 20, 1024, 512};
}
Variant variant(const json& p) { return variant(parallax::params::Image2dSegment::from(p).image2d_model); }

parallax::ModelFile modelFile(const Variant& v) {
  return {"espnetv2/espnetv2_s2.0_" + v.dataset + ".pt", "ESPNetv2 (s = 2.0) " + v.dataset + " segmentation weights",
          "https://github.com/sacmehta/EdgeNets (model/segmentation/model_zoo/espnetv2/, MIT; converted as "
          "../shared/models/README.md describes)"};
}

std::mutex netMutex;
std::map<std::string, EspNetV2> nets;

EspNetV2 network(const Variant& v) {
  std::lock_guard<std::mutex> lock(netMutex);
  auto it = nets.find(v.dataset);
  if (it != nets.end()) return it->second;
  const parallax::ModelFile model = modelFile(v);
  EspNetV2 net(v.classes);
  tp::assignWeights(*net, tp::loadStateDict(model), model);
  net->eval();
  nets.emplace(v.dataset, net);
  return net;
}

parallax::LabelTable classTable(const Variant& v) {
  parallax::LabelTable t;
  t.method = "image2d";
  if (v.dataset == "pascal") {
    const char* names[] = {"background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus",
                           "car", "cat", "chair", "cow", "dining table", "dog", "horse",
                           "motorbike", "person", "potted plant", "sheep", "sofa", "train", "tv monitor"};
    for (int i = 0; i < 21; ++i)  // VOC's own palette (bit-interleaved)
      t.classes.push_back({i, names[i],
                           {uint8_t(((i >> 0) & 1) << 7 | ((i >> 3) & 1) << 6), uint8_t(((i >> 1) & 1) << 7 | ((i >> 4) & 1) << 6),
                            uint8_t(((i >> 2) & 1) << 7)}});
    t.classes[0].color = {60, 60, 60};
    return t;
  }
  const std::pair<const char*, parallax::Color3> city[] = {
      {"road", {128, 64, 128}},     {"sidewalk", {244, 35, 232}},    {"building", {70, 70, 70}},
      {"wall", {102, 102, 156}},    {"fence", {190, 153, 153}},      {"pole", {153, 153, 153}},
      {"traffic light", {250, 170, 30}}, {"traffic sign", {220, 220, 0}}, {"vegetation", {107, 142, 35}},
      {"terrain", {152, 251, 152}}, {"sky", {70, 130, 180}},         {"person", {220, 20, 60}},
      {"rider", {255, 0, 0}},       {"car", {0, 0, 142}},            {"truck", {0, 0, 70}},
      {"bus", {0, 60, 100}},        {"train", {0, 80, 100}},         {"motorcycle", {0, 0, 230}},
      {"bicycle", {119, 11, 32}},   {"background", {40, 40, 40}}};
  for (int i = 0; i < 20; ++i) t.classes.push_back({i, city[i].first, city[i].second});
  return t;
}

// Labels and confidences of one photo: the photo resized to the training width (height
// in proportion, multiples of 16), ImageNet-normalised; scores back at the photo's size.
parallax::ImageLabels segmentPhoto(const parallax::RgbImage& image, const json& p) {
  const Variant v = variant(p);
  EspNetV2 net = network(v);
  tp::setThreads(0);
  mallopt(M_MMAP_THRESHOLD, 1 << 30);  // keep the big per-photo buffers (see segment_dgcnn)
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  c10::InferenceMode inference;
  const int64_t size = parallax::params::Image2dSegment::from(p).image2d_size;
  const int64_t side = size > 0 ? size : v.width;
  const double s = double(side) / double(std::max(image.width, image.height));
  const int64_t w = std::max<int64_t>(16, (int64_t(std::lround(image.width * s)) + 8) / 16 * 16);
  const int64_t h = std::max<int64_t>(16, (int64_t(std::lround(image.height * s)) + 8) / 16 * 16);
  torch::Tensor x = F::interpolate(tp::rgbTensor(image), F::InterpolateFuncOptions()
                                                              .size(std::vector<int64_t>{h, w})
                                                              .mode(torch::kBilinear)
                                                              .align_corners(false));
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  const torch::Tensor stdev = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
  x = (x - mean) / stdev;
  const torch::Tensor prob = torch::softmax(net->forward(x), 1);
  const auto [conf, label] = prob.max(1);  // (1, h, w)
  parallax::ImageLabels out;
  out.width = int(w);
  out.height = int(h);
  const torch::Tensor l = label[0].to(torch::kInt32).contiguous(), c = conf[0].contiguous();
  out.labels.assign(l.data_ptr<int32_t>(), l.data_ptr<int32_t>() + w * h);
  out.confidence.assign(c.data_ptr<float>(), c.data_ptr<float>() + w * h);
  return out;
}

}  // namespace

PARALLAX_PLUGIN_EXPORT int parallax_plugin_abi() { return parallax::kPluginAbi; }

PARALLAX_PLUGIN_EXPORT void parallax_plugin_register(parallax::PluginRegistrar& registrar) {
  registrar.setName("segment_espnetv2", "1.0");
  for (const char* d : {"cityscapes", "pascal"}) registrar.declareModel(modelFile(variant(std::string(d))));
  registrar.declareMethods(parallax::params::kEspnetv2Declaration, parallax::params::espnetv2StructDefaults());
  registrar.addMethod("segment", "image2d",
                      parallax::ImageSegmenter{[](const json& p) { return classTable(variant(p)); }, segmentPhoto},
                      [](const json& p) { network(variant(p)); });
}
