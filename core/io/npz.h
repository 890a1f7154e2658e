// NumPy's array files: .npy (one array) and .npz (a zip of .npy files, as np.savez and
// np.savez_compressed write them). Used to import DTU/IDR cameras (cameras_sphere.npz).
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace parallax {

struct NpyArray {
  std::vector<size_t> shape;
  std::vector<double> values;  // row-major (C order), converted from the stored type
  size_t size() const { return values.size(); }
  // Element (r, c) of a 2-D array.
  double at(size_t r, size_t c) const { return values[r * shape.at(1) + c]; }
};

// One .npy file's bytes (formats 1.0-3.0; bool, (u)int8-64, float32/64, either byte
// order, C or Fortran order). `what` names the array in messages. Throws Error.
NpyArray parseNpy(const std::string& bytes, const std::string& what);

// Every array of an .npz file, keyed by name without ".npy". Stored and deflated members
// are read; ZIP64 (arrays over 4 GiB) is not. Throws Error naming the file and what is wrong.
std::map<std::string, NpyArray> readNpz(const std::filesystem::path& path);

// DTU/IDR cameras (cameras_sphere.npz, cameras_large.npz): world_mat_0, world_mat_1, ...
// (P = K [R | t]) split per photo index, and scale_mat_0 (the unit sphere onto the object)
// when present. Throws Error naming the file and the array that is wrong.
struct DtuCameras {
  struct View {
    Eigen::Matrix3d K, R;  // R: world to camera
    Eigen::Vector3d t;
  };
  std::vector<View> views;
  std::optional<Eigen::Matrix4d> scale;
};
DtuCameras readDtuCameras(const std::filesystem::path& npz);

}  // namespace parallax
