#include "segment/point_segmenter.h"

#include <Eigen/Geometry>
#include <algorithm>


namespace parallax {

PointCloud toMetricZUp(const PointCloud& cloud, const Eigen::Vector3f& up, double metresPerUnit) {
  const Eigen::Matrix3f R =
      Eigen::Quaternionf::FromTwoVectors(up.normalized(), Eigen::Vector3f::UnitZ()).toRotationMatrix();
  PointCloud out = cloud;
  for (auto& p : out.points) p = float(metresPerUnit) * (R * p);
  for (auto& nrm : out.normals) nrm = R * nrm;
  if (out.points.empty()) return out;
  Eigen::Vector3f low;
  for (int a = 0; a < 3; ++a) {
    std::vector<float> v(out.points.size());
    for (size_t i = 0; i < v.size(); ++i) v[i] = out.points[i][a];
    const size_t k = size_t(0.02 * double(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + long(k), v.end());
    low[a] = v[k];
  }
  for (auto& p : out.points) p -= low;
  return out;
}

}  // namespace parallax
