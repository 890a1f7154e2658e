#include "io/ply.h"

#include <cstring>
#include <sstream>

#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax {
namespace {

enum class Type { kInt8, kUInt8, kInt16, kUInt16, kInt32, kUInt32, kFloat32, kFloat64 };

Type parseType(const std::string& name, const std::string& file) {
  if (name == "char" || name == "int8") return Type::kInt8;
  if (name == "uchar" || name == "uint8") return Type::kUInt8;
  if (name == "short" || name == "int16") return Type::kInt16;
  if (name == "ushort" || name == "uint16") return Type::kUInt16;
  if (name == "int" || name == "int32") return Type::kInt32;
  if (name == "uint" || name == "uint32") return Type::kUInt32;
  if (name == "float" || name == "float32") return Type::kFloat32;
  if (name == "double" || name == "float64") return Type::kFloat64;
  throw Error("'" + file + "' is not a valid PLY file: unknown property type '" + name + "'");
}

size_t typeSize(Type t) {
  switch (t) {
    case Type::kInt8:
    case Type::kUInt8:
      return 1;
    case Type::kInt16:
    case Type::kUInt16:
      return 2;
    case Type::kInt32:
    case Type::kUInt32:
    case Type::kFloat32:
      return 4;
    case Type::kFloat64:
      return 8;
  }
  return 0;
}

struct Property {
  std::string name;
  Type type = Type::kFloat32;
  bool isList = false;
  Type countType = Type::kUInt8;
};

struct Element {
  std::string name;
  size_t count = 0;
  std::vector<Property> properties;
};

// Reads values from the body in the declared encoding, with bounds checks that
// turn a truncated file into a clear error.
class BodyReader {
 public:
  BodyReader(const std::string& data, size_t offset, int format, std::string file)
      : data_(data), pos_(offset), format_(format), file_(std::move(file)) {
    if (format_ == 0) ascii_.str(data_.substr(offset));
  }

  // `element` and `row` only name the place in an error message.
  double read(Type t, const std::string& element, size_t row, size_t count) {
    auto where = [&] {
      return element + " " + std::to_string(row) + " of " + std::to_string(count);
    };
    if (format_ == 0) {
      double v;
      if (!(ascii_ >> v)) throw truncated(where());
      return v;
    }
    size_t n = typeSize(t);
    if (pos_ + n > data_.size()) throw truncated(where());
    unsigned char buf[8];
    std::memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    if (format_ == 2) std::reverse(buf, buf + n);
    switch (t) {
      case Type::kInt8: {
        int8_t v;
        std::memcpy(&v, buf, 1);
        return v;
      }
      case Type::kUInt8:
        return buf[0];
      case Type::kInt16: {
        int16_t v;
        std::memcpy(&v, buf, 2);
        return v;
      }
      case Type::kUInt16: {
        uint16_t v;
        std::memcpy(&v, buf, 2);
        return v;
      }
      case Type::kInt32: {
        int32_t v;
        std::memcpy(&v, buf, 4);
        return v;
      }
      case Type::kUInt32: {
        uint32_t v;
        std::memcpy(&v, buf, 4);
        return v;
      }
      case Type::kFloat32: {
        float v;
        std::memcpy(&v, buf, 4);
        return v;
      }
      case Type::kFloat64: {
        double v;
        std::memcpy(&v, buf, 8);
        return v;
      }
    }
    return 0;
  }

 private:
  Error truncated(const std::string& where) const {
    return Error("'" + file_ + "' is truncated or corrupt: the data ends inside " + where +
                 "; re-export or re-download the file");
  }
  const std::string& data_;
  size_t pos_;
  int format_;  // 0 ascii, 1 binary LE, 2 binary BE
  std::string file_;
  std::istringstream ascii_;
};

int propertyIndex(const Element& e, std::initializer_list<const char*> names) {
  for (const char* n : names)
    for (size_t i = 0; i < e.properties.size(); ++i)
      if (e.properties[i].name == n) return int(i);
  return -1;
}

}  // namespace

TriangleMesh readPly(const fs::path& path) {
  const std::string file = path.string();
  std::string data = readFile(path);
  if (data.empty()) throw Error("'" + file + "' is empty (0 bytes); it is not a PLY file");
  if (data.compare(0, 3, "ply") != 0)
    throw Error("'" + file + "' is not a PLY file (it does not start with 'ply')");
  size_t headerEnd = data.find("end_header");
  if (headerEnd == std::string::npos)
    throw Error("'" + file + "' is truncated: its PLY header has no 'end_header'");
  size_t bodyStart = data.find('\n', headerEnd);
  if (bodyStart == std::string::npos)
    bodyStart = data.size();
  else
    ++bodyStart;

  std::istringstream header(data.substr(0, headerEnd));
  std::string line;
  int format = -1;
  std::vector<Element> elements;
  while (std::getline(header, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream ls(line);
    std::string word;
    ls >> word;
    if (word == "format") {
      std::string f;
      ls >> f;
      format = f == "ascii"                  ? 0
               : f == "binary_little_endian" ? 1
               : f == "binary_big_endian"    ? 2
                                             : -1;
      if (format < 0) throw Error("'" + file + "' has an unknown PLY format '" + f + "'");
    } else if (word == "element") {
      Element e;
      long long count = -1;
      ls >> e.name >> count;
      if (count < 0) throw Error("'" + file + "' has a malformed PLY line: '" + line + "'");
      e.count = size_t(count);
      elements.push_back(e);
    } else if (word == "property") {
      if (elements.empty()) throw Error("'" + file + "': PLY property before any element");
      Property p;
      std::string t;
      ls >> t;
      if (t == "list") {
        std::string ct, it;
        ls >> ct >> it >> p.name;
        p.isList = true;
        p.countType = parseType(ct, file);
        p.type = parseType(it, file);
      } else {
        p.type = parseType(t, file);
        ls >> p.name;
      }
      elements.back().properties.push_back(p);
    }
  }
  if (format < 0) throw Error("'" + file + "' has no PLY 'format' line");

  TriangleMesh mesh;
  BodyReader body(data, bodyStart, format, file);
  for (const Element& e : elements) {
    const bool isVertex = e.name == "vertex";
    const bool isFace = e.name == "face";
    int ix = propertyIndex(e, {"x"}), iy = propertyIndex(e, {"y"}), iz = propertyIndex(e, {"z"});
    int inx = propertyIndex(e, {"nx"}), iny = propertyIndex(e, {"ny"}),
        inz = propertyIndex(e, {"nz"});
    int ir = propertyIndex(e, {"red", "r", "diffuse_red"});
    int ig = propertyIndex(e, {"green", "g", "diffuse_green"});
    int ib = propertyIndex(e, {"blue", "b", "diffuse_blue"});
    int il = propertyIndex(e, {"label", "class"});
    int iface = propertyIndex(e, {"vertex_indices", "vertex_index"});
    if (isVertex && (ix < 0 || iy < 0 || iz < 0))
      throw Error("'" + file + "': PLY vertices lack x, y or z");
    const bool colorIsFloat = ir >= 0 && (e.properties[ir].type == Type::kFloat32 ||
                                          e.properties[ir].type == Type::kFloat64);
    if (isVertex) {
      mesh.points.resize(e.count);
      if (inx >= 0 && iny >= 0 && inz >= 0) mesh.normals.resize(e.count);
      if (ir >= 0 && ig >= 0 && ib >= 0) mesh.colors.resize(e.count);
      if (il >= 0) mesh.labels.resize(e.count);
    }
    std::vector<double> values(e.properties.size());
    for (size_t row = 0; row < e.count; ++row) {
      std::vector<int> list;
      for (size_t k = 0; k < e.properties.size(); ++k) {
        const Property& p = e.properties[k];
        if (p.isList) {
          double n = body.read(p.countType, e.name, row, e.count);
          if (n < 0 || n > 1e6)
            throw Error("'" + file + "' is corrupt: a list of " + std::to_string(n) + " items in " +
                        e.name + " " + std::to_string(row));
          list.clear();
          for (int j = 0; j < int(n); ++j)
            list.push_back(int(body.read(p.type, e.name, row, e.count)));
          if (isFace && int(k) != iface) list.clear();
        } else {
          values[k] = body.read(p.type, e.name, row, e.count);
        }
      }
      if (isVertex) {
        mesh.points[row] = Eigen::Vector3f(float(values[ix]), float(values[iy]), float(values[iz]));
        if (!mesh.normals.empty())
          mesh.normals[row] =
              Eigen::Vector3f(float(values[inx]), float(values[iny]), float(values[inz]));
        if (!mesh.colors.empty()) {
          auto c = [&](int i) {
            double v = colorIsFloat ? values[i] * 255.0 : values[i];
            return uint8_t(std::clamp(v, 0.0, 255.0));
          };
          mesh.colors[row] = {c(ir), c(ig), c(ib)};
        }
        if (!mesh.labels.empty()) mesh.labels[row] = int32_t(values[il]);
      } else if (isFace && iface >= 0) {
        for (size_t j = 2; j < list.size(); ++j) {
          Eigen::Vector3i f(list[0], list[j - 1], list[j]);
          for (int v = 0; v < 3; ++v)
            if (f[v] < 0 || size_t(f[v]) >= mesh.points.size())
              throw Error("'" + file + "' is corrupt: face " + std::to_string(row) +
                          " refers to vertex " + std::to_string(f[v]) + " of " +
                          std::to_string(mesh.points.size()));
          mesh.faces.push_back(f);
        }
      }
    }
  }
  return mesh;
}

namespace {

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

std::string encodePly(const PointCloud& cloud, const std::vector<Eigen::Vector3i>* faces,
                      PlyFormat format, const std::vector<std::string>& comments) {
  const bool binary = format == PlyFormat::kBinary;
  std::ostringstream h;
  h << "ply\nformat " << (binary ? "binary_little_endian" : "ascii") << " 1.0\n"
    << "comment written by Parallax\n";
  for (const std::string& c : comments) h << "comment " << c << "\n";
  h << "element vertex " << cloud.size() << "\n"
    << "property float x\nproperty float y\nproperty float z\n";
  if (cloud.hasNormals()) h << "property float nx\nproperty float ny\nproperty float nz\n";
  if (cloud.hasColors()) h << "property uchar red\nproperty uchar green\nproperty uchar blue\n";
  if (cloud.hasLabels()) h << "property int label\n";
  size_t faceCount = faces ? faces->size() : 0;
  if (faces && faceCount)
    h << "element face " << faceCount << "\nproperty list uchar int vertex_indices\n";
  h << "end_header\n";
  std::string out = h.str();
  std::ostringstream ascii;
  ascii.precision(9);
  for (size_t i = 0; i < cloud.size(); ++i) {
    const auto& p = cloud.points[i];
    if (binary) {
      for (int k = 0; k < 3; ++k) put<float>(out, p[k]);
      if (cloud.hasNormals())
        for (int k = 0; k < 3; ++k) put<float>(out, cloud.normals[i][k]);
      if (cloud.hasColors())
        for (int k = 0; k < 3; ++k) put<uint8_t>(out, cloud.colors[i][k]);
      if (cloud.hasLabels()) put<int32_t>(out, cloud.labels[i]);
    } else {
      ascii << p.x() << ' ' << p.y() << ' ' << p.z();
      if (cloud.hasNormals())
        ascii << ' ' << cloud.normals[i].x() << ' ' << cloud.normals[i].y() << ' '
              << cloud.normals[i].z();
      if (cloud.hasColors())
        ascii << ' ' << int(cloud.colors[i][0]) << ' ' << int(cloud.colors[i][1]) << ' '
              << int(cloud.colors[i][2]);
      if (cloud.hasLabels()) ascii << ' ' << cloud.labels[i];
      ascii << '\n';
    }
  }
  for (size_t i = 0; i < faceCount; ++i) {
    const auto& f = (*faces)[i];
    if (binary) {
      put<uint8_t>(out, 3);
      for (int k = 0; k < 3; ++k) put<int32_t>(out, f[k]);
    } else {
      ascii << "3 " << f[0] << ' ' << f[1] << ' ' << f[2] << '\n';
    }
  }
  if (!binary) out += ascii.str();
  return out;
}

void checkAttributes(const PointCloud& c) {
  auto ok = [&](size_t n) { return n == 0 || n == c.size(); };
  if (!ok(c.normals.size()) || !ok(c.colors.size()) || !ok(c.labels.size()))
    throw Error("internal error: point attributes do not match the point count");
}

}  // namespace

void writePly(const fs::path& path, const TriangleMesh& mesh, PlyFormat format,
              const std::vector<std::string>& comments) {
  checkAttributes(mesh);
  writeFileAtomic(path, encodePly(mesh, &mesh.faces, format, comments));
}

void writePly(const fs::path& path, const PointCloud& cloud, PlyFormat format,
              const std::vector<std::string>& comments) {
  checkAttributes(cloud);
  writeFileAtomic(path, encodePly(cloud, nullptr, format, comments));
}

}  // namespace parallax
