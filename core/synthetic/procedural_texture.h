// Solid (3D) procedural textures for the synthetic scenes: colour is a function
// of the surface point, so no UVs are needed and every view sees the same
// texture — rich, multi-scale detail that feature detectors latch onto.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace parallax {

enum class Material : int {
  kGround = 0,
  kMarble = 1,
  kWood = 2,
  kPaint = 3,
  kFloor = 4,     // indoor: oak planks
  kWallpaper = 5, // indoor: pale patterned wallpaper
  kCeiling = 6,   // indoor: white plaster
  kFabric = 7,    // indoor: dark woven upholstery
};

// Value noise in [0, 1], smooth, deterministic for a seed.
float valueNoise(const Eigen::Vector3f& p, uint32_t seed);
// Fractal sum of `octaves` value-noise layers, in [0, 1].
float fbm(const Eigen::Vector3f& p, int octaves, uint32_t seed);

// Albedo in [0, 1]^3 of `material` at world point `p`.
Eigen::Vector3f albedo(Material material, const Eigen::Vector3f& p, uint32_t seed);

// View-independent (Lambertian) shading with one fixed sun and ambient light,
// so the photos are photo-consistent as multi-view stereo assumes.
// Indoor materials are lit softly from everywhere (a room's lamps and bounce light).
Eigen::Vector3f shade(Material material, const Eigen::Vector3f& albedo, const Eigen::Vector3f& normal);

}  // namespace parallax
