#include "texture/textured_mesh_io.h"

#include <tiny_gltf.h>

#include <cstring>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "io/ply.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax {
namespace {

cv::Mat toBgr(const RgbImage& page) {
  cv::Mat m(page.height, page.width, CV_8UC3);
  for (int y = 0; y < page.height; ++y)
    for (int x = 0; x < page.width; ++x) {
      const uint8_t* p = page.rgb.data() + 3 * (size_t(y) * size_t(page.width) + size_t(x));
      m.at<cv::Vec3b>(y, x) = {p[2], p[1], p[0]};
    }
  return m;
}

std::vector<uint8_t> encodePng(const RgbImage& page) {
  std::vector<uint8_t> bytes;
  if (!cv::imencode(".png", toBgr(page), bytes)) throw Error("could not encode a texture page as PNG");
  return bytes;
}

std::string pageName(const fs::path& path, size_t i) {
  return path.stem().string() + "_" + std::to_string(i) + ".png";
}

void writePages(const fs::path& path, const TexturedMesh& mesh) {
  for (size_t i = 0; i < mesh.pages.size(); ++i) {
    const std::vector<uint8_t> png = encodePng(mesh.pages[i]);
    writeFileAtomic(path.parent_path() / pageName(path, i),
                    std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
  }
}

}  // namespace

RgbImage readRgbImage(const fs::path& path) {
  const cv::Mat bgr = cv::imread(path.string(), cv::IMREAD_COLOR);
  if (bgr.empty()) throw Error("cannot read the image '" + path.string() + "' (missing or damaged)");
  RgbImage page;
  page.width = bgr.cols;
  page.height = bgr.rows;
  page.rgb.resize(size_t(bgr.cols) * size_t(bgr.rows) * 3);
  for (int y = 0; y < bgr.rows; ++y)
    for (int x = 0; x < bgr.cols; ++x) {
      const cv::Vec3b c = bgr.at<cv::Vec3b>(y, x);
      uint8_t* p = page.rgb.data() + 3 * (size_t(y) * size_t(bgr.cols) + size_t(x));
      p[0] = c[2], p[1] = c[1], p[2] = c[0];
    }
  return page;
}

void writeRgbPng(const fs::path& path, const RgbImage& page) {
  const std::vector<uint8_t> png = encodePng(page);
  writeFileAtomic(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

void writeTexturedObj(const fs::path& path, const TexturedMesh& t) {
  const std::string stem = path.stem().string();
  std::ostringstream mtl;
  mtl << "# Parallax texture atlas\n";
  for (size_t i = 0; i < t.pages.size(); ++i)
    mtl << "newmtl page" << i << "\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nillum 1\nmap_Kd " << pageName(path, i) << "\n\n";
  writePages(path, t);
  writeFileAtomic(path.parent_path() / (stem + ".mtl"), mtl.str());
  std::string obj;
  obj.reserve(t.mesh.points.size() * 80 + t.mesh.faces.size() * 40);
  obj += "# Parallax textured mesh\nmtllib " + stem + ".mtl\n";
  char line[160];
  for (const auto& p : t.mesh.points) {
    std::snprintf(line, sizeof line, "v %.7g %.7g %.7g\n", p.x(), p.y(), p.z());
    obj += line;
  }
  for (const auto& uv : t.uv) {
    std::snprintf(line, sizeof line, "vt %.7g %.7g\n", uv.x(), 1.0f - uv.y());
    obj += line;
  }
  for (size_t page = 0; page < t.pages.size(); ++page) {
    obj += "usemtl page" + std::to_string(page) + "\n";
    for (size_t f = 0; f < t.mesh.faces.size(); ++f) {
      if (t.face_page[f] != int(page)) continue;
      const auto& v = t.mesh.faces[f];
      std::snprintf(line, sizeof line, "f %d/%d %d/%d %d/%d\n", v[0] + 1, v[0] + 1, v[1] + 1, v[1] + 1, v[2] + 1,
                    v[2] + 1);
      obj += line;
    }
  }
  writeFileAtomic(path, obj);
}

TexturedMesh readTexturedObj(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open the textured mesh '" + path.string() + "'");
  TexturedMesh t;
  std::vector<Eigen::Vector3f> v;
  std::vector<Eigen::Vector2f> vt;
  std::map<std::string, std::string> textureOf;  // material -> image file
  std::map<std::string, int> pageOf;              // image file -> page
  std::map<std::pair<int, int>, int> vertexOf;    // (v, vt) -> output vertex
  int page = -1;
  std::string line;
  size_t lineNo = 0;
  auto damaged = [&](const std::string& why) {
    return Error("the textured mesh '" + path.string() + "' is damaged at line " + std::to_string(lineNo) + " (" + why +
                 "); run the texture stage again");
  };
  while (std::getline(in, line)) {
    ++lineNo;
    std::istringstream s(line);
    std::string key;
    s >> key;
    if (key == "v") {
      Eigen::Vector3f p;
      if (!(s >> p.x() >> p.y() >> p.z())) throw damaged("a vertex without three numbers");
      v.push_back(p);
    } else if (key == "vt") {
      Eigen::Vector2f uv;
      if (!(s >> uv.x() >> uv.y())) throw damaged("a texture coordinate without two numbers");
      vt.push_back({uv.x(), 1.f - uv.y()});
    } else if (key == "mtllib") {
      std::string name;
      s >> name;
      std::ifstream m(path.parent_path() / name);
      if (!m) throw Error("the textured mesh's material file '" + (path.parent_path() / name).string() +
                          "' is missing; run the texture stage again");
      std::string ml, current;
      while (std::getline(m, ml)) {
        std::istringstream ms(ml);
        std::string mk;
        ms >> mk;
        if (mk == "newmtl") ms >> current;
        else if (mk == "map_Kd") ms >> textureOf[current];
      }
    } else if (key == "usemtl") {
      std::string name;
      s >> name;
      auto it = textureOf.find(name);
      if (it == textureOf.end()) throw damaged("material '" + name + "' has no texture");
      auto [pit, isNew] = pageOf.emplace(it->second, int(t.pages.size()));
      if (isNew) {
        const fs::path file = path.parent_path() / it->second;
        try {
          t.pages.push_back(readRgbImage(file));
        } catch (const Error&) {
          throw Error("the texture page '" + file.string() + "' is missing or damaged; run the texture stage again");
        }
      }
      page = pit->second;
    } else if (key == "f") {
      Eigen::Vector3i face;
      for (int k = 0; k < 3; ++k) {
        std::string corner;
        if (!(s >> corner)) throw damaged("a face with fewer than three corners");
        int vi = 0, ti = 0;
        if (std::sscanf(corner.c_str(), "%d/%d", &vi, &ti) != 2) throw damaged("a face corner without v/vt");
        if (vi < 1 || ti < 1 || size_t(vi) > v.size() || size_t(ti) > vt.size()) throw damaged("an index out of range");
        if (page < 0) throw damaged("a face before any usemtl");
        auto [it, isNew] = vertexOf.emplace(std::make_pair(vi, ti), int(t.mesh.points.size()));
        if (isNew) {
          t.mesh.points.push_back(v[size_t(vi - 1)]);
          t.uv.push_back(vt[size_t(ti - 1)]);
        }
        face[k] = it->second;
      }
      t.mesh.faces.push_back(face);
      t.face_page.push_back(page);
    }
  }
  if (t.mesh.faces.empty()) throw Error("the textured mesh '" + path.string() + "' has no faces; run the texture stage again");
  // Vertex colours: the texel under each vertex (for viewers that show colours only).
  t.mesh.colors.resize(t.mesh.points.size());
  for (size_t f = 0; f < t.mesh.faces.size(); ++f)
    for (int k = 0; k < 3; ++k) {
      const size_t i = size_t(t.mesh.faces[f][k]);
      const RgbImage& p = t.pages[size_t(t.face_page[f])];
      const int x = std::clamp(int(t.uv[i].x() * float(p.width)), 0, p.width - 1);
      const int y = std::clamp(int(t.uv[i].y() * float(p.height)), 0, p.height - 1);
      const uint8_t* c = p.rgb.data() + 3 * (size_t(y) * size_t(p.width) + size_t(x));
      t.mesh.colors[i] = {c[0], c[1], c[2]};
    }
  t.mesh.computeVertexNormals();
  return t;
}

void writeTexturedGlb(const fs::path& path, const TexturedMesh& t) {
  tinygltf::Model model;
  model.asset.version = "2.0";
  model.asset.generator = "Parallax";
  tinygltf::Buffer buffer;
  auto append = [&](const void* data, size_t bytes, int target) {
    while (buffer.data.size() % 4) buffer.data.push_back(0);
    tinygltf::BufferView view;
    view.buffer = 0;
    view.byteOffset = buffer.data.size();
    view.byteLength = bytes;
    if (target) view.target = target;
    const auto* p = static_cast<const uint8_t*>(data);
    buffer.data.insert(buffer.data.end(), p, p + bytes);
    model.bufferViews.push_back(view);
    return int(model.bufferViews.size() - 1);
  };
  tinygltf::Scene scene;
  for (size_t page = 0; page < t.pages.size(); ++page) {
    // This page's faces with their own compact vertex list.
    std::vector<int> local(t.mesh.points.size(), -1);
    std::vector<float> pos, uv;
    std::vector<uint32_t> idx;
    Eigen::Vector3f lo = Eigen::Vector3f::Constant(std::numeric_limits<float>::max()), hi = -lo;
    for (size_t f = 0; f < t.mesh.faces.size(); ++f) {
      if (t.face_page[f] != int(page)) continue;
      for (int k = 0; k < 3; ++k) {
        const size_t i = size_t(t.mesh.faces[f][k]);
        if (local[i] < 0) {
          local[i] = int(pos.size() / 3);
          const Eigen::Vector3f& p = t.mesh.points[i];
          pos.insert(pos.end(), {p.x(), p.y(), p.z()});
          uv.insert(uv.end(), {t.uv[i].x(), t.uv[i].y()});
          lo = lo.cwiseMin(p);
          hi = hi.cwiseMax(p);
        }
        idx.push_back(uint32_t(local[i]));
      }
    }
    if (idx.empty()) continue;
    auto accessor = [&](int view, int componentType, int type, size_t count) {
      tinygltf::Accessor a;
      a.bufferView = view;
      a.componentType = componentType;
      a.type = type;
      a.count = count;
      model.accessors.push_back(a);
      return int(model.accessors.size() - 1);
    };
    const int aPos = accessor(append(pos.data(), pos.size() * 4, TINYGLTF_TARGET_ARRAY_BUFFER),
                              TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_VEC3, pos.size() / 3);
    model.accessors[size_t(aPos)].minValues = {lo.x(), lo.y(), lo.z()};
    model.accessors[size_t(aPos)].maxValues = {hi.x(), hi.y(), hi.z()};
    const int aUv = accessor(append(uv.data(), uv.size() * 4, TINYGLTF_TARGET_ARRAY_BUFFER),
                             TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_VEC2, uv.size() / 2);
    const int aIdx = accessor(append(idx.data(), idx.size() * 4, TINYGLTF_TARGET_ELEMENT_ARRAY_BUFFER),
                              TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT, TINYGLTF_TYPE_SCALAR, idx.size());
    const std::vector<uint8_t> png = encodePng(t.pages[page]);
    tinygltf::Image image;
    image.mimeType = "image/png";
    image.bufferView = append(png.data(), png.size(), 0);
    model.images.push_back(image);
    tinygltf::Texture texture;
    texture.source = int(model.images.size() - 1);
    if (model.samplers.empty()) {
      tinygltf::Sampler sampler;
      sampler.magFilter = TINYGLTF_TEXTURE_FILTER_LINEAR;
      sampler.minFilter = TINYGLTF_TEXTURE_FILTER_LINEAR_MIPMAP_LINEAR;
      sampler.wrapS = sampler.wrapT = TINYGLTF_TEXTURE_WRAP_CLAMP_TO_EDGE;
      model.samplers.push_back(sampler);
    }
    texture.sampler = 0;
    model.textures.push_back(texture);
    tinygltf::Material material;
    material.name = "page" + std::to_string(page);
    material.pbrMetallicRoughness.baseColorTexture.index = int(model.textures.size() - 1);
    material.pbrMetallicRoughness.metallicFactor = 0.0;
    material.pbrMetallicRoughness.roughnessFactor = 1.0;
    material.doubleSided = true;  // open scans are seen from both sides
    model.materials.push_back(material);
    tinygltf::Primitive prim;
    prim.attributes["POSITION"] = aPos;
    prim.attributes["TEXCOORD_0"] = aUv;
    prim.indices = aIdx;
    prim.material = int(model.materials.size() - 1);
    prim.mode = TINYGLTF_MODE_TRIANGLES;
    tinygltf::Mesh mesh;
    mesh.name = "page" + std::to_string(page);
    mesh.primitives.push_back(prim);
    model.meshes.push_back(mesh);
    tinygltf::Node node;
    node.mesh = int(model.meshes.size() - 1);
    model.nodes.push_back(node);
    scene.nodes.push_back(int(model.nodes.size() - 1));
  }
  while (buffer.data.size() % 4) buffer.data.push_back(0);
  model.buffers.push_back(buffer);
  model.scenes.push_back(scene);
  model.defaultScene = 0;
  writeViaTemp(path, [&](const fs::path& tmp) {
    tinygltf::TinyGLTF writer;
    if (!writer.WriteGltfSceneToFile(&model, tmp.string(), true, true, false, true))
      throw Error("could not write '" + path.string() + "' (disk full or not writable?)");
  });
}

void writeTexturedPly(const fs::path& path, const TexturedMesh& t) {
  writePages(path, t);
  std::string header = "ply\nformat binary_little_endian 1.0\ncomment written by Parallax\n";
  for (size_t i = 0; i < t.pages.size(); ++i) header += "comment TextureFile " + pageName(path, i) + "\n";
  header += "element vertex " + std::to_string(t.mesh.points.size()) +
            "\nproperty float x\nproperty float y\nproperty float z\nproperty float s\nproperty float t\n"
            "element face " + std::to_string(t.mesh.faces.size()) +
            "\nproperty list uchar int vertex_indices\nproperty int texnumber\nend_header\n";
  std::string body;
  body.reserve(t.mesh.points.size() * 20 + t.mesh.faces.size() * 17);
  auto put = [&](const void* p, size_t n) { body.append(static_cast<const char*>(p), n); };
  for (size_t i = 0; i < t.mesh.points.size(); ++i) {
    // PLY's texture coordinates count t from the image's bottom, as OBJ's.
    const float v[5] = {t.mesh.points[i].x(), t.mesh.points[i].y(), t.mesh.points[i].z(), t.uv[i].x(),
                        1.f - t.uv[i].y()};
    put(v, sizeof v);
  }
  for (size_t f = 0; f < t.mesh.faces.size(); ++f) {
    const uint8_t n = 3;
    put(&n, 1);
    put(t.mesh.faces[f].data(), 12);
    const int32_t page = t.face_page[f];
    put(&page, 4);
  }
  writeFileAtomic(path, header + body);
}

}  // namespace parallax
