#include "volume.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace parallax::fields {

OccupancyGrid::OccupancyGrid(int resolution)
    : res_(resolution),
      density_(size_t(resolution) * size_t(resolution) * size_t(resolution), 0.f),
      bits_(density_.size(), 1) {}

std::pair<torch::Tensor, std::vector<int64_t>> OccupancyGrid::sampleCells(int64_t count,
                                                                          std::mt19937& rng) const {
  const int64_t total = int64_t(density_.size());
  std::vector<int64_t> cells;
  if (count <= 0 || count >= total) {
    cells.resize(size_t(total));
    std::iota(cells.begin(), cells.end(), 0);
  } else {
    std::uniform_int_distribution<int64_t> pick(0, total - 1);
    cells.resize(size_t(count));
    for (auto& c : cells) c = pick(rng);
  }
  torch::Tensor pos = torch::empty({int64_t(cells.size()), 3});
  float* p = pos.data_ptr<float>();
  std::uniform_real_distribution<float> u(0.f, 1.f);
  const float inv = 1.f / float(res_);
  for (size_t i = 0; i < cells.size(); ++i) {
    const int64_t c = cells[i];
    const int64_t x = c % res_, y = (c / res_) % res_, z = c / (int64_t(res_) * res_);
    p[3 * i] = (float(x) + u(rng)) * inv;
    p[3 * i + 1] = (float(y) + u(rng)) * inv;
    p[3 * i + 2] = (float(z) + u(rng)) * inv;
  }
  return {pos, cells};
}

void OccupancyGrid::update(const std::vector<int64_t>& cells, const torch::Tensor& density,
                           float decay, float threshold) {
  const torch::Tensor d = density.contiguous().to(torch::kFloat32);
  const float* v = d.data_ptr<float>();
  // Decay every cell once, then raise the sampled ones to what was seen now.
  for (auto& x : density_) x *= decay;
  for (size_t i = 0; i < cells.size(); ++i) {
    float& x = density_[size_t(cells[i])];
    x = std::max(x, v[i]);
  }
  applyThreshold(threshold);
}

void OccupancyGrid::applyThreshold(float threshold) {
  // As instant-ngp: never a threshold above the mean density, so that an untrained field
  // (about uniform density) keeps its denser half occupied instead of nothing.
  double mean = 0;
  for (float x : density_) mean += x;
  mean /= double(density_.size());
  const float t = std::min(threshold, float(mean));
  for (size_t i = 0; i < density_.size(); ++i) bits_[i] = density_[i] > t ? 1 : 0;
}

double OccupancyGrid::occupiedFraction() const {
  size_t n = 0;
  for (auto b : bits_) n += b;
  return double(n) / double(bits_.size());
}

torch::Tensor OccupancyGrid::state() const {
  return torch::from_blob(const_cast<float*>(density_.data()), {int64_t(density_.size())}).clone();
}

void OccupancyGrid::setState(const torch::Tensor& densities, float threshold) {
  TORCH_CHECK(densities.numel() == int64_t(density_.size()), "occupancy grid: wrong size in checkpoint");
  const torch::Tensor d = densities.contiguous().to(torch::kFloat32);
  std::copy(d.data_ptr<float>(), d.data_ptr<float>() + d.numel(), density_.begin());
  applyThreshold(threshold);
}

namespace {

// Entry and exit of a ray in the unit cube; false when it misses.
bool intersectUnitCube(const float* o, const float* d, float& t0, float& t1) {
  t0 = 0.f, t1 = std::numeric_limits<float>::max();
  for (int a = 0; a < 3; ++a) {
    if (std::fabs(d[a]) < 1e-12f) {
      if (o[a] < 0.f || o[a] > 1.f) return false;
      continue;
    }
    float ta = (0.f - o[a]) / d[a], tb = (1.f - o[a]) / d[a];
    if (ta > tb) std::swap(ta, tb);
    t0 = std::max(t0, ta), t1 = std::min(t1, tb);
  }
  return t1 > t0;
}

// Entry and exit of a ray in the sphere inscribed in the unit cube.
bool intersectInscribedSphere(const float* o, const float* d, float& t0, float& t1) {
  float oc[3], b = 0, c = -0.25f;
  for (int a = 0; a < 3; ++a) oc[a] = o[a] - 0.5f, b += oc[a] * d[a], c += oc[a] * oc[a];
  const float disc = b * b - c;
  if (disc <= 0) return false;
  const float r = std::sqrt(disc);
  t0 = std::max(0.f, -b - r), t1 = -b + r;
  return t1 > t0;
}

// Visits a ray's sample positions; emit(t, p) for those in occupied cells.
template <class Emit>
int marchOne(const float* o, const float* d, const OccupancyGrid& grid, float dt, int maxSamples,
             float jitter, bool sphere, Emit emit) {
  float t0, t1;
  if (!(sphere ? intersectInscribedSphere(o, d, t0, t1) : intersectUnitCube(o, d, t0, t1))) return 0;
  const int G = grid.resolution();
  int n = 0;
  float t = t0 + jitter * dt;
  while (t < t1 && n < maxSamples) {
    float p[3];
    int64_t c[3];
    for (int a = 0; a < 3; ++a) {
      p[a] = o[a] + t * d[a];
      c[a] = std::min<int64_t>(G - 1, std::max<int64_t>(0, int64_t(p[a] * G)));
    }
    const int64_t cell = c[0] + G * (c[1] + int64_t(G) * c[2]);
    if (grid.occupied(cell)) {
      emit(t, p);
      ++n;
      t += dt;
      continue;
    }
    // Skip to the first step past the cell's exit.
    float exit = std::numeric_limits<float>::max();
    for (int a = 0; a < 3; ++a) {
      if (d[a] > 1e-12f) exit = std::min(exit, (float(c[a] + 1) / G - o[a]) / d[a]);
      else if (d[a] < -1e-12f) exit = std::min(exit, (float(c[a]) / G - o[a]) / d[a]);
    }
    t += std::max(dt, std::ceil((exit - t) / dt) * dt);
  }
  return n;
}

}  // namespace

Samples marchRays(const Rays& rays, const OccupancyGrid& grid, float dt, int maxSamples,
                  std::mt19937* rng, bool sphere) {
  const int64_t R = int64_t(rays.size());
  std::vector<float> jitter(size_t(R), 0.f);
  if (rng) {
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (auto& j : jitter) j = u(*rng);
  }
  Samples s;
  s.count.assign(size_t(R), 0);
  s.start.assign(size_t(R), 0);
  at::parallel_for(0, R, 256, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      s.count[size_t(r)] = marchOne(&rays.origin[size_t(3 * r)], &rays.direction[size_t(3 * r)], grid,
                                    dt, maxSamples, jitter[size_t(r)], sphere, [](float, const float*) {});
  });
  int64_t total = 0;
  for (int64_t r = 0; r < R; ++r) s.start[size_t(r)] = total, total += s.count[size_t(r)];
  s.positions = torch::empty({total, 3});
  s.directions = torch::empty({total, 3});
  s.deltas = torch::full({total}, dt);
  float* P = s.positions.data_ptr<float>();
  float* D = s.directions.data_ptr<float>();
  at::parallel_for(0, R, 256, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t k = s.start[size_t(r)];
      const float* d = &rays.direction[size_t(3 * r)];
      marchOne(&rays.origin[size_t(3 * r)], d, grid, dt, maxSamples, jitter[size_t(r)], sphere,
               [&](float, const float* p) {
                 for (int a = 0; a < 3; ++a) P[3 * k + a] = p[a], D[3 * k + a] = d[a];
                 ++k;
               });
    }
  });
  return s;
}

Samples pruneOccluded(const Samples& in, const torch::Tensor& density, float minTransmittance) {
  const torch::Tensor sigma = density.contiguous();
  const float* sg = sigma.data_ptr<float>();
  const float* dl = in.deltas.data_ptr<float>();
  const size_t R = in.start.size();
  Samples out;
  out.count.assign(R, 0);
  out.start.assign(R, 0);
  std::vector<int64_t> keep;
  keep.reserve(size_t(in.size()));
  int64_t total = 0;
  for (size_t r = 0; r < R; ++r) {
    float logT = 0.f;
    const float stop = std::log(minTransmittance);
    out.start[r] = total;
    for (int64_t i = in.start[r]; i < in.start[r] + in.count[r]; ++i) {
      if (logT < stop) break;
      keep.push_back(i);
      logT -= sg[i] * dl[i];
      ++out.count[r];
    }
    total += out.count[r];
  }
  const torch::Tensor idx = torch::from_blob(keep.data(), {int64_t(keep.size())}, torch::kInt64).clone();
  out.positions = in.positions.index_select(0, idx);
  out.directions = in.directions.index_select(0, idx);
  out.deltas = in.deltas.index_select(0, idx);
  return out;
}

namespace {

class CompositeFunction : public torch::autograd::Function<CompositeFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                torch::Tensor density, torch::Tensor color,
                                                torch::Tensor deltas, torch::Tensor starts,
                                                torch::Tensor counts) {
    const torch::Tensor sigma = density.contiguous(), rgb = color.contiguous(), dl = deltas.contiguous();
    const int64_t R = starts.size(0);
    torch::Tensor out = torch::zeros({R, 3}), opacity = torch::zeros({R});
    const float *sg = sigma.data_ptr<float>(), *c = rgb.data_ptr<float>(), *d = dl.data_ptr<float>();
    const int64_t *st = starts.data_ptr<int64_t>(), *ct = counts.data_ptr<int64_t>();
    float *o = out.data_ptr<float>(), *op = opacity.data_ptr<float>();
    at::parallel_for(0, R, 256, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        float T = 1.f, acc[3] = {0, 0, 0}, A = 0.f;
        for (int64_t i = st[r]; i < st[r] + ct[r]; ++i) {
          const float alpha = 1.f - std::exp(-sg[i] * d[i]);
          const float w = T * alpha;
          for (int a = 0; a < 3; ++a) acc[a] += w * c[3 * i + a];
          A += w;
          T *= 1.f - alpha;
        }
        for (int a = 0; a < 3; ++a) o[3 * r + a] = acc[a];
        op[r] = A;
      }
    });
    ctx->save_for_backward({sigma, rgb, dl, starts, counts, out, opacity});
    return {out, opacity};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &sigma = saved[0], &rgb = saved[1], &dl = saved[2], &starts = saved[3],
                        &counts = saved[4], &out = saved[5], &opacity = saved[6];
    const torch::Tensor gC = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(out);
    const torch::Tensor gA = grads[1].defined() ? grads[1].contiguous() : torch::zeros_like(opacity);
    torch::Tensor gSigma = torch::zeros_like(sigma), gColor = torch::zeros_like(rgb);
    const float *sg = sigma.data_ptr<float>(), *c = rgb.data_ptr<float>(), *d = dl.data_ptr<float>();
    const float *C = out.data_ptr<float>(), *Aall = opacity.data_ptr<float>();
    const float *gc = gC.data_ptr<float>(), *ga = gA.data_ptr<float>();
    const int64_t *st = starts.data_ptr<int64_t>(), *ct = counts.data_ptr<int64_t>();
    float *gs = gSigma.data_ptr<float>(), *gcol = gColor.data_ptr<float>();
    const int64_t R = starts.size(0);
    // dC/dsigma_i = delta_i (T_{i+1} c_i - sum_{k>i} w_k c_k); the same for opacity with c = 1.
    at::parallel_for(0, R, 256, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        float T = 1.f, prefix[3] = {0, 0, 0}, prefixA = 0.f;
        for (int64_t i = st[r]; i < st[r] + ct[r]; ++i) {
          const float alpha = 1.f - std::exp(-sg[i] * d[i]);
          const float w = T * alpha;
          const float Tnext = T * (1.f - alpha);
          float g = 0.f;
          for (int a = 0; a < 3; ++a) {
            prefix[a] += w * c[3 * i + a];
            gcol[3 * i + a] = w * gc[3 * r + a];
            g += gc[3 * r + a] * (Tnext * c[3 * i + a] - (C[3 * r + a] - prefix[a]));
          }
          prefixA += w;
          g += ga[r] * (Tnext - (Aall[r] - prefixA));
          gs[i] = d[i] * g;
          T = Tnext;
        }
      }
    });
    return {gSigma, gColor, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> composite(const torch::Tensor& density,
                                                  const torch::Tensor& color,
                                                  const Samples& samples) {
  const int64_t R = int64_t(samples.start.size());
  const torch::Tensor starts =
      torch::from_blob(const_cast<int64_t*>(samples.start.data()), {R}, torch::kInt64).clone();
  const torch::Tensor counts =
      torch::from_blob(const_cast<int64_t*>(samples.count.data()), {R}, torch::kInt64).clone();
  auto out = CompositeFunction::apply(density, color, samples.deltas, starts, counts);
  return {out[0], out[1]};
}

torch::Tensor sphericalHarmonics4(const torch::Tensor& dirs) {
  const torch::Tensor x = dirs.select(1, 0), y = dirs.select(1, 1), z = dirs.select(1, 2);
  const torch::Tensor xx = x * x, yy = y * y, zz = z * z, xy = x * y, yz = y * z, xz = x * z;
  return torch::stack({torch::full_like(x, 0.28209479177387814), -0.48860251190291987 * y,
                       0.48860251190291987 * z, -0.48860251190291987 * x, 1.0925484305920792 * xy,
                       -1.0925484305920792 * yz, 0.94617469575755997 * zz - 0.31539156525251999,
                       -1.0925484305920792 * xz, 0.54627421529603959 * (xx - yy),
                       0.59004358992664352 * y * (yy - 3.0 * xx),
                       2.8906114426405538 * xy * z, 0.45704579946446572 * y * (1.0 - 5.0 * zz),
                       0.3731763325901154 * z * (5.0 * zz - 3.0),
                       0.45704579946446572 * x * (1.0 - 5.0 * zz), 1.4453057213202769 * z * (xx - yy),
                       0.59004358992664352 * x * (3.0 * yy - xx)},
                      1);
}

}  // namespace parallax::fields
