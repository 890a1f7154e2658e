#include "synthetic/sample_scene.h"

#include <cmath>
#include <cstring>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "io/colmap_model.h"
#include "io/ply.h"
#include "mvs/dense_scene.h"
#include "scene/labels.h"
#include "synthetic/procedural_texture.h"
#include "scene/rasterizer.h"
#include "util/atomic_file.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/parallel.h"

namespace fs = std::filesystem;
using Eigen::Vector3f;

namespace parallax {
namespace {

// Appends geometry with a material per face to one mesh.
struct MeshBuilder {
  TriangleMesh mesh;
  std::vector<int> material;
  int cls = -1;  // the class of what is being added (kRoomClasses), -1: none
  int vertex(const Vector3f& p) {
    mesh.points.push_back(p);
    mesh.labels.push_back(cls);
    return int(mesh.points.size()) - 1;
  }
  void face(int a, int b, int c, Material m) {
    mesh.faces.emplace_back(a, b, c);
    material.push_back(int(m));
  }
};

// A flat rectangle corner + s*u + t*v (s, t in [0, 1]) as a grid of cells; its
// front (normal u x v) faces the viewer.
void addQuad(MeshBuilder& b, const Vector3f& corner, const Vector3f& u, const Vector3f& v, int nu,
             int nv, Material m) {
  const int base = int(b.mesh.points.size());
  for (int j = 0; j <= nv; ++j)
    for (int i = 0; i <= nu; ++i) b.vertex(corner + u * (float(i) / nu) + v * (float(j) / nv));
  for (int j = 0; j < nv; ++j)
    for (int i = 0; i < nu; ++i) {
      const int a = base + j * (nu + 1) + i;
      b.face(a, a + 1, a + nu + 2, m);
      b.face(a, a + nu + 2, a + nu + 1, m);
    }
}

void addGround(MeshBuilder& b, float half, int cells) {
  int base = int(b.mesh.points.size());
  for (int j = 0; j <= cells; ++j)
    for (int i = 0; i <= cells; ++i)
      b.vertex({-half + 2 * half * i / cells, -half + 2 * half * j / cells, 0.f});
  for (int j = 0; j < cells; ++j)
    for (int i = 0; i < cells; ++i) {
      int v = base + j * (cells + 1) + i;
      b.face(v, v + 1, v + cells + 2, Material::kGround);
      b.face(v, v + cells + 2, v + cells + 1, Material::kGround);
    }
}

// Icosphere with a smooth, noisy radius: a "statue" with no symmetry to confuse matching.
void addBlob(MeshBuilder& b, const Vector3f& centre, float radius, int subdivisions,
             uint32_t seed) {
  const float t = (1.f + std::sqrt(5.f)) / 2.f;
  std::vector<Vector3f> v = {{-1, t, 0}, {1, t, 0}, {-1, -t, 0}, {1, -t, 0},
                             {0, -1, t}, {0, 1, t}, {0, -1, -t}, {0, 1, -t},
                             {t, 0, -1}, {t, 0, 1}, {-t, 0, -1}, {-t, 0, 1}};
  std::vector<Eigen::Vector3i> f = {{0, 11, 5}, {0, 5, 1},  {0, 1, 7},   {0, 7, 10}, {0, 10, 11},
                                    {1, 5, 9},  {5, 11, 4}, {11, 10, 2}, {10, 7, 6}, {7, 1, 8},
                                    {3, 9, 4},  {3, 4, 2},  {3, 2, 6},   {3, 6, 8},  {3, 8, 9},
                                    {4, 9, 5},  {2, 4, 11}, {6, 2, 10},  {8, 6, 7},  {9, 8, 1}};
  for (auto& p : v) p.normalize();
  for (int s = 0; s < subdivisions; ++s) {
    std::map<std::pair<int, int>, int> mid;
    auto midpoint = [&](int a, int c) {
      auto key = std::minmax(a, c);
      auto it = mid.find(key);
      if (it != mid.end()) return it->second;
      v.push_back((v[a] + v[c]).normalized());
      return mid[key] = int(v.size()) - 1;
    };
    std::vector<Eigen::Vector3i> next;
    for (const auto& tri : f) {
      int ab = midpoint(tri[0], tri[1]), bc = midpoint(tri[1], tri[2]),
          ca = midpoint(tri[2], tri[0]);
      next.insert(next.end(), {{tri[0], ab, ca}, {tri[1], bc, ab}, {tri[2], ca, bc}, {ab, bc, ca}});
    }
    f = next;
  }
  int base = int(b.mesh.points.size());
  for (const auto& d : v) {
    float r = radius * (0.8f + 0.45f * fbm(d * 1.3f + Vector3f(3, 1, 2), 3, seed + 5u));
    b.vertex(centre + Vector3f(d.x() * r, d.y() * r, d.z() * r * 1.25f));
  }
  for (const auto& tri : f) b.face(base + tri[0], base + tri[1], base + tri[2], Material::kMarble);
}

void addBox(MeshBuilder& b, const Vector3f& centre, const Vector3f& size, float yaw, Material m) {
  const Eigen::Matrix3f R = Eigen::AngleAxisf(yaw, Vector3f::UnitZ()).toRotationMatrix();
  // Six sides with their own vertices so shading stays flat per side.
  const int sides[6][4] = {{0, 1, 3, 2}, {4, 6, 7, 5}, {0, 4, 5, 1},
                           {2, 3, 7, 6}, {0, 2, 6, 4}, {1, 5, 7, 3}};
  for (const auto& s : sides) {
    int idx[4];
    for (int k = 0; k < 4; ++k) {
      int c = s[k];
      Vector3f corner((c & 1 ? 0.5f : -0.5f) * size.x(), (c & 2 ? 0.5f : -0.5f) * size.y(),
                      (c & 4 ? 0.5f : -0.5f) * size.z());
      idx[k] = b.vertex(centre + R * corner);
    }
    b.face(idx[0], idx[2], idx[1], m);
    b.face(idx[0], idx[3], idx[2], m);
  }
}

void addCylinder(MeshBuilder& b, const Vector3f& base, float radius, float height, int segments,
                 Material m) {
  int first = int(b.mesh.points.size());
  for (int i = 0; i < segments; ++i) {
    float a = 2.f * float(M_PI) * i / segments;
    Vector3f d(std::cos(a) * radius, std::sin(a) * radius, 0.f);
    b.vertex(base + d);
    b.vertex(base + d + Vector3f(0, 0, height));
  }
  int top = b.vertex(base + Vector3f(0, 0, height));
  for (int i = 0; i < segments; ++i) {
    int a0 = first + 2 * i, a1 = first + 2 * ((i + 1) % segments);
    b.face(a0, a1, a1 + 1, m);
    b.face(a0, a1 + 1, a0 + 1, m);
    b.face(a0 + 1, a1 + 1, top, m);
  }
}

// A closed tube of `radius` from `from` to `to` (a pole, a rail), with flat ends.
void addTube(MeshBuilder& b, const Vector3f& from, const Vector3f& to, float radius, int segments,
             Material m) {
  const Vector3f axis = (to - from).normalized();
  const Vector3f u = axis.unitOrthogonal(), v = axis.cross(u);
  const int first = int(b.mesh.points.size());
  for (int i = 0; i < segments; ++i) {
    const float a = 2.f * float(M_PI) * i / segments;
    const Vector3f d = (std::cos(a) * u + std::sin(a) * v) * radius;
    b.vertex(from + d);
    b.vertex(to + d);
  }
  const int start = b.vertex(from), end = b.vertex(to);
  for (int i = 0; i < segments; ++i) {
    const int a0 = first + 2 * i, a1 = first + 2 * ((i + 1) % segments);
    b.face(a0, a1, a1 + 1, m);
    b.face(a0, a1 + 1, a0 + 1, m);
    b.face(a0 + 1, a1 + 1, end, m);
    b.face(a1, a0, start, m);
  }
}

// The poles sample's thin structures around the statue's scene: eight painted poles
// 2.4 cm across (3 to 7 pixels in a 640-pixel photo from the camera ring), two rails
// between them and a slanted bar, standing free against the sky and the ground.
void addThinStructures(MeshBuilder& b) {
  // Irregularly placed and of different heights: a ring of equal poles at equal
  // angles would make the scene look the same from cameras 45 degrees apart.
  const float angle[] = {0.35f, 1.05f, 1.6f, 2.45f, 3.3f, 3.85f, 4.7f, 5.6f};
  const float radius[] = {1.45f, 1.75f, 1.4f, 1.6f, 1.5f, 1.8f, 1.45f, 1.65f};
  const float height[] = {1.8f, 1.5f, 1.95f, 1.65f, 1.75f, 1.4f, 1.85f, 1.55f};
  std::vector<Vector3f> feet;
  for (int i = 0; i < 8; ++i) {
    feet.emplace_back(radius[i] * std::cos(angle[i]), radius[i] * std::sin(angle[i]), 0.f);
    addTube(b, feet.back(), feet.back() + Vector3f(0, 0, height[i]), 0.012f, 12, Material::kPaint);
  }
  addTube(b, feet[0] + Vector3f(0, 0, 1.0f), feet[1] + Vector3f(0, 0, 1.1f), 0.01f, 12, Material::kPaint);
  addTube(b, feet[4] + Vector3f(0, 0, 1.25f), feet[5] + Vector3f(0, 0, 1.2f), 0.01f, 12, Material::kPaint);
  addTube(b, feet[2] + Vector3f(0, 0, 1.6f), feet[3] + Vector3f(0, 0, 0.6f), 0.008f, 12, Material::kPaint);
}

// Area-uniform random points on a mesh's faces.
struct SurfacePoint {
  Vector3f point, normal;
  size_t face = 0;
};
class SurfaceSampler {
 public:
  explicit SurfaceSampler(const TriangleMesh& mesh) : mesh_(mesh) {
    for (const auto& f : mesh.faces) {
      total_ += 0.5 * double((mesh.points[f[1]] - mesh.points[f[0]])
                                 .cross(mesh.points[f[2]] - mesh.points[f[0]])
                                 .norm());
      cumulative_.push_back(total_);
    }
  }
  SurfacePoint sample(std::mt19937& rng) const {
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    size_t f = size_t(std::lower_bound(cumulative_.begin(), cumulative_.end(), uni(rng) * total_) -
                      cumulative_.begin());
    f = std::min(f, mesh_.faces.size() - 1);
    double a = uni(rng), b = uni(rng);
    if (a + b > 1) a = 1 - a, b = 1 - b;
    const auto& tri = mesh_.faces[f];
    const Vector3f& p0 = mesh_.points[tri[0]];
    SurfacePoint s;
    s.face = f;
    s.point = p0 + float(a) * (mesh_.points[tri[1]] - p0) + float(b) * (mesh_.points[tri[2]] - p0);
    s.normal = (mesh_.points[tri[1]] - p0).cross(mesh_.points[tri[2]] - p0).normalized();
    return s;
  }

 private:
  const TriangleMesh& mesh_;
  std::vector<double> cumulative_;
  double total_ = 0;
};

// The room sample: S3DIS's class numbers, so that a network trained there can be scored.
constexpr int kRoomCeiling = 0, kRoomFloor = 1, kRoomWall = 2, kRoomTable = 7, kRoomChair = 8,
              kRoomBookcase = 10;
constexpr float kRoomX = 3.0f, kRoomY = 2.5f, kRoomZ = 2.8f;  // half length, half width, height

void addChair(MeshBuilder& b, const Vector3f& at, float yaw) {
  const Eigen::Matrix3f R = Eigen::AngleAxisf(yaw, Vector3f::UnitZ()).toRotationMatrix();
  b.cls = kRoomChair;
  addBox(b, at + R * Vector3f(0, 0, 0.455f), {0.46f, 0.46f, 0.05f}, yaw, Material::kFabric);
  for (float sx : {-0.2f, 0.2f})
    for (float sy : {-0.2f, 0.2f})
      addBox(b, at + R * Vector3f(sx, sy, 0.215f), {0.04f, 0.04f, 0.43f}, yaw, Material::kWood);
  // The back, on the side away from the table (+x in the chair's frame).
  addBox(b, at + R * Vector3f(0.21f, 0, 0.7f), {0.04f, 0.46f, 0.44f}, yaw, Material::kFabric);
}

void buildRoom(MeshBuilder& b) {
  const float X = kRoomX, Y = kRoomY, Z = kRoomZ;
  b.cls = kRoomFloor;
  addQuad(b, {-X, -Y, 0}, {2 * X, 0, 0}, {0, 2 * Y, 0}, 30, 25, Material::kFloor);
  b.cls = kRoomCeiling;
  addQuad(b, {-X, -Y, Z}, {0, 2 * Y, 0}, {2 * X, 0, 0}, 15, 12, Material::kCeiling);
  b.cls = kRoomWall;  // four walls facing in
  addQuad(b, {-X, -Y, 0}, {0, 0, Z}, {2 * X, 0, 0}, 14, 30, Material::kWallpaper);
  addQuad(b, {X, Y, 0}, {0, 0, Z}, {-2 * X, 0, 0}, 14, 30, Material::kWallpaper);
  addQuad(b, {-X, Y, 0}, {0, 0, Z}, {0, -2 * Y, 0}, 14, 25, Material::kWallpaper);
  addQuad(b, {X, -Y, 0}, {0, 0, Z}, {0, 2 * Y, 0}, 14, 25, Material::kWallpaper);
  // A table with four chairs around it, a bookcase against the far wall.
  b.cls = kRoomTable;
  const Vector3f table(-0.3f, 0.1f, 0.f);
  addBox(b, table + Vector3f(0, 0, 0.73f), {1.6f, 0.9f, 0.04f}, 0, Material::kWood);
  for (float sx : {-0.72f, 0.72f})
    for (float sy : {-0.37f, 0.37f})
      addBox(b, table + Vector3f(sx, sy, 0.355f), {0.06f, 0.06f, 0.71f}, 0, Material::kWood);
  addChair(b, table + Vector3f(-0.4f, -0.75f, 0), float(-M_PI / 2));
  addChair(b, table + Vector3f(0.4f, -0.75f, 0), float(-M_PI / 2));
  addChair(b, table + Vector3f(0.1f, 0.75f, 0), float(M_PI / 2));
  addChair(b, table + Vector3f(1.15f, 0.05f, 0), 0.f);
  b.cls = kRoomBookcase;
  addBox(b, {-1.2f, Y - 0.21f, 0.9f}, {1.1f, 0.4f, 1.8f}, 0, Material::kPaint);
  b.cls = -1;
}

Rigid3d viewPose(const SampleOptions& o, int i) {
  const double angle = 2.0 * M_PI * i / o.views;
  if (o.name == "room") {  // from the middle of the room, looking out at the walls and down a little
    Eigen::Vector3d centre(1.3 * std::cos(angle), 1.0 * std::sin(angle), 1.55 + 0.1 * std::sin(3 * angle));
    Eigen::Vector3d target(2.6 * std::cos(angle + 0.35), 2.2 * std::sin(angle + 0.35), 0.75);
    return lookAtCamFromWorld(centre, target, {0, 0, 1});
  }
  const double radius = 3.4, height = 1.5 + 0.45 * std::sin(3.0 * angle + 0.5);
  Eigen::Vector3d centre(radius * std::cos(angle), radius * std::sin(angle), height);
  return lookAtCamFromWorld(centre, {0, 0, 0.55}, {0, 0, 1});
}

std::string viewName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "view_%03d.png", i);
  return buf;
}

}  // namespace

void SampleOptions::check() const {
  bool known = false;
  std::string available;
  for (const auto& n : sampleNames()) known |= n == name, available += (available.empty() ? "" : ", ") + n;
  if (!known) throw Error("unknown sample '" + name + "' (available: " + available + ")");
  if (views < 2 || views > 1000)
    throw Error("views = " + std::to_string(views) + " is out of range [2, 1000]");
  if (width < 64 || width > 8192 || height < 64 || height > 8192)
    throw Error("image size " + std::to_string(width) + "x" + std::to_string(height) +
                " is out of range [64, 8192]");
  if (supersample < 1 || supersample > 4) throw Error("supersample must be 1 to 4");
  if (points < 0) throw Error("points must not be negative");
}

std::vector<std::string> sampleNames() { return {"statue", "room", "poles"}; }

std::string sampleDescription(const std::string& name) {
  if (name == "statue")
    return "a marbled statue on a pedestal, a wooden crate and a painted pillar on paved ground, "
           "seen from a ring of cameras";
  if (name == "room")
    return "a furnished room (floor, walls, ceiling, a table, four chairs, a bookcase) with "
           "S3DIS class labels, seen from its middle";
  if (name == "poles")
    return "the statue's scene ringed by thin painted poles (3 to 7 pixels across), rails and a "
           "slanted bar: the thin structures a mesher must keep (ground_truth/thin.ply holds them "
           "alone)";
  return "";
}

TriangleMesh buildSampleMesh(const SampleOptions& o, std::vector<int>* faceMaterial) {
  MeshBuilder b;
  if (o.name == "room") {
    buildRoom(b);
  } else {
    addGround(b, 2.4f, 48);
    addBox(b, {0, 0, 0.15f}, {0.55f, 0.55f, 0.3f}, 0.3f, Material::kPaint);
    addBlob(b, {0, 0, 0.78f}, 0.48f, 4, o.seed);
    addBox(b, {0.95f, -0.6f, 0.225f}, {0.45f, 0.45f, 0.45f}, 0.35f, Material::kWood);
    addCylinder(b, {-0.85f, 0.65f, 0.f}, 0.18f, 1.1f, 40, Material::kPaint);
    if (o.name == "poles") addThinStructures(b);
    b.mesh.labels.clear();  // the statue's scene has no classes
  }
  b.mesh.computeVertexNormals();
  b.mesh.colors.resize(b.mesh.points.size(), {128, 128, 128});
  // Vertex colours: the shaded albedo of the first face using each vertex.
  std::vector<bool> done(b.mesh.points.size(), false);
  for (size_t f = 0; f < b.mesh.faces.size(); ++f)
    for (int k = 0; k < 3; ++k) {
      int v = b.mesh.faces[f][k];
      if (done[v]) continue;
      done[v] = true;
      Vector3f c =
          shade(Material(b.material[f]), albedo(Material(b.material[f]), b.mesh.points[v], o.seed),
                b.mesh.normals[v]) *
          255.f;
      b.mesh.colors[v] = {uint8_t(c.x()), uint8_t(c.y()), uint8_t(c.z())};
    }
  if (faceMaterial) *faceMaterial = b.material;
  return b.mesh;
}

TriangleMesh sampleThinStructures(const SampleOptions& o) {
  MeshBuilder b;
  if (o.name == "poles") addThinStructures(b);
  b.mesh.labels.clear();
  return b.mesh;
}

PointCloud sampleScenePoints(const SampleOptions& o, size_t count, uint32_t seed) {
  o.check();
  std::vector<int> material;
  const TriangleMesh mesh = buildSampleMesh(o, &material);
  const SurfaceSampler sampler(mesh);
  std::mt19937 rng(seed);
  PointCloud cloud;
  cloud.points.resize(count);
  cloud.normals.resize(count);
  cloud.colors.resize(count);
  if (mesh.hasLabels()) cloud.labels.resize(count);
  for (size_t n = 0; n < count; ++n) {
    const SurfacePoint sp = sampler.sample(rng);
    const Material m = Material(material[sp.face]);
    const Vector3f c = shade(m, albedo(m, sp.point, o.seed), sp.normal) * 255.f;
    cloud.points[n] = sp.point;
    cloud.normals[n] = sp.normal;
    cloud.colors[n] = {uint8_t(c.x()), uint8_t(c.y()), uint8_t(c.z())};
    if (mesh.hasLabels()) cloud.labels[n] = mesh.labels[size_t(mesh.faces[sp.face][0])];
  }
  return cloud;
}

void writeColmapDepthMap(const fs::path& path, int width, int height,
                         const std::vector<float>& depth) {
  writeColmapMap(path, width, height, 1, depth);
}

std::vector<float> readColmapDepthMap(const fs::path& path, int* width, int* height) {
  int channels = 0;
  std::vector<float> depth = readColmapMap(path, width, height, &channels);
  if (channels != 1) throw Error("'" + path.string() + "' is not a COLMAP depth map");
  return depth;
}

void generateSample(const SampleOptions& o, const fs::path& outDir, Reporter& report) {
  o.check();
  if (fs::exists(outDir) && !fs::is_directory(outDir))
    throw Error("'" + outDir.string() + "' is a file, not a folder");
  if (fs::exists(outDir) && !fs::is_empty(outDir) && !fs::exists(outDir / kSampleManifest))
    throw Error("'" + outDir.string() + "' is not empty; choose a new folder for the sample");
  fs::create_directories(outDir / "images");
  fs::create_directories(outDir / "ground_truth" / "sparse");
  fs::create_directories(outDir / "ground_truth" / "depth_maps");

  std::vector<int> material;
  const TriangleMesh mesh = buildSampleMesh(o, &material);
  const double focal = 0.85 * o.width;
  Camera camera = Camera::pinhole(o.width, o.height, focal, focal, o.width / 2.0, o.height / 2.0);
  camera.camera_id = 1;
  const int s = o.supersample;
  Camera big = Camera::pinhole(o.width * s, o.height * s, focal * s, focal * s, o.width * s / 2.0,
                               o.height * s / 2.0);

  std::vector<std::vector<float>> depths(o.views);
  std::atomic<int> finished{0};
  report.progress(0, size_t(o.views) + 1, "rendering");
  parallelFor(size_t(o.views), [&](size_t i) {
    throwIfCancelled();
    const Rigid3d pose = viewPose(o, int(i));
    std::vector<RasterSample> buffer = rasterize(mesh, big, pose);
    cv::Mat hi(big.height, big.width, CV_32FC3);
    for (int y = 0; y < big.height; ++y)
      for (int x = 0; x < big.width; ++x) {
        const RasterSample& r = buffer[size_t(y) * big.width + x];
        Vector3f c;
        if (r.face < 0) {
          float t = float(y) / big.height;  // sky: a smooth gradient, no texture
          c = Vector3f(0.45f, 0.6f, 0.82f) * (1 - t) + Vector3f(0.82f, 0.86f, 0.9f) * t;
        } else {
          c = shade(Material(material[r.face]), albedo(Material(material[r.face]), r.world, o.seed),
                    r.normal);
        }
        hi.at<cv::Vec3f>(y, x) = cv::Vec3f(c.z(), c.y(), c.x()) * 255.f;  // BGR for OpenCV
      }
    cv::Mat lo;
    cv::resize(hi, lo, cv::Size(o.width, o.height), 0, 0, cv::INTER_AREA);
    cv::Mat out;
    lo.convertTo(out, CV_8UC3);
    // Depth per output pixel: the nearest sub-sample (edges belong to the foreground).
    std::vector<float>& depth = depths[i];
    depth.assign(size_t(o.width) * o.height, 0.f);
    for (int y = 0; y < o.height; ++y)
      for (int x = 0; x < o.width; ++x) {
        float best = 0.f;
        for (int dy = 0; dy < s; ++dy)
          for (int dx = 0; dx < s; ++dx) {
            float d = buffer[size_t(y * s + dy) * big.width + (x * s + dx)].depth;
            if (d > 0 && (best == 0 || d < best)) best = d;
          }
        depth[size_t(y) * o.width + x] = best;
      }
    const std::string name = viewName(int(i));
    writeViaTemp(outDir / "images" / name, [&](const fs::path& tmp) {
      std::vector<uchar> png;
      cv::imencode(".png", out, png);
      writeFileAtomic(tmp, std::string(png.begin(), png.end()));
    });
    writeColmapDepthMap(outDir / "ground_truth" / "depth_maps" / (name + ".bin"), o.width, o.height,
                        depth);
    int d = ++finished;
    report.progress(size_t(d), size_t(o.views) + 1, name);
  });

  // Ground-truth tracks: surface samples visible (depth test) in each view.
  Reconstruction model;
  model.cameras[1] = camera;
  for (int i = 0; i < o.views; ++i) {
    Image im;
    im.image_id = uint32_t(i + 1);
    im.camera_id = 1;
    im.name = viewName(i);
    im.cam_from_world = viewPose(o, i);
    model.images[im.image_id] = im;
  }
  const SurfaceSampler sampler(mesh);
  std::mt19937 rng(o.seed);
  for (int n = 0; n < o.points; ++n) {
    const SurfacePoint sp = sampler.sample(rng);
    const Vector3f& p = sp.point;
    const Vector3f& normal = sp.normal;
    const size_t f = sp.face;
    Point3D point;
    point.xyz = p.cast<double>();
    Vector3f c = shade(Material(material[f]), albedo(Material(material[f]), p, o.seed), normal) * 255.f;
    point.color = {uint8_t(c.x()), uint8_t(c.y()), uint8_t(c.z())};
    point.error = 0.0;
    const uint64_t pid = uint64_t(n + 1);
    for (auto& [id, im] : model.images) {
      Eigen::Vector3d pc = im.cam_from_world * point.xyz;
      if (pc.z() <= 0.05) continue;
      Eigen::Vector2d px = camera.imgFromCam(pc);
      int x = int(px.x()), y = int(px.y());
      if (x < 0 || y < 0 || x >= o.width || y >= o.height) continue;
      float d = depths[id - 1][size_t(y) * o.width + x];
      if (d <= 0 || std::abs(d - pc.z()) > 0.01 * pc.z()) continue;
      point.track.push_back({id, uint32_t(im.points2D.size())});
      im.points2D.push_back({px, pid});
    }
    if (point.track.size() >= 2) {
      model.points3D[pid] = point;
    } else {
      for (const auto& el : point.track) model.images[el.image_id].points2D.pop_back();
    }
  }
  writeColmapModel(outDir / "ground_truth" / "sparse", model, ModelFormat::kText);
  writePly(outDir / "ground_truth" / "mesh.ply", mesh);
  const TriangleMesh thin = sampleThinStructures(o);
  if (!thin.faces.empty()) writePly(outDir / "ground_truth" / "thin.ply", thin);
  if (mesh.hasLabels()) {
    LabelTable table = s3disLabelTable();
    table.method = "ground truth";
    writeFileAtomic(outDir / "ground_truth" / "classes.json", toJson(table).dump(1) + "\n");
  }
  nlohmann::json manifest = {{"generator", "parallax-cli sample"},
                             {"name", o.name},
                             {"description", sampleDescription(o.name)},
                             {"views", o.views},
                             {"width", o.width},
                             {"height", o.height},
                             {"seed", o.seed},
                             {"supersample", o.supersample},
                             {"units", "metres"},
                             {"bbox_diagonal", boundingBox(mesh).diagonal()},
                             {"mesh_faces", mesh.faces.size()},
                             {"gt_points", model.points3D.size()},
                             {"files",
                              {{"images", "images"},
                               {"sparse", "ground_truth/sparse"},
                               {"depth_maps", "ground_truth/depth_maps"},
                               {"mesh", "ground_truth/mesh.ply"}}}};
  if (!thin.faces.empty()) manifest["files"]["thin"] = "ground_truth/thin.ply";
  writeFileAtomic(outDir / kSampleManifest, manifest.dump(2) + "\n");
  report.progress(size_t(o.views) + 1, size_t(o.views) + 1, "done");
}

}  // namespace parallax
