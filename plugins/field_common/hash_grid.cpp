#include "hash_grid.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace parallax::fields {

namespace {

// instant-ngp's spatial hash: coordinates times large primes, xor-ed.
constexpr uint32_t kPrimeY = 2654435761u, kPrimeZ = 805459861u;

inline int64_t cornerIndex(const HashGridLayout& L, int level, uint32_t x, uint32_t y,
                           uint32_t z) {
  if (L.dense[size_t(level)]) {
    const uint32_t n = uint32_t(L.resolution[size_t(level)] + 1);
    return int64_t(x + n * (y + n * z));
  }
  return int64_t((x ^ (y * kPrimeY) ^ (z * kPrimeZ)) & uint32_t(L.size[size_t(level)] - 1));
}

// One level's cell and trilinear weights for a point.
struct Cell {
  uint32_t i[3];
  float f[3];
};

inline Cell cellOf(const float* p, int64_t res) {
  Cell c;
  for (int a = 0; a < 3; ++a) {
    const float x = std::min(std::max(p[a], 0.f), 1.f) * float(res);
    const int64_t i = std::min<int64_t>(int64_t(x), res - 1);
    c.i[a] = uint32_t(i);
    c.f[a] = x - float(i);
  }
  return c;
}

template <int F>
void forwardKernel(const float* pos, const float* table, float* out, int64_t n,
                   const HashGridLayout& L) {
  const int levels = L.options.levels;
  // Level by level within a chunk of points: one level's table at a time in the cache
  // (consecutive samples along a ray touch neighbouring entries).
  at::parallel_for(0, n, 1024, [&](int64_t begin, int64_t end) {
    for (int l = 0; l < levels; ++l) {
      for (int64_t k = begin; k < end; ++k) {
        const float* p = pos + 3 * k;
        float* o = out + k * levels * F;
        const Cell c = cellOf(p, L.resolution[size_t(l)]);
        const float* t = table + L.offset[size_t(l)] * F;
        float acc[F] = {};
        for (int corner = 0; corner < 8; ++corner) {
          const int bx = corner & 1, by = (corner >> 1) & 1, bz = corner >> 2;
          const float w = (bx ? c.f[0] : 1.f - c.f[0]) * (by ? c.f[1] : 1.f - c.f[1]) *
                          (bz ? c.f[2] : 1.f - c.f[2]);
          const float* e = t + cornerIndex(L, l, c.i[0] + bx, c.i[1] + by, c.i[2] + bz) * F;
          for (int f = 0; f < F; ++f) acc[f] += w * e[f];
        }
        for (int f = 0; f < F; ++f) o[l * F + f] = acc[f];
      }
    }
  });
}

// Each thread owns whole levels: the scatter into a level's rows has one writer.
template <int F>
void backwardKernel(const float* pos, const float* gradOut, float* gradTable, int64_t n,
                    const HashGridLayout& L) {
  const int levels = L.options.levels;
  at::parallel_for(0, levels, 1, [&](int64_t lb, int64_t le) {
    for (int64_t l = lb; l < le; ++l) {
      float* t = gradTable + L.offset[size_t(l)] * F;
      const int64_t res = L.resolution[size_t(l)];
      for (int64_t k = 0; k < n; ++k) {
        const float* g = gradOut + (k * levels + l) * F;
        bool zero = true;
        for (int f = 0; f < F; ++f) zero = zero && g[f] == 0.f;
        if (zero) continue;
        const Cell c = cellOf(pos + 3 * k, res);
        for (int corner = 0; corner < 8; ++corner) {
          const int bx = corner & 1, by = (corner >> 1) & 1, bz = corner >> 2;
          const float w = (bx ? c.f[0] : 1.f - c.f[0]) * (by ? c.f[1] : 1.f - c.f[1]) *
                          (bz ? c.f[2] : 1.f - c.f[2]);
          float* e = t + cornerIndex(L, int(l), c.i[0] + bx, c.i[1] + by, c.i[2] + bz) * F;
          for (int f = 0; f < F; ++f) e[f] += w * g[f];
        }
      }
    }
  });
}

// Calls kernel(std::integral_constant<int, F>) for the layout's features per level.
template <class Kernel>
void withFeatures(int features, Kernel&& kernel) {
  if (features == 2)
    kernel(std::integral_constant<int, 2>());
  else if (features == 4)
    kernel(std::integral_constant<int, 4>());
  else
    kernel(std::integral_constant<int, 1>());
}

void checkInputs(const torch::Tensor& positions, const torch::Tensor& table,
                 const HashGridLayout& L) {
  TORCH_CHECK(positions.dim() == 2 && positions.size(1) == 3, "hash grid: positions must be (n, 3)");
  TORCH_CHECK(positions.scalar_type() == torch::kFloat32 && table.scalar_type() == torch::kFloat32,
              "hash grid: float32 positions and table");
  TORCH_CHECK(table.dim() == 2 && table.size(0) == L.rows && table.size(1) == L.options.features,
              "hash grid: table must be (", L.rows, ", ", L.options.features, ")");
}

class HashGridFunction : public torch::autograd::Function<HashGridFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor positions,
                               torch::Tensor table, const HashGridLayout* layout) {
    const torch::Tensor pos = positions.contiguous();
    const torch::Tensor tab = table.contiguous();
    const int64_t n = pos.size(0);
    torch::Tensor out = torch::empty({n, layout->outputDim()}, pos.options());
    withFeatures(layout->options.features, [&](auto f) {
      forwardKernel<decltype(f)::value>(pos.data_ptr<float>(), tab.data_ptr<float>(), out.data_ptr<float>(), n,
                                        *layout);
    });
    ctx->save_for_backward({pos});
    ctx->saved_data["layout"] = int64_t(reinterpret_cast<intptr_t>(layout));
    ctx->saved_data["rows"] = table.size(0);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor pos = ctx->get_saved_variables()[0];
    const auto* layout =
        reinterpret_cast<const HashGridLayout*>(intptr_t(ctx->saved_data["layout"].toInt()));
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor gradTable =
        torch::zeros({ctx->saved_data["rows"].toInt(), layout->options.features}, g.options());
    const int64_t n = pos.size(0);
    withFeatures(layout->options.features, [&](auto f) {
      backwardKernel<decltype(f)::value>(pos.data_ptr<float>(), g.data_ptr<float>(), gradTable.data_ptr<float>(),
                                         n, *layout);
    });
    return {torch::Tensor(), gradTable, torch::Tensor()};
  }
};

}  // namespace

HashGridLayout makeHashGridLayout(const HashGridOptions& o) {
  TORCH_CHECK(o.levels >= 1 && o.levels <= 32, "hash grid: 1-32 levels");
  TORCH_CHECK(o.features == 1 || o.features == 2 || o.features == 4, "hash grid: 1, 2 or 4 features per level");
  TORCH_CHECK(o.log2_table >= 8 && o.log2_table <= 24, "hash grid: table of 2^8 to 2^24 entries");
  HashGridLayout L;
  L.options = o;
  const double growth =
      o.levels > 1 ? std::exp((std::log(double(o.max_resolution)) - std::log(double(o.base_resolution))) /
                              double(o.levels - 1))
                   : 1.0;
  const int64_t maxRows = int64_t(1) << o.log2_table;
  for (int l = 0; l < o.levels; ++l) {
    const int64_t res = std::max<int64_t>(1, int64_t(std::floor(o.base_resolution * std::pow(growth, l))));
    const int64_t vertices = (res + 1) * (res + 1) * (res + 1);
    const bool dense = vertices <= maxRows;
    L.resolution.push_back(res);
    L.offset.push_back(L.rows);
    // Dense levels are rounded up to a multiple of 8 rows for alignment.
    const int64_t rows = dense ? (vertices + 7) / 8 * 8 : maxRows;
    L.size.push_back(rows);
    L.dense.push_back(dense ? 1 : 0);
    L.rows += rows;
  }
  return L;
}

torch::Tensor hashGridEncode(const torch::Tensor& positions, const torch::Tensor& table,
                             const HashGridLayout& layout) {
  checkInputs(positions, table, layout);
  return HashGridFunction::apply(positions, table, &layout);
}

torch::Tensor hashGridEncodeReference(const torch::Tensor& positions, const torch::Tensor& table,
                                      const HashGridLayout& L) {
  checkInputs(positions, table, L);
  const torch::Tensor p = positions.clamp(0.0, 1.0);
  std::vector<torch::Tensor> outs;
  for (int l = 0; l < L.options.levels; ++l) {
    const int64_t res = L.resolution[size_t(l)];
    const torch::Tensor x = p * double(res);
    const torch::Tensor i0 = x.floor().clamp_max(double(res - 1)).to(torch::kInt64);
    const torch::Tensor f = x - i0.to(torch::kFloat32);
    torch::Tensor acc;
    for (int corner = 0; corner < 8; ++corner) {
      const int bx = corner & 1, by = (corner >> 1) & 1, bz = corner >> 2;
      const torch::Tensor ix = i0.select(1, 0) + bx, iy = i0.select(1, 1) + by,
                          iz = i0.select(1, 2) + bz;
      torch::Tensor idx;
      if (L.dense[size_t(l)]) {
        idx = ix + (res + 1) * (iy + (res + 1) * iz);
      } else {
        idx = torch::bitwise_and(
            torch::bitwise_xor(torch::bitwise_xor(ix, iy * int64_t(kPrimeY)), iz * int64_t(kPrimeZ)),
            L.size[size_t(l)] - 1);
      }
      const torch::Tensor w = (bx ? f.select(1, 0) : 1 - f.select(1, 0)) *
                              (by ? f.select(1, 1) : 1 - f.select(1, 1)) *
                              (bz ? f.select(1, 2) : 1 - f.select(1, 2));
      const torch::Tensor v = table.index_select(0, idx + L.offset[size_t(l)]) * w.unsqueeze(1);
      acc = corner == 0 ? v : acc + v;
    }
    outs.push_back(acc);
  }
  return torch::cat(outs, 1);
}

HashGridImpl::HashGridImpl(const HashGridOptions& options) : layout(makeHashGridLayout(options)) {
  table = register_parameter(
      "table", torch::empty({layout.rows, options.features}).uniform_(-1e-4, 1e-4));
}

}  // namespace parallax::fields
