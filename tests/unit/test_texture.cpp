// Textured meshes: the sample's true mesh textured from its photos renders them closely
// and without visible seams; an occluder painted into one photo stays out of the atlas;
// exposure differences are levelled and detail the photos disagree on cross-faded; faces no photo sees are grey and counted; too small
// a page is a clear error; the exports open in Assimp, tinygltf and Open3D with their
// textures, and the GLB passes the Khronos validator.

#include <QtTest>

#include <assimp/Importer.hpp>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <open3d/io/TriangleMeshIO.h>
#include <open3d/geometry/TriangleMesh.h>
#include <tiny_gltf.h>

#include <cmath>

#include "io/colmap_model.h"
#include "io/ply.h"
#include "texture/textured_mesh_io.h"
#include "texture/texturing.h"
#include "test_support.h"
#include "util/atomic_file.h"

using namespace parallax;
namespace fs = std::filesystem;

namespace {

struct Sample {
  TriangleMesh mesh;
  Reconstruction cameras;
  fs::path images;
};

Sample loadSample() {
  const fs::path dir = test::sampleDir();
  return {readPly(dir / "ground_truth" / "mesh.ply"), readColmapModel(dir / "ground_truth" / "sparse"),
          dir / "images"};
}

PhotoLoader loaderOf(const fs::path& images, const std::function<void(const std::string&, RgbImage&)>& alter = {}) {
  return [images, alter](const std::string& name) {
    RgbImage p = readRgbImage(images / name);
    if (alter) alter(name, p);
    return p;
  };
}

struct Scores {
  double psnr = 0, ssim = 0;
};
Scores meanScore(const TexturedMesh& t, const Sample& s) {
  Scores out;
  int n = 0;
  for (const auto& [id, im] : s.cameras.images) {
    const Rendering r = renderMesh(t, s.cameras.cameras.at(im.camera_id), im.cam_from_world);
    const ImageScore score = compareToPhoto(r, readRgbImage(s.images / im.name));
    out.psnr += score.psnr;
    out.ssim += score.ssim;
    ++n;
  }
  out.psnr /= n;
  out.ssim /= n;
  return out;
}

// Magenta pixels (the painted blob's colour) where the textured mesh is rendered from
// every photo's camera: what of the atlas shows on the mesh (a chart's rectangle also
// holds photo pixels beside its faces, which never show).
size_t magentaShown(const TexturedMesh& t, const Sample& s) {
  size_t n = 0;
  for (const auto& [id, im] : s.cameras.images) {
    const Rendering r = renderMesh(t, s.cameras.cameras.at(im.camera_id), im.cam_from_world);
    for (size_t i = 0; i < r.covered.size(); ++i)
      if (r.covered[i] && r.image.rgb[3 * i] > 200 && r.image.rgb[3 * i + 1] < 60 && r.image.rgb[3 * i + 2] > 200) ++n;
  }
  return n;
}

}  // namespace

class TestTexture : public QObject {
  Q_OBJECT
 private slots:
  void theTrueMeshTexturedRendersThePhotosCloselyWithoutSeams() {
    const Sample s = loadSample();
    TextureReport rep;
    const TexturedMesh t = textureMesh(s.mesh, s.cameras, loaderOf(s.images), {}, &rep);
    QCOMPARE(t.mesh.faces.size(), s.mesh.faces.size());
    QCOMPARE(t.uv.size(), t.mesh.points.size());
    QVERIFY(!t.pages.empty());
    for (const auto& uv : t.uv) QVERIFY(uv.x() >= 0 && uv.x() <= 1 && uv.y() >= 0 && uv.y() <= 1);
    // The sample's true mesh: only the ground beyond every photo is unseen.
    const double untextured = double(rep.untextured_faces) / double(rep.faces);
    TexturedMesh coloured;
    coloured.mesh = s.mesh;  // the true mesh's own vertex colours
    const Scores tex = meanScore(t, s), vertex = meanScore(coloured, s);
    const SeamSteps seams = seamSteps(t);
    qInfo("%zu faces, %zu charts, %zu pages, %.2f%% untextured, atlas %.0f%% used; PSNR textured %.2f dB "
          "(SSIM %.3f), true vertex colours %.2f dB (SSIM %.3f); colour step at chart borders %.2f, inside %.2f",
          rep.faces, rep.charts, t.pages.size(), 100 * untextured, 100 * rep.atlas_fill, tex.psnr, tex.ssim,
          vertex.psnr, vertex.ssim, seams.border, seams.interior);
    QVERIFY(untextured < 0.05);
    // Photo-sharp: far above colours interpolated over this coarse mesh's vertices.
    QVERIFY(tex.psnr > vertex.psnr + 3.0);
    QVERIFY(tex.psnr > 28.0);
    // Seams do not show: crossing a chart border changes the colour little more than
    // crossing an edge inside a chart.
    QVERIFY(seams.border_edges > 0);
    QVERIFY2(seams.border < seams.interior * 1.5 + 3.0, qPrintable(QString::number(seams.border)));
  }

  void anOccluderInOnePhotoDoesNotReachTheAtlas() {
    const Sample s = loadSample();
    // A bright blob painted over the middle of one photo (a passer-by).
    const std::string victim = s.cameras.images.begin()->second.name;
    size_t blob = 0;
    auto paint = [&](const std::string& name, RgbImage& p) {
      if (name != victim) return;
      blob = 0;
      for (int y = 0; y < p.height; ++y)
        for (int x = 0; x < p.width; ++x)
          if (std::hypot(x - p.width / 2.0, y - p.height / 2.0) < p.height / 6.0) {
            uint8_t* px = p.rgb.data() + 3 * (size_t(y) * p.width + x);
            px[0] = 255, px[1] = 0, px[2] = 255;
            ++blob;
          }
    };
    TextureOptions keep;
    keep.outlier_distance = 1.0;  // no rejection: what would reach the atlas
    keep.smoothness = 0.0;
    keep.level_seams = false;
    keep.seam_feather = 0;
    const TexturedMesh unchecked = textureMesh(s.mesh, s.cameras, loaderOf(s.images, paint), keep);
    const TexturedMesh checked = textureMesh(s.mesh, s.cameras, loaderOf(s.images, paint));
    const size_t shownUnchecked = magentaShown(unchecked, s), shown = magentaShown(checked, s);
    qInfo("blob of %zu pixels in one photo; magenta pixels in renderings from all %zu photos: %zu without the "
          "consistency check, %zu with it", blob, s.cameras.images.size(), shownUnchecked, shown);
    QVERIFY(shownUnchecked > blob / 4);  // the blob would show
    QVERIFY(shown < shownUnchecked / 100);
  }

  void exposureDifferencesAreLevelledAtSeams() {
    const Sample s = loadSample();
    // Every other photo 35% brighter: seams between them would show.
    int k = 0;
    std::map<std::string, bool> bright;
    for (const auto& [id, im] : s.cameras.images) bright[im.name] = (k++ % 2) == 0;
    auto expose = [&](const std::string& name, RgbImage& p) {
      if (!bright[name]) return;
      for (auto& c : p.rgb) c = uint8_t(std::min(255.0, c * 1.35));
    };
    TextureOptions off;
    off.level_seams = false;
    off.seam_feather = 0;
    const SeamSteps raw = seamSteps(textureMesh(s.mesh, s.cameras, loaderOf(s.images, expose), off));
    const SeamSteps levelled = seamSteps(textureMesh(s.mesh, s.cameras, loaderOf(s.images, expose)));
    qInfo("colour step at chart borders: %.2f without levelling, %.2f with (inside charts %.2f)", raw.border,
          levelled.border, levelled.interior);
    QVERIFY(levelled.border < raw.border * 0.8);
  }

  void seamsCrossFadeWhereTheMeshIsOffTheSurface() {
    Sample s = loadSample();
    // A reconstructed mesh is never exactly on the surface: here every vertex moved along
    // its normal by a smooth wave of about a hundredth of the scene, so that two photos
    // show different detail at the same mesh point, which no exposure gain evens out.
    s.mesh.computeVertexNormals();
    Eigen::Vector3f lo = s.mesh.points[0], hi = lo;
    for (const auto& p : s.mesh.points) lo = lo.cwiseMin(p), hi = hi.cwiseMax(p);
    const float amplitude = 0.01f * (hi - lo).norm(), wave = 40.f / (hi - lo).norm();
    for (size_t i = 0; i < s.mesh.points.size(); ++i) {
      const Eigen::Vector3f& p = s.mesh.points[i];
      s.mesh.points[i] += amplitude * std::sin(wave * p.x()) * std::cos(wave * p.z()) * s.mesh.normals[i];
    }
    TextureOptions hard;
    hard.seam_feather = 0;
    const TexturedMesh a = textureMesh(s.mesh, s.cameras, loaderOf(s.images), hard);
    const TexturedMesh b = textureMesh(s.mesh, s.cameras, loaderOf(s.images));
    const SeamSteps sa = seamSteps(a), sb = seamSteps(b);
    const Scores qa = meanScore(a, s), qb = meanScore(b, s);
    qInfo("mesh off the surface: colour step at chart borders %.2f with hard seams, %.2f cross-faded (inside "
          "charts %.2f, %.2f); PSNR %.2f, %.2f dB",
          sa.border, sb.border, sa.interior, sb.interior, qa.psnr, qb.psnr);
    // What shows of a seam is its step beyond the texture's own variation: a fifth less.
    QVERIFY(sb.border - sb.interior < 0.8 * (sa.border - sa.interior));
    QVERIFY2(sb.border < sb.interior * 1.5 + 3.0, qPrintable(QString::number(sb.border)));
    QVERIFY(qb.psnr > qa.psnr - 0.5);  // the cross-fade does not blur the texture away from seams
  }

  void masksKeepTheBackgroundOffTheObject() {
    const Sample s = loadSample();
    // Each photo's mask: its left half only.
    std::map<std::string, std::pair<int, int>> size;
    for (const auto& [id, im] : s.cameras.images) {
      const Camera& c = s.cameras.cameras.at(im.camera_id);
      size[im.name] = {int(c.width), int(c.height)};
    }
    auto masks = [&](const std::string& name) {
      const auto [w, h] = size.at(name);
      std::vector<uint8_t> m(size_t(w) * size_t(h), 0);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w / 2; ++x) m[size_t(y) * size_t(w) + size_t(x)] = 1;
      return m;
    };
    TextureReport rep;
    const TexturedMesh t = textureMesh(s.mesh, s.cameras, loaderOf(s.images), {}, &rep, {}, masks);
    std::vector<const Image*> byIndex;
    for (const auto& [id, im] : s.cameras.images) byIndex.push_back(&im);
    size_t textured = 0;
    for (size_t f = 0; f < t.mesh.faces.size(); ++f) {
      if (t.face_view[f] < 0) continue;
      ++textured;
      const Image& im = *byIndex[size_t(t.face_view[f])];
      const Camera& c = s.cameras.cameras.at(im.camera_id);
      Eigen::Vector3d centroid = Eigen::Vector3d::Zero();
      for (int k = 0; k < 3; ++k) centroid += t.mesh.points[size_t(t.mesh.faces[f][k])].cast<double>() / 3.0;
      const Eigen::Vector2d px = c.imgFromCam(im.cam_from_world * centroid);
      QVERIFY2(px.x() < c.width / 2.0 + 1.0, qPrintable(QString("face %1 textured from the masked-out half").arg(f)));
    }
    qInfo("%zu of %zu faces textured from inside the masks", textured, t.mesh.faces.size());
    QVERIFY(textured > t.mesh.faces.size() / 2);  // a ring of photos still covers most
  }

  void unseenFacesAreGreyAndCounted() {
    Sample s = loadSample();
    // A patch far below the ground, in no photo's view.
    const int base = int(s.mesh.points.size());
    for (const auto& p : {Eigen::Vector3f(0, 0, -50), Eigen::Vector3f(1, 0, -50), Eigen::Vector3f(0, 1, -50)}) {
      s.mesh.points.push_back(p);
      if (s.mesh.hasNormals()) s.mesh.normals.push_back({0, 0, 1});
      if (s.mesh.hasColors()) s.mesh.colors.push_back({0, 0, 0});
    }
    s.mesh.faces.push_back({base, base + 1, base + 2});
    TextureReport rep;
    const TexturedMesh t = textureMesh(s.mesh, s.cameras, loaderOf(s.images), {}, &rep);
    QVERIFY(rep.untextured_faces >= 1);
    const auto& f = t.mesh.faces.back();
    const RgbImage& page = t.pages[size_t(t.face_page.back())];
    const Eigen::Vector2f uv = t.uv[size_t(f[0])];
    const uint8_t* px = page.rgb.data() + 3 * (size_t(uv.y() * page.height) * page.width + size_t(uv.x() * page.width));
    QCOMPARE(int(px[0]), 128);
    QCOMPARE(int(px[1]), 128);
    QCOMPARE(int(px[2]), 128);
    // Read back (as evaluate-texture does), the fill still counts as no seam between photos.
    QTemporaryDir tmp;
    const fs::path obj = fs::path(tmp.path().toStdString()) / "m.obj";
    writeTexturedObj(obj, t);
    const SeamSteps here = seamSteps(t), back = seamSteps(readTexturedObj(obj));
    QCOMPARE(back.border_edges, here.border_edges);
    QVERIFY(std::abs(back.border - here.border) < 0.5);
  }

  void aPageTooSmallForAChartIsAClearError() {
    const Sample s = loadSample();
    TextureOptions o;
    o.page_size = 64;
    const QString error = test::errorOf([&] { textureMesh(s.mesh, s.cameras, loaderOf(s.images), o); });
    QVERIFY2(error.contains("does not fit an atlas page of 64") && error.contains("texture.page_size"),
             qPrintable(error));
  }

  void exportsOpenWithTheirTextures() {
    const Sample s = loadSample();
    const TexturedMesh t = textureMesh(s.mesh, s.cameras, loaderOf(s.images));
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeTexturedObj(dir / "m.obj", t);
    writeTexturedGlb(dir / "m.glb", t);
    writeTexturedPly(dir / "m.ply", t);
    // Our reader gets back what was written.
    const TexturedMesh back = readTexturedObj(dir / "m.obj");
    QCOMPARE(back.mesh.faces.size(), t.mesh.faces.size());
    QCOMPARE(back.pages.size(), t.pages.size());
    QCOMPARE(back.pages[0].rgb, t.pages[0].rgb);
    QVERIFY((back.uv[size_t(back.mesh.faces[7][1])] - t.uv[size_t(t.mesh.faces[7][1])]).norm() < 1e-5f);
    // Assimp: OBJ and GLB carry texture coordinates and a diffuse / base colour texture.
    for (const char* name : {"m.obj", "m.glb", "m.ply"}) {
      Assimp::Importer importer;
      const aiScene* scene = importer.ReadFile((dir / name).string(), aiProcess_Triangulate);
      QVERIFY2(scene && scene->mNumMeshes > 0, name);
      size_t faces = 0;
      for (unsigned i = 0; i < scene->mNumMeshes; ++i) {
        QVERIFY2(scene->mMeshes[i]->HasTextureCoords(0), name);
        faces += scene->mMeshes[i]->mNumFaces;
      }
      QCOMPARE(faces, t.mesh.faces.size());
      if (std::string(name) == "m.ply") continue;  // PLY names its pages in comments only
      const aiMaterial* m = scene->mMaterials[scene->mMeshes[0]->mMaterialIndex];
      QVERIFY2(m->GetTextureCount(aiTextureType_DIFFUSE) + m->GetTextureCount(aiTextureType_BASE_COLOR) > 0, name);
    }
    // tinygltf: the GLB's page is embedded and decodes to the atlas's size.
    tinygltf::TinyGLTF loader;
    tinygltf::Model model;
    std::string err, warn;
    QVERIFY2(loader.LoadBinaryFromFile(&model, &err, &warn, (dir / "m.glb").string()), err.c_str());
    QCOMPARE(model.images.size(), t.pages.size());
    QCOMPARE(model.images[0].width, t.pages[0].width);
    QCOMPARE(model.materials[0].pbrMetallicRoughness.baseColorTexture.index, 0);
    // Open3D: the OBJ and the GLB, each with its texture.
    for (const char* name : {"m.obj", "m.glb"}) {
      open3d::geometry::TriangleMesh o3d;
      QVERIFY2(open3d::io::ReadTriangleMesh((dir / name).string(), o3d), name);
      QCOMPARE(o3d.triangles_.size(), t.mesh.faces.size());
      QCOMPARE(o3d.triangle_uvs_.size(), 3 * t.mesh.faces.size());
      QVERIFY2(std::any_of(o3d.textures_.begin(), o3d.textures_.end(),
                           [&](const open3d::geometry::Image& i) { return i.width_ == t.pages[0].width; }),
               name);
    }
    // The Khronos validator: no errors.
    QString why;
    const auto report = test::validateGltf(dir / "m.glb", &why);
    if (!report) {
      if (test::underCI()) QFAIL(qPrintable(why));
      QSKIP(qPrintable(why));
    }
    QVERIFY2(report->errors == 0, qPrintable(report->text));
  }

  void aDamagedTexturedMeshNamesTheFileAndTheFix() {
    const Sample s = loadSample();
    const TexturedMesh t = textureMesh(s.mesh, s.cameras, loaderOf(s.images));
    QTemporaryDir tmp;
    const fs::path file = fs::path(tmp.path().toStdString()) / "mesh.obj";
    writeTexturedObj(file, t);
    std::string text = readFile(file);
    text.replace(text.find("\nf ") + 1, 1, "f 999999999/1");
    writeFileAtomic(file, text);
    const QString error = test::errorOf([&] { readTexturedObj(file); });
    QVERIFY2(error.contains("mesh.obj") && error.contains("damaged") && error.contains("texture stage"),
             qPrintable(error));
  }
};

QTEST_GUILESS_MAIN(TestTexture)
#include "test_texture.moc"
