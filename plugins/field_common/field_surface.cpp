#include "field_surface.h"

#include "mvs/geometry_eval.h"
#include "surface/iso_surface.h"
#include "util/cancel.h"

namespace parallax::fields {

TriangleMesh extractSurface(FieldModel& model, const UnitBox& box, int res, bool largestOnly,
                            const Reconstruction* seenBy, const FieldDataset* masksOf,
                            const std::vector<size_t>& maskViews, Reporter& report) {
  c10::InferenceMode guard;
  ScalarGrid grid;
  grid.resolution = res;
  grid.spacing = 1.0 / (res - 1);
  grid.values.assign(size_t(res) * size_t(res) * size_t(res), 0.f);
  const int64_t total = int64_t(grid.values.size());
  const int64_t chunk = 131072;
  for (int64_t b = 0; b < total; b += chunk) {
    throwIfCancelled();
    const int64_t e = std::min<int64_t>(total, b + chunk);
    torch::Tensor pos = torch::empty({e - b, 3});
    float* p = pos.data_ptr<float>();
    for (int64_t i = b; i < e; ++i) {
      const int64_t k = i;
      p[3 * (i - b)] = float(double(k % res) * grid.spacing);
      p[3 * (i - b) + 1] = float(double((k / res) % res) * grid.spacing);
      p[3 * (i - b) + 2] = float(double(k / (int64_t(res) * res)) * grid.spacing);
    }
    const torch::Tensor v = model.surfaceValue(pos).contiguous();
    std::copy(v.data_ptr<float>(), v.data_ptr<float>() + (e - b), grid.values.begin() + b);
    report.progress(size_t(e), size_t(total), "sampling the field for its surface");
  }
  if (masksOf) {
    report.progress(0, 1, "cutting away what the masks show as background");
    const float level = model.surfaceLevel();
    const float margin = model.insideAbove() ? 0.5f * std::abs(level) : float(0.5 * grid.spacing);
    // A field in a sphere holds the object inside it: the surface closes just outside the
    // nine tenths the visual-hull term kept it in during training (visualHullBound).
    const size_t moved = carveByMasks(grid, level, model.insideAbove(), margin, *masksOf, maskViews,
                                      box.min, box.side, model.sphereBounded() ? 0.47 : 0.0);
    if (moved)
      report.info(std::to_string(moved) + " grid points the masks show as background set outside the surface");
  }
  TriangleMesh mesh = isoSurface(grid, model.surfaceLevel(), model.insideAbove());
  if (model.sphereBounded()) {
    // Outside the sphere no ray ever sampled the field: what it holds there is noise.
    // Cut there (a surface that leaves the sphere stays open, not capped by a false wall).
    std::vector<Eigen::Vector3i> inside;
    for (const auto& f : mesh.faces) {
      const Eigen::Vector3f c =
          (mesh.points[size_t(f[0])] + mesh.points[size_t(f[1])] + mesh.points[size_t(f[2])]) / 3.f;
      if ((c - Eigen::Vector3f::Constant(0.5f)).norm() <= 0.5f) inside.push_back(f);
    }
    mesh.faces.swap(inside);
  }
  if (seenBy && !mesh.faces.empty()) {
    report.progress(0, 1, "keeping the surface the training photos see");
    mesh = keepSeenFaces(mesh, *seenBy);
  }
  if (largestOnly && !mesh.faces.empty()) mesh = largestComponent(mesh);
  if (mesh.faces.empty()) return mesh;
  mesh.computeVertexNormals();
  const int64_t n = int64_t(mesh.points.size());
  mesh.colors.resize(size_t(n));
  for (int64_t b = 0; b < n; b += chunk) {
    const int64_t e = std::min(n, b + chunk);
    torch::Tensor pos = torch::empty({e - b, 3}), dir = torch::empty({e - b, 3});
    for (int64_t i = b; i < e; ++i)
      for (int a = 0; a < 3; ++a) {
        const float nrm = mesh.normals[size_t(i)][a];
        pos.data_ptr<float>()[3 * (i - b) + a] = std::clamp(mesh.points[size_t(i)][a], 0.f, 1.f);
        dir.data_ptr<float>()[3 * (i - b) + a] = -nrm;
      }
    const torch::Tensor rgb = model.surfaceColor(pos, dir).contiguous();
    const float* c = rgb.data_ptr<float>();
    for (int64_t i = b; i < e; ++i)
      for (int a = 0; a < 3; ++a)
        mesh.colors[size_t(i)][size_t(a)] =
            uint8_t(std::lround(std::clamp(c[3 * (i - b) + a], 0.f, 1.f) * 255));
  }
  for (auto& p : mesh.points) p = (box.min + box.side * p.cast<double>()).cast<float>();
  return mesh;
}

}  // namespace parallax::fields
