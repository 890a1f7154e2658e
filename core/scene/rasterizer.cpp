#include "scene/rasterizer.h"

#include <algorithm>
#include <cmath>

namespace parallax {

std::vector<RasterSample> rasterize(const TriangleMesh& mesh, const Camera& camera,
                                    const Rigid3d& cam_from_world, float near) {
  const int W = camera.width, H = camera.height;
  std::vector<RasterSample> buffer(size_t(W) * H);
  const Eigen::Matrix3f R = cam_from_world.rotation.toRotationMatrix().cast<float>();
  const Eigen::Vector3f t = cam_from_world.translation.cast<float>();
  const float fx = float(camera.focalX()), fy = float(camera.focalY());
  const float cx = float(camera.principalX()), cy = float(camera.principalY());

  for (size_t fi = 0; fi < mesh.faces.size(); ++fi) {
    const Eigen::Vector3i& f = mesh.faces[fi];
    Eigen::Vector3f pc[3];
    float sx[3], sy[3];
    bool behind = false;
    for (int k = 0; k < 3; ++k) {
      pc[k] = R * mesh.points[f[k]] + t;
      if (pc[k].z() < near) behind = true;
      sx[k] = fx * pc[k].x() / pc[k].z() + cx;
      sy[k] = fy * pc[k].y() / pc[k].z() + cy;
    }
    if (behind) continue;
    const float area = (sx[1] - sx[0]) * (sy[2] - sy[0]) - (sx[2] - sx[0]) * (sy[1] - sy[0]);
    if (std::abs(area) < 1e-12f) continue;
    int x0 = std::max(0, int(std::floor(std::min({sx[0], sx[1], sx[2]}))));
    int x1 = std::min(W - 1, int(std::ceil(std::max({sx[0], sx[1], sx[2]}))));
    int y0 = std::max(0, int(std::floor(std::min({sy[0], sy[1], sy[2]}))));
    int y1 = std::min(H - 1, int(std::ceil(std::max({sy[0], sy[1], sy[2]}))));
    const float invZ[3] = {1.f / pc[0].z(), 1.f / pc[1].z(), 1.f / pc[2].z()};
    for (int y = y0; y <= y1; ++y) {
      const float py = y + 0.5f;  // pixel centres, as COLMAP's convention
      for (int x = x0; x <= x1; ++x) {
        const float px = x + 0.5f;
        float b0 = ((sx[1] - px) * (sy[2] - py) - (sx[2] - px) * (sy[1] - py)) / area;
        float b1 = ((sx[2] - px) * (sy[0] - py) - (sx[0] - px) * (sy[2] - py)) / area;
        float b2 = 1.f - b0 - b1;
        if (b0 < 0.f || b1 < 0.f || b2 < 0.f) continue;
        float w0 = b0 * invZ[0], w1 = b1 * invZ[1], w2 = b2 * invZ[2];
        float z = 1.f / (w0 + w1 + w2);
        RasterSample& s = buffer[size_t(y) * W + x];
        if (s.face >= 0 && s.depth <= z) continue;
        w0 *= z, w1 *= z, w2 *= z;
        s.depth = z;
        s.face = int(fi);
        s.world = w0 * mesh.points[f[0]] + w1 * mesh.points[f[1]] + w2 * mesh.points[f[2]];
        s.normal = (w0 * mesh.normals[f[0]] + w1 * mesh.normals[f[1]] + w2 * mesh.normals[f[2]])
                       .normalized();
      }
    }
  }
  return buffer;
}

}  // namespace parallax
