#include "io/mesh_io.h"

#include <set>

#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <unistd.h>

#include <assimp/Exporter.hpp>
#include <assimp/Importer.hpp>
#include <memory>

#include "io/ply.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax {

GeometryFormat geometryFormatFromName(const std::string& name) {
  if (name == "ply") return GeometryFormat::kPly;
  if (name == "obj") return GeometryFormat::kObj;
  if (name == "glb") return GeometryFormat::kGlb;
  if (name == "gltf") return GeometryFormat::kGltf;
  throw Error("unknown export format '" + name + "' (choose ply, obj, glb or gltf)");
}

std::string geometryFormatExtension(GeometryFormat format) {
  switch (format) {
    case GeometryFormat::kPly:
      return ".ply";
    case GeometryFormat::kObj:
      return ".obj";
    case GeometryFormat::kGlb:
      return ".glb";
    case GeometryFormat::kGltf:
      return ".gltf";
  }
  return "";
}

namespace {

// One aiMesh, owning a copy of the geometry.
aiMesh* toAssimpMesh(const TriangleMesh& g, const std::string& name) {
  auto* mesh = new aiMesh();
  mesh->mName = aiString(name);
  mesh->mMaterialIndex = 0;
  const unsigned n = unsigned(g.size());
  mesh->mNumVertices = n;
  mesh->mVertices = new aiVector3D[n];
  for (unsigned i = 0; i < n; ++i)
    mesh->mVertices[i] = aiVector3D(g.points[i].x(), g.points[i].y(), g.points[i].z());
  if (g.hasNormals()) {
    mesh->mNormals = new aiVector3D[n];
    for (unsigned i = 0; i < n; ++i) {
      Eigen::Vector3f v = g.normals[i];
      if (v.norm() > 0)
        v.normalize();
      else
        v = Eigen::Vector3f::UnitZ();
      mesh->mNormals[i] = aiVector3D(v.x(), v.y(), v.z());
    }
  }
  if (g.hasColors()) {
    mesh->mColors[0] = new aiColor4D[n];
    for (unsigned i = 0; i < n; ++i)
      mesh->mColors[0][i] =
          aiColor4D(g.colors[i][0] / 255.f, g.colors[i][1] / 255.f, g.colors[i][2] / 255.f, 1.f);
  }
  if (!g.faces.empty()) {
    mesh->mPrimitiveTypes = aiPrimitiveType_TRIANGLE;
    mesh->mNumFaces = unsigned(g.faces.size());
    mesh->mFaces = new aiFace[mesh->mNumFaces];
    for (unsigned f = 0; f < mesh->mNumFaces; ++f) {
      mesh->mFaces[f].mNumIndices = 3;
      mesh->mFaces[f].mIndices = new unsigned[3]{unsigned(g.faces[f][0]), unsigned(g.faces[f][1]),
                                                 unsigned(g.faces[f][2])};
    }
  } else {
    mesh->mPrimitiveTypes = aiPrimitiveType_POINT;
    mesh->mNumFaces = n;
    mesh->mFaces = new aiFace[n];
    for (unsigned i = 0; i < n; ++i) {
      mesh->mFaces[i].mNumIndices = 1;
      mesh->mFaces[i].mIndices = new unsigned[1]{i};
    }
  }
  return mesh;
}

// The part of `g` whose points (for a mesh: whose faces' first vertex) carry `label`,
// vertices renumbered.
TriangleMesh labelPart(const TriangleMesh& g, int32_t label) {
  std::vector<uint32_t> keep;
  std::vector<int32_t> index(g.size(), -1);
  TriangleMesh part;
  auto take = [&](size_t v) {
    if (index[v] < 0) {
      index[v] = int32_t(keep.size());
      keep.push_back(uint32_t(v));
    }
    return index[v];
  };
  if (g.faces.empty()) {
    for (size_t i = 0; i < g.size(); ++i)
      if (g.labels[i] == label) take(i);
  } else {
    for (const auto& f : g.faces)
      if (g.labels[size_t(f[0])] == label)
        part.faces.emplace_back(take(size_t(f[0])), take(size_t(f[1])), take(size_t(f[2])));
  }
  for (uint32_t v : keep) {
    part.points.push_back(g.points[v]);
    if (g.hasNormals()) part.normals.push_back(g.normals[v]);
    if (g.hasColors()) part.colors.push_back(g.colors[v]);
    part.labels.push_back(label);
  }
  return part;
}

// An aiScene owning copies of the geometry: one mesh, or with labels and their table,
// one mesh (a glTF primitive under its own node) per class, named after it.
std::unique_ptr<aiScene> toAssimpScene(const TriangleMesh& g, const LabelTable* table) {
  std::vector<aiMesh*> meshes;
  if (table && g.hasLabels()) {
    std::set<int32_t> present(g.labels.begin(), g.labels.end());
    for (int32_t label : present) {
      TriangleMesh part = labelPart(g, label);
      if (!part.points.empty()) meshes.push_back(toAssimpMesh(part, table->name(label)));
    }
  }
  if (meshes.empty()) meshes.push_back(toAssimpMesh(g, "parallax"));
  auto scene = std::make_unique<aiScene>();
  scene->mNumMaterials = 1;
  scene->mMaterials = new aiMaterial* [1] { new aiMaterial() };
  aiString matName("parallax-vertex-colour");
  scene->mMaterials[0]->AddProperty(&matName, AI_MATKEY_NAME);
  aiColor4D white(1, 1, 1, 1);
  scene->mMaterials[0]->AddProperty(&white, 1, AI_MATKEY_COLOR_DIFFUSE);
  scene->mNumMeshes = unsigned(meshes.size());
  scene->mMeshes = new aiMesh*[meshes.size()];
  std::copy(meshes.begin(), meshes.end(), scene->mMeshes);
  scene->mRootNode = new aiNode("parallax");
  if (meshes.size() == 1) {
    scene->mRootNode->mNumMeshes = 1;
    scene->mRootNode->mMeshes = new unsigned[1]{0};
  } else {
    scene->mRootNode->mNumChildren = unsigned(meshes.size());
    scene->mRootNode->mChildren = new aiNode*[meshes.size()];
    for (unsigned m = 0; m < meshes.size(); ++m) {
      auto* node = new aiNode(meshes[m]->mName.C_Str());
      node->mParent = scene->mRootNode;
      node->mNumMeshes = 1;
      node->mMeshes = new unsigned[1]{m};
      scene->mRootNode->mChildren[m] = node;
    }
  }
  return scene;
}

}  // namespace

void exportGeometry(const fs::path& path, const TriangleMesh& geometry, GeometryFormat format,
                    const LabelTable* labels) {
  if (geometry.points.empty())
    throw Error("nothing to export to '" + path.string() + "': the geometry is empty");
  if (format == GeometryFormat::kPly) {
    std::vector<std::string> comments;
    if (labels && geometry.hasLabels()) {
      comments.push_back("labels by " + labels->method + ": label id name (-1 unlabelled)");
      for (const LabelClass& c : labels->classes)
        comments.push_back("label " + std::to_string(c.id) + " " + c.name);
    }
    writePly(path, geometry, PlyFormat::kBinary, comments);
    return;
  }
  const char* formatId = format == GeometryFormat::kObj   ? "obj"
                         : format == GeometryFormat::kGlb ? "glb2"
                                                          : "gltf2";
  // Export into a private folder under the final name (OBJ names its .mtl after it),
  // then move every produced file into place.
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  fs::create_directories(dir);
  fs::path tmpDir = tempSiblingPath(dir / "export");
  fs::create_directories(tmpDir);
  try {
    auto scene = toAssimpScene(geometry, labels);
    Assimp::Exporter exporter;
    if (exporter.Export(scene.get(), formatId, (tmpDir / path.filename()).string()) != AI_SUCCESS)
      throw Error("could not write '" + path.string() + "': " + exporter.GetErrorString());
    for (const auto& entry : fs::directory_iterator(tmpDir))
      fs::rename(entry.path(), dir / entry.path().filename());
    fs::remove_all(tmpDir);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmpDir, ignored);
    throw;
  }
}

TriangleMesh readGeometry(const fs::path& path) {
  std::string ext = path.extension().string();
  for (auto& c : ext) c = char(std::tolower(c));
  if (ext == ".ply") return readPly(path);
  if (!fs::exists(path)) throw Error("'" + path.string() + "' does not exist");
  Assimp::Importer importer;
  const aiScene* scene = importer.ReadFile(path.string(), aiProcess_JoinIdenticalVertices);
  if (!scene || !scene->mNumMeshes)
    throw Error("could not read '" + path.string() + "': " + importer.GetErrorString());
  TriangleMesh out;
  for (unsigned m = 0; m < scene->mNumMeshes; ++m) {
    const aiMesh* mesh = scene->mMeshes[m];
    const int base = int(out.points.size());
    for (unsigned i = 0; i < mesh->mNumVertices; ++i) {
      out.points.emplace_back(mesh->mVertices[i].x, mesh->mVertices[i].y, mesh->mVertices[i].z);
      if (mesh->HasVertexColors(0)) {
        const aiColor4D& c = mesh->mColors[0][i];
        auto b = [](float v) { return uint8_t(std::clamp(v * 255.f + 0.5f, 0.f, 255.f)); };
        out.colors.push_back({b(c.r), b(c.g), b(c.b)});
      }
      if (mesh->HasNormals())
        out.normals.emplace_back(mesh->mNormals[i].x, mesh->mNormals[i].y, mesh->mNormals[i].z);
    }
    for (unsigned f = 0; f < mesh->mNumFaces; ++f)
      if (mesh->mFaces[f].mNumIndices == 3)
        out.faces.emplace_back(base + int(mesh->mFaces[f].mIndices[0]),
                               base + int(mesh->mFaces[f].mIndices[1]),
                               base + int(mesh->mFaces[f].mIndices[2]));
  }
  if (out.colors.size() != out.points.size()) out.colors.clear();
  if (out.normals.size() != out.points.size()) out.normals.clear();
  return out;
}

}  // namespace parallax
