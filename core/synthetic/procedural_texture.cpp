#include "synthetic/procedural_texture.h"

#include <cmath>

namespace parallax {
namespace {

inline uint32_t hash3(int x, int y, int z, uint32_t seed) {
  uint32_t h = seed * 0x9E3779B1u;
  h ^= uint32_t(x) * 0x85EBCA77u;
  h = (h << 13) | (h >> 19);
  h ^= uint32_t(y) * 0xC2B2AE3Du;
  h = (h << 13) | (h >> 19);
  h ^= uint32_t(z) * 0x27D4EB2Fu;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  h *= 0x297A2D39u;
  h ^= h >> 15;
  return h;
}

inline float lattice(int x, int y, int z, uint32_t seed) {
  return float(hash3(x, y, z, seed) & 0xFFFFFF) / float(0xFFFFFF);
}
inline float smooth(float t) { return t * t * (3.f - 2.f * t); }
inline Eigen::Vector3f mix(const Eigen::Vector3f& a, const Eigen::Vector3f& b, float t) {
  return a + (b - a) * t;
}
inline float clamp01(float v) { return v < 0.f ? 0.f : (v > 1.f ? 1.f : v); }

}  // namespace

float valueNoise(const Eigen::Vector3f& p, uint32_t seed) {
  const float fx = std::floor(p.x()), fy = std::floor(p.y()), fz = std::floor(p.z());
  const int x = int(fx), y = int(fy), z = int(fz);
  const float tx = smooth(p.x() - fx), ty = smooth(p.y() - fy), tz = smooth(p.z() - fz);
  float c[2][2][2];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) c[i][j][k] = lattice(x + i, y + j, z + k, seed);
  auto lerp = [](float a, float b, float t) { return a + (b - a) * t; };
  float x00 = lerp(c[0][0][0], c[1][0][0], tx), x10 = lerp(c[0][1][0], c[1][1][0], tx);
  float x01 = lerp(c[0][0][1], c[1][0][1], tx), x11 = lerp(c[0][1][1], c[1][1][1], tx);
  return lerp(lerp(x00, x10, ty), lerp(x01, x11, ty), tz);
}

float fbm(const Eigen::Vector3f& p, int octaves, uint32_t seed) {
  float sum = 0.f, amplitude = 0.5f, norm = 0.f;
  Eigen::Vector3f q = p;
  for (int o = 0; o < octaves; ++o) {
    sum += amplitude * valueNoise(q, seed + uint32_t(o) * 101u);
    norm += amplitude;
    amplitude *= 0.5f;
    q = q * 2.03f + Eigen::Vector3f(17.1f, -3.7f, 9.3f);
  }
  return sum / norm;
}

Eigen::Vector3f albedo(Material material, const Eigen::Vector3f& p, uint32_t seed) {
  // Fine detail (a few pixels across at sample distances) shared by all materials.
  const float fine = valueNoise(p * 28.f, seed + 7u);
  const float speck = valueNoise(p * 55.f, seed + 8u);
  switch (material) {
    case Material::kGround: {
      float patches = fbm(p * 1.6f, 4, seed + 11u);
      Eigen::Vector3f stone(0.55f, 0.50f, 0.44f), moss(0.24f, 0.36f, 0.16f),
          soil(0.42f, 0.30f, 0.20f);
      Eigen::Vector3f c = mix(mix(stone, soil, smooth(clamp01(patches * 1.6f - 0.3f))), moss,
                              smooth(clamp01(fbm(p * 3.1f, 3, seed + 12u) * 2.2f - 1.0f)));
      // Paving joints: darker lines on a 0.4 m grid, wobbling so no two look alike.
      float jx =
          std::abs(std::sin(3.14159f * (p.x() / 0.4f + 0.15f * fbm(p * 2.f, 2, seed + 13u))));
      float jy =
          std::abs(std::sin(3.14159f * (p.y() / 0.4f + 0.15f * fbm(p * 2.f, 2, seed + 14u))));
      float joint = (jx < 0.06f || jy < 0.06f) ? 0.55f : 1.f;
      return (c * (0.70f + 0.45f * fine) * joint * (0.85f + 0.3f * speck)).cwiseMin(1.f);
    }
    case Material::kMarble: {
      float veins = std::sin(p.x() * 7.f + p.z() * 3.f + 6.f * fbm(p * 2.5f, 4, seed + 21u));
      Eigen::Vector3f cream(0.93f, 0.87f, 0.74f), terracotta(0.72f, 0.33f, 0.22f),
          blue(0.15f, 0.25f, 0.55f);
      Eigen::Vector3f c = mix(cream, terracotta, smooth(clamp01(0.5f + 0.5f * veins)));
      if (valueNoise(p * 9.f, seed + 22u) > 0.72f) c = mix(c, blue, 0.8f);
      return (c * (0.72f + 0.4f * fine)).cwiseMin(1.f);
    }
    case Material::kWood: {
      float r = std::sqrt(p.x() * p.x() + p.z() * p.z());
      float rings = 0.5f + 0.5f * std::sin(r * 45.f + 5.f * fbm(p * 3.f, 3, seed + 31u));
      Eigen::Vector3f light(0.78f, 0.56f, 0.32f), dark(0.40f, 0.24f, 0.12f);
      return (mix(dark, light, rings) *
              (0.75f + 0.4f * valueNoise(Eigen::Vector3f(p.x() * 4.f, p.y() * 70.f, p.z() * 4.f),
                                         seed + 32u)))
          .cwiseMin(1.f);
    }
    case Material::kPaint: {
      float h = fbm(p * 2.2f, 4, seed + 41u);
      Eigen::Vector3f a(0.85f, 0.20f, 0.25f), b(0.95f, 0.80f, 0.20f), c(0.15f, 0.55f, 0.75f);
      Eigen::Vector3f col = h < 0.45f ? mix(a, b, h / 0.45f) : mix(b, c, (h - 0.45f) / 0.55f);
      return (col * (0.65f + 0.5f * fine)).cwiseMin(1.f);
    }
    case Material::kFloor: {
      // Planks 0.18 m wide along x, each its own shade, with grain and dark seams.
      const float plank = std::floor(p.y() / 0.18f);
      const float shift = valueNoise(Eigen::Vector3f(plank * 3.1f, 0.f, 0.f), seed + 51u);
      const float along = p.x() + 1.7f * shift;
      const bool seam = std::abs(p.y() / 0.18f - plank) < 0.04f ||
                        std::abs(along / 1.2f - std::round(along / 1.2f)) < 0.006f;
      const float grain = valueNoise(Eigen::Vector3f(p.x() * 6.f, p.y() * 90.f, plank), seed + 52u);
      Eigen::Vector3f light(0.72f, 0.55f, 0.36f), dark(0.50f, 0.35f, 0.21f);
      Eigen::Vector3f c = mix(dark, light, 0.35f + 0.4f * shift + 0.25f * grain);
      return (c * (seam ? 0.55f : 1.f) * (0.85f + 0.25f * fine)).cwiseMin(1.f);
    }
    case Material::kWallpaper: {
      // Pale paper with a printed pattern (so photos of a wall have something to match).
      const float motif = fbm(p * 6.f, 3, seed + 61u);
      const float stripes = 0.5f + 0.5f * std::sin((p.x() + p.y()) * 40.f + 4.f * motif);
      Eigen::Vector3f paper(0.86f, 0.84f, 0.78f), print(0.62f, 0.66f, 0.70f);
      Eigen::Vector3f c = mix(paper, print, 0.55f * smooth(clamp01(stripes * motif * 1.8f)));
      return (c * (0.88f + 0.18f * fine)).cwiseMin(1.f);
    }
    case Material::kCeiling: {
      const float plaster = fbm(p * 4.f, 3, seed + 71u);
      return (Eigen::Vector3f(0.92f, 0.92f, 0.90f) * (0.86f + 0.12f * plaster + 0.06f * fine))
          .cwiseMin(1.f);
    }
    case Material::kFabric: {
      const float weave = 0.5f + 0.25f * (std::sin(p.x() * 180.f) + std::sin(p.y() * 180.f + p.z() * 180.f));
      Eigen::Vector3f c = mix(Eigen::Vector3f(0.16f, 0.20f, 0.32f), Eigen::Vector3f(0.28f, 0.32f, 0.46f),
                              0.6f * fbm(p * 5.f, 3, seed + 81u) + 0.4f * weave);
      return (c * (0.8f + 0.3f * fine)).cwiseMin(1.f);
    }
  }
  return Eigen::Vector3f::Constant(0.5f);
}

Eigen::Vector3f shade(Material material, const Eigen::Vector3f& a, const Eigen::Vector3f& normal) {
  static const Eigen::Vector3f sun = Eigen::Vector3f(0.45f, 0.3f, 0.84f).normalized();
  const float lambert = std::max(0.f, normal.dot(sun));
  if (int(material) >= int(Material::kFloor)) return (a * (0.78f + 0.22f * std::abs(normal.dot(sun)))).cwiseMin(1.f);
  return (a * (0.38f + 0.62f * lambert)).cwiseMin(1.f);
}

}  // namespace parallax
