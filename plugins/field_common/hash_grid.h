// Multiresolution hash encoding (Müller et al. 2022, instant-ngp) for fields trained on
// the CPU. The encoding's forward and backward are one fused, multithreaded C++ kernel
// each, wrapped as a torch::autograd::Function: forward interpolates the 8 corners of
// every level's cell per point; backward scatters the output gradient into the table,
// one thread per level so no two threads write the same entry (no atomics, no per-thread
// copies of the table to reduce).
// For fields plugins only (includes LibTorch).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace parallax::fields {

struct HashGridOptions {
  int levels = 16;
  int features = 2;         // per level
  int log2_table = 19;      // entries per level at most (hashed beyond that)
  int base_resolution = 16;  // cells per axis at the coarsest level
  int max_resolution = 2048;  // at the finest
};

// Where each level lives in the flat table, and how it is indexed.
struct HashGridLayout {
  HashGridOptions options;
  std::vector<int64_t> resolution;  // cells per axis
  std::vector<int64_t> offset;      // first row of the level in the table
  std::vector<int64_t> size;        // rows of the level
  std::vector<uint8_t> dense;       // 1: (res+1)^3 <= size, indexed without hashing
  int64_t rows = 0;                 // all levels
  int outputDim() const { return options.levels * options.features; }
};

HashGridLayout makeHashGridLayout(const HashGridOptions& options);

// (n, 3) positions in [0, 1]^3 (clamped), table (rows, features) float32 ->
// (n, levels * features), level-major. Differentiable with respect to the table only.
torch::Tensor hashGridEncode(const torch::Tensor& positions, const torch::Tensor& table,
                             const HashGridLayout& layout);

// The same encoding built from tensor operations (index arithmetic, gathers, weighted
// sums; autograd derives the backward). For the benchmark and the kernel's test.
torch::Tensor hashGridEncodeReference(const torch::Tensor& positions, const torch::Tensor& table,
                                      const HashGridLayout& layout);

// A module holding the table, initialised uniformly in [-1e-4, 1e-4] as instant-ngp.
class HashGridImpl : public torch::nn::Module {
 public:
  explicit HashGridImpl(const HashGridOptions& options = {});
  torch::Tensor forward(const torch::Tensor& positions) {
    torch::Tensor out = hashGridEncode(positions, table, layout);
    if (activeLevels < layout.options.levels) {
      // Coarse to fine: the finer levels read as zero (and get no gradient) until enabled.
      const int64_t keep = int64_t(activeLevels) * layout.options.features;
      out = torch::cat({out.slice(1, 0, keep), torch::zeros({out.size(0), out.size(1) - keep}, out.options())}, 1);
    }
    return out;
  }
  int activeLevels = 1 << 30;  // all
  HashGridLayout layout;
  torch::Tensor table;
};
TORCH_MODULE(HashGrid);

}  // namespace parallax::fields
