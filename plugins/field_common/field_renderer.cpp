#include "field_renderer.h"

#include <opencv2/imgcodecs.hpp>

#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax::fields {

BackgroundImpl::BackgroundImpl() {
  layer1 = register_module("layer1", torch::nn::Linear(16, 32));
  layer2 = register_module("layer2", torch::nn::Linear(32, 3));
}

torch::Tensor BackgroundImpl::forward(const torch::Tensor& dirs) {
  return torch::sigmoid(layer2->forward(torch::relu(layer1->forward(sphericalHarmonics4(dirs)))));
}

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

// Colour of a batch of samples' rays over a background: the learned one, or `bg` (R, 3).
Renderer::Rendered Renderer::render(const Samples& all, const Rays& rays, const torch::Tensor& bg, bool training) {
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
std::vector<float> Renderer::renderView(const FieldView& v, const UnitBox& box, const float white[3],
                                         int stride) {
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

std::vector<torch::Tensor> Renderer::state() {
  std::vector<torch::Tensor> t;
  for (const auto& p : model.module().parameters()) t.push_back(p.detach().clone());
  for (const auto& p : background->parameters()) t.push_back(p.detach().clone());
  t.push_back(occ.state());
  return t;
}

void Renderer::save(const fs::path& path) {
  const fs::path tmp = path.string() + ".tmp";
  torch::save(state(), tmp.string());
  fs::rename(tmp, path);
}

void Renderer::load(const fs::path& path) {
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

// The view's photo over a background, RGB (the learned background: the photo as it is),
// at the pixels renderView renders with the same stride.
std::vector<float> reference(const FieldView& v, const float bg[3], int stride) {
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

}  // namespace parallax::fields
