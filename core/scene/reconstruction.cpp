#include "scene/reconstruction.h"

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

}  // namespace parallax
