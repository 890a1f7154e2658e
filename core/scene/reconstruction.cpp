#include "scene/reconstruction.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/error.h"

namespace parallax {

void Reconstruction::checkConsistency() const {
  for (const auto& [id, image] : images) {
    if (!cameras.count(image.camera_id))
      throw Error("image " + std::to_string(id) + " ('" + image.name +
                  "') refers to missing camera " + std::to_string(image.camera_id));
  }
  for (const auto& [id, point] : points3D) {
    for (const auto& el : point.track) {
      auto it = images.find(el.image_id);
      if (it == images.end())
        throw Error("3D point " + std::to_string(id) + " is observed by missing image " +
                    std::to_string(el.image_id));
      if (el.point2D_idx >= it->second.points2D.size())
        throw Error("3D point " + std::to_string(id) + " refers to observation " +
                    std::to_string(el.point2D_idx) + " of image '" + it->second.name +
                    "', which has only " + std::to_string(it->second.points2D.size()));
    }
  }
}

double Reconstruction::observationError(const Point3D& point, const TrackElement& el) const {
  const Image& im = images.at(el.image_id);
  const Eigen::Vector3d xc = im.cam_from_world * point.xyz;
  if (xc.z() <= 0) return std::numeric_limits<double>::infinity();
  return (cameras.at(im.camera_id).imgFromCam(xc) - im.points2D.at(el.point2D_idx).xy).norm();
}

ModelStatistics modelStatistics(const Reconstruction& model, double binPx, int bins,
                                int maxTrack) {
  ModelStatistics s;
  s.registered_images = model.images.size();
  s.num_points = model.points3D.size();
  s.error_bin_px = binPx;
  s.error_histogram.assign(size_t(std::max(1, bins)), 0);
  s.track_length_histogram.assign(size_t(std::max(2, maxTrack) + 1), 0);
  std::vector<double> errors;
  for (const auto& [id, point] : model.points3D) {
    s.track_length_histogram[std::min(point.track.size(), s.track_length_histogram.size() - 1)]++;
    for (const TrackElement& el : point.track) {
      const double e = model.observationError(point, el);
      errors.push_back(e);
      const double bin = std::floor(e / binPx);
      s.error_histogram[size_t(std::clamp(bin, 0.0, double(s.error_histogram.size() - 1)))]++;
    }
  }
  s.num_observations = errors.size();
  if (!errors.empty()) {
    double sum = 0;
    for (double e : errors) sum += std::isfinite(e) ? e : 0.0;
    s.mean_error_px = sum / double(errors.size());
    std::nth_element(errors.begin(), errors.begin() + long(errors.size() / 2), errors.end());
    s.median_error_px = errors[errors.size() / 2];
  }
  s.mean_track_length = s.num_points ? double(s.num_observations) / double(s.num_points) : 0.0;
  return s;
}

}  // namespace parallax
