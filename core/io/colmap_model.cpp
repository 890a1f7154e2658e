#include "io/colmap_model.h"

#include <cstring>
#include <sstream>

#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax {
namespace {

class BinReader {
 public:
  BinReader(std::string data, std::string file) : data_(std::move(data)), file_(std::move(file)) {}
  template <typename T>
  T get() {
    if (pos_ + sizeof(T) > data_.size())
      throw Error("'" + file_ + "' is truncated (ends at byte " + std::to_string(data_.size()) +
                  "); the model was not written completely — re-run the stage that made it");
    T v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string getString() {
    size_t end = data_.find('\0', pos_);
    if (end == std::string::npos) get<uint64_t>(), end = data_.size();  // throws truncated
    std::string s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  // Guards against absurd counts in a corrupt file before allocating for them.
  uint64_t count(size_t minBytesEach) {
    uint64_t n = get<uint64_t>();
    if (n > (data_.size() - pos_) / std::max<size_t>(minBytesEach, 1) + 1)
      throw Error("'" + file_ + "' is corrupt: it claims " + std::to_string(n) + " entries");
    return n;
  }

 private:
  std::string data_;
  std::string file_;
  size_t pos_ = 0;
};

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

void readBinary(const fs::path& dir, Reconstruction& model) {
  {
    BinReader r(readFile(dir / "cameras.bin"), (dir / "cameras.bin").string());
    for (uint64_t n = r.count(24), i = 0; i < n; ++i) {
      Camera c;
      c.camera_id = r.get<uint32_t>();
      c.model_id = r.get<int32_t>();
      c.width = int(r.get<uint64_t>());
      c.height = int(r.get<uint64_t>());
      c.params.resize(cameraModelById(c.model_id).num_params);
      for (double& p : c.params) p = r.get<double>();
      model.cameras[c.camera_id] = c;
    }
  }
  {
    BinReader r(readFile(dir / "images.bin"), (dir / "images.bin").string());
    for (uint64_t n = r.count(64), i = 0; i < n; ++i) {
      Image im;
      im.image_id = r.get<uint32_t>();
      double q[4], t[3];
      for (double& v : q) v = r.get<double>();
      for (double& v : t) v = r.get<double>();
      im.cam_from_world = Rigid3d(Eigen::Quaterniond(q[0], q[1], q[2], q[3]), {t[0], t[1], t[2]});
      im.camera_id = r.get<uint32_t>();
      im.name = r.getString();
      im.points2D.resize(r.count(24));
      for (auto& p : im.points2D) {
        p.xy.x() = r.get<double>();
        p.xy.y() = r.get<double>();
        p.point3D_id = r.get<uint64_t>();
      }
      model.images[im.image_id] = std::move(im);
    }
  }
  {
    BinReader r(readFile(dir / "points3D.bin"), (dir / "points3D.bin").string());
    for (uint64_t n = r.count(43), i = 0; i < n; ++i) {
      uint64_t id = r.get<uint64_t>();
      Point3D p;
      for (int k = 0; k < 3; ++k) p.xyz[k] = r.get<double>();
      for (int k = 0; k < 3; ++k) p.color[k] = r.get<uint8_t>();
      p.error = r.get<double>();
      p.track.resize(r.count(8));
      for (auto& el : p.track) {
        el.image_id = r.get<uint32_t>();
        el.point2D_idx = r.get<uint32_t>();
      }
      model.points3D[id] = std::move(p);
    }
  }
}

std::istringstream dataLines(const fs::path& path) {
  std::string text = readFile(path), cleaned;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] == '#') continue;
    cleaned += line + "\n";
  }
  return std::istringstream(cleaned);
}

[[noreturn]] void badLine(const fs::path& path, const std::string& line) {
  throw Error("'" + path.string() + "' has a malformed line: '" + line.substr(0, 80) + "'");
}

void readText(const fs::path& dir, Reconstruction& model) {
  std::string line;
  {
    auto in = dataLines(dir / "cameras.txt");
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      std::istringstream ls(line);
      Camera c;
      std::string modelName;
      if (!(ls >> c.camera_id >> modelName >> c.width >> c.height))
        badLine(dir / "cameras.txt", line);
      c.model_id = cameraModelByName(modelName).id;
      c.params.resize(cameraModelByName(modelName).num_params);
      for (double& p : c.params)
        if (!(ls >> p)) badLine(dir / "cameras.txt", line);
      model.cameras[c.camera_id] = c;
    }
  }
  {
    auto in = dataLines(dir / "images.txt");
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      std::istringstream ls(line);
      Image im;
      double q[4], t[3];
      if (!(ls >> im.image_id >> q[0] >> q[1] >> q[2] >> q[3] >> t[0] >> t[1] >> t[2] >>
            im.camera_id))
        badLine(dir / "images.txt", line);
      // The name is the rest of the line, so photo names with spaces survive.
      std::getline(ls >> std::ws, im.name);
      while (!im.name.empty() && std::isspace(static_cast<unsigned char>(im.name.back())))
        im.name.pop_back();
      if (im.name.empty()) badLine(dir / "images.txt", line);
      im.cam_from_world = Rigid3d(Eigen::Quaterniond(q[0], q[1], q[2], q[3]), {t[0], t[1], t[2]});
      std::string points;
      std::getline(in, points);  // may be empty
      std::istringstream ps(points);
      Point2D p;
      long long id;
      while (ps >> p.xy.x() >> p.xy.y() >> id) {
        p.point3D_id = id < 0 ? kInvalidPoint3DId : uint64_t(id);
        im.points2D.push_back(p);
      }
      model.images[im.image_id] = std::move(im);
    }
  }
  {
    auto in = dataLines(dir / "points3D.txt");
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      std::istringstream ls(line);
      uint64_t id;
      Point3D p;
      int rgb[3];
      if (!(ls >> id >> p.xyz[0] >> p.xyz[1] >> p.xyz[2] >> rgb[0] >> rgb[1] >> rgb[2] >> p.error))
        badLine(dir / "points3D.txt", line);
      for (int k = 0; k < 3; ++k) p.color[k] = uint8_t(rgb[k]);
      TrackElement el;
      while (ls >> el.image_id >> el.point2D_idx) p.track.push_back(el);
      model.points3D[id] = std::move(p);
    }
  }
}

}  // namespace

bool hasColmapModel(const fs::path& dir) {
  for (const char* ext : {".bin", ".txt"})
    if (fs::exists(dir / (std::string("cameras") + ext)) &&
        fs::exists(dir / (std::string("images") + ext)) &&
        fs::exists(dir / (std::string("points3D") + ext)))
      return true;
  return false;
}

Reconstruction readColmapModel(const fs::path& dir) {
  Reconstruction model;
  bool bin = fs::exists(dir / "cameras.bin") && fs::exists(dir / "images.bin") &&
             fs::exists(dir / "points3D.bin");
  bool txt = fs::exists(dir / "cameras.txt") && fs::exists(dir / "images.txt") &&
             fs::exists(dir / "points3D.txt");
  if (!bin && !txt)
    throw Error("'" + dir.string() +
                "' holds no COLMAP model (expected cameras, images and points3D as .bin or .txt)");
  if (bin)
    readBinary(dir, model);
  else
    readText(dir, model);
  model.checkConsistency();
  return model;
}

void writeColmapModel(const fs::path& dir, const Reconstruction& model, ModelFormat format) {
  fs::create_directories(dir);
  if (format == ModelFormat::kBinary) {
    std::string cams, ims, pts;
    put<uint64_t>(cams, model.cameras.size());
    for (const auto& [id, c] : model.cameras) {
      put<uint32_t>(cams, id);
      put<int32_t>(cams, c.model_id);
      put<uint64_t>(cams, uint64_t(c.width));
      put<uint64_t>(cams, uint64_t(c.height));
      for (double p : c.params) put<double>(cams, p);
    }
    put<uint64_t>(ims, model.images.size());
    for (const auto& [id, im] : model.images) {
      put<uint32_t>(ims, id);
      const auto& q = im.cam_from_world.rotation;
      for (double v : {q.w(), q.x(), q.y(), q.z()}) put<double>(ims, v);
      for (int k = 0; k < 3; ++k) put<double>(ims, im.cam_from_world.translation[k]);
      put<uint32_t>(ims, im.camera_id);
      ims.append(im.name);
      ims.push_back('\0');
      put<uint64_t>(ims, im.points2D.size());
      for (const auto& p : im.points2D) {
        put<double>(ims, p.xy.x());
        put<double>(ims, p.xy.y());
        put<uint64_t>(ims, p.point3D_id);
      }
    }
    put<uint64_t>(pts, model.points3D.size());
    for (const auto& [id, p] : model.points3D) {
      put<uint64_t>(pts, id);
      for (int k = 0; k < 3; ++k) put<double>(pts, p.xyz[k]);
      for (int k = 0; k < 3; ++k) put<uint8_t>(pts, p.color[k]);
      put<double>(pts, p.error);
      put<uint64_t>(pts, p.track.size());
      for (const auto& el : p.track) {
        put<uint32_t>(pts, el.image_id);
        put<uint32_t>(pts, el.point2D_idx);
      }
    }
    writeFileAtomic(dir / "cameras.bin", cams);
    writeFileAtomic(dir / "images.bin", ims);
    writeFileAtomic(dir / "points3D.bin", pts);
    return;
  }
  std::ostringstream cams, ims, pts;
  cams.precision(17);
  ims.precision(17);
  pts.precision(17);
  cams << "# Camera list with one line of data per camera:\n"
       << "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n# Number of cameras: "
       << model.cameras.size() << "\n";
  for (const auto& [id, c] : model.cameras) {
    cams << id << ' ' << c.modelName() << ' ' << c.width << ' ' << c.height;
    for (double p : c.params) cams << ' ' << p;
    cams << '\n';
  }
  ims << "# Image list with two lines of data per image:\n"
      << "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
      << "#   POINTS2D[] as (X, Y, POINT3D_ID)\n# Number of images: " << model.images.size()
      << "\n";
  for (const auto& [id, im] : model.images) {
    const auto& q = im.cam_from_world.rotation;
    const auto& t = im.cam_from_world.translation;
    ims << id << ' ' << q.w() << ' ' << q.x() << ' ' << q.y() << ' ' << q.z() << ' ' << t.x() << ' '
        << t.y() << ' ' << t.z() << ' ' << im.camera_id << ' ' << im.name << '\n';
    for (size_t i = 0; i < im.points2D.size(); ++i) {
      const auto& p = im.points2D[i];
      ims << (i ? " " : "") << p.xy.x() << ' ' << p.xy.y() << ' '
          << (p.point3D_id == kInvalidPoint3DId ? -1LL : (long long)p.point3D_id);
    }
    ims << '\n';
  }
  pts << "# 3D point list with one line of data per point:\n"
      << "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n"
      << "# Number of points: " << model.points3D.size() << "\n";
  for (const auto& [id, p] : model.points3D) {
    pts << id << ' ' << p.xyz.x() << ' ' << p.xyz.y() << ' ' << p.xyz.z() << ' ' << int(p.color[0])
        << ' ' << int(p.color[1]) << ' ' << int(p.color[2]) << ' ' << p.error;
    for (const auto& el : p.track) pts << ' ' << el.image_id << ' ' << el.point2D_idx;
    pts << '\n';
  }
  writeFileAtomic(dir / "cameras.txt", cams.str());
  writeFileAtomic(dir / "images.txt", ims.str());
  writeFileAtomic(dir / "points3D.txt", pts.str());
}

}  // namespace parallax
