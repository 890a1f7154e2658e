// io/: PLY, COLMAP model and OBJ/GLB export round trips, and every malformed input.
#include <QtTest>
#include <fstream>

#include "geometry/camera.h"
#include "io/colmap_model.h"
#include "io/mesh_io.h"
#include "io/ply.h"
#include "scene/geometry_data.h"
#include "test_support.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace parallax;

namespace {

TriangleMesh makeMesh(bool faces, bool labels) {
  TriangleMesh m;
  for (int i = 0; i < 50; ++i) {
    m.points.emplace_back(float(i % 10), float(i / 10), float(i % 7) * 0.25f);
    m.colors.push_back({uint8_t(i * 5), uint8_t(255 - i), uint8_t(i * 3)});
    if (labels) m.labels.push_back(i % 4);
  }
  if (faces)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 9; ++i) {
        int v = j * 10 + i;
        m.faces.emplace_back(v, v + 1, v + 11);
        m.faces.emplace_back(v, v + 11, v + 10);
      }
  if (faces) m.computeVertexNormals();
  return m;
}

Reconstruction makeModel() {
  Reconstruction r;
  Camera c = Camera::simpleRadial(640, 480, 500, 320, 240, 0.01);
  c.camera_id = 3;
  r.cameras[3] = c;
  for (uint32_t id : {1u, 2u}) {
    Image im;
    im.image_id = id;
    im.camera_id = 3;
    im.name = "dir/img " + std::to_string(id) + ".jpg";
    im.cam_from_world = lookAtCamFromWorld({double(id), -3, 1}, {0, 0, 0}, {0, 0, 1});
    im.points2D.push_back({{10.5 * id, 20.25}, 7});
    im.points2D.push_back({{1, 2}, kInvalidPoint3DId});
    r.images[id] = im;
  }
  Point3D p;
  p.xyz = {0.1, 0.2, 0.3};
  p.color = {1, 2, 3};
  p.error = 0.5;
  p.track = {{1, 0}, {2, 0}};
  r.points3D[7] = p;
  return r;
}

}  // namespace

class TestGeometryIo : public QObject {
  Q_OBJECT
 private slots:
  void robustBoxIgnoresAFewFarOffPoints() {
    // 1000 points in the unit cube and 5 stray triangulations 1000 units away: the
    // viewport frames the cube, not the strays.
    std::vector<Eigen::Vector3f> pts;
    for (int i = 0; i < 1000; ++i)
      pts.emplace_back(float(i % 10) / 9.f, float(i / 10 % 10) / 9.f, float(i / 100) / 9.f);
    for (int i = 0; i < 5; ++i) pts.emplace_back(1000.f + float(i), -1000.f, 500.f);
    const BoundingBox box = robustBoundingBox(pts);
    for (int k = 0; k < 3; ++k) {
      QVERIFY(box.min[k] > -0.2f && box.min[k] <= 0.f);
      QVERIFY(box.max[k] < 1.2f && box.max[k] >= 1.f);
    }
    QVERIFY(robustBoundingBox({}).min.x() > robustBoundingBox({}).max.x());  // empty
    const BoundingBox one = robustBoundingBox({Eigen::Vector3f(1, 2, 3)});
    QVERIFY(one.min.isApprox(Eigen::Vector3f(1, 2, 3)) && one.max.isApprox(one.min));
  }

  void plyRoundTrip_data() {
    QTest::addColumn<bool>("binary");
    QTest::addColumn<bool>("faces");
    QTest::newRow("binary mesh") << true << true;
    QTest::newRow("ascii mesh") << false << true;
    QTest::newRow("binary cloud") << true << false;
    QTest::newRow("ascii cloud") << false << false;
  }
  void plyRoundTrip() {
    QFETCH(bool, binary);
    QFETCH(bool, faces);
    QTemporaryDir tmp;
    TriangleMesh m = makeMesh(faces, true);
    fs::path f = test::tempPath(tmp, "m.ply");
    writePly(f, m, binary ? PlyFormat::kBinary : PlyFormat::kAscii);
    TriangleMesh r = readPly(f);
    QCOMPARE(r.points.size(), m.points.size());
    QCOMPARE(r.faces.size(), m.faces.size());
    QCOMPARE(r.labels, m.labels);
    QCOMPARE(r.colors, m.colors);
    QCOMPARE(r.hasNormals(), faces);
    for (size_t i = 0; i < m.points.size(); ++i)
      QVERIFY((r.points[i] - m.points[i]).norm() < 1e-5f);
  }

  void plyTruncatedIsAnErrorNamingTheFile() {
    QTemporaryDir tmp;
    fs::path f = test::tempPath(tmp, "t.ply");
    writePly(f, makeMesh(true, false));
    std::string data = readFile(f);
    writeFileAtomic(f, data.substr(0, data.size() - 100));
    QString msg = test::errorOf([&] { readPly(f); });
    QVERIFY2(msg.contains("truncated") && msg.contains("t.ply"), qPrintable(msg));
    writeFileAtomic(f, data.substr(0, 40));  // inside the header
    msg = test::errorOf([&] { readPly(f); });
    QVERIFY2(msg.contains("end_header"), qPrintable(msg));
  }

  void plyBadInputs() {
    QTemporaryDir tmp;
    fs::path f = test::tempPath(tmp, "bad.ply");
    writeFileAtomic(f, "");
    QVERIFY(test::errorOf([&] { readPly(f); }).contains("empty"));
    writeFileAtomic(f, "hello world, not a ply");
    QVERIFY(test::errorOf([&] { readPly(f); }).contains("not a PLY"));
    writeFileAtomic(
        f,
        "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty "
        "float z\n"
        "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n3 0 1 2\n");
    QVERIFY(test::errorOf([&] { readPly(f); }).contains("refers to vertex"));
    QVERIFY(test::errorOf([&] {
              readPly(test::tempPath(tmp, "missing.ply"));
            }).contains("no such file"));
  }

  void plyReadsFloatColoursAndBigEndian() {
    QTemporaryDir tmp;
    fs::path f = test::tempPath(tmp, "be.ply");
    std::string body;
    auto putBE = [&](float v) {
      uint32_t u;
      std::memcpy(&u, &v, 4);
      for (int s = 24; s >= 0; s -= 8) body.push_back(char((u >> s) & 0xFF));
    };
    for (float v : {1.f, 2.f, 3.f, 1.f, 0.5f, 0.f}) putBE(v);
    writeFileAtomic(
        f,
        "ply\nformat binary_big_endian 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
        "property float z\nproperty float red\nproperty float green\nproperty float "
        "blue\nend_header\n" +
            body);
    TriangleMesh m = readPly(f);
    QCOMPARE(m.points[0].y(), 2.f);
    QCOMPARE(int(m.colors[0][0]), 255);
    QCOMPARE(int(m.colors[0][1]), 127);
  }

  void colmapModelRoundTrip_data() {
    QTest::addColumn<bool>("binary");
    QTest::newRow("binary") << true;
    QTest::newRow("text") << false;
  }
  void colmapModelRoundTrip() {
    QFETCH(bool, binary);
    QTemporaryDir tmp;
    Reconstruction m = makeModel();
    writeColmapModel(test::tempPath(tmp, "m"), m,
                     binary ? ModelFormat::kBinary : ModelFormat::kText);
    Reconstruction r = readColmapModel(test::tempPath(tmp, "m"));
    QCOMPARE(r.cameras.size(), size_t(1));
    QCOMPARE(r.cameras[3].model_id, int(kSimpleRadial));
    QCOMPARE(r.cameras[3].params, m.cameras[3].params);
    QCOMPARE(r.images.size(), size_t(2));
    QCOMPARE(r.images[2].name, m.images[2].name);
    QVERIFY(
        r.images[2].cam_from_world.rotation.isApprox(m.images[2].cam_from_world.rotation, 1e-12));
    QCOMPARE(r.images[1].points2D[1].point3D_id, kInvalidPoint3DId);
    QCOMPARE(r.points3D[7].track.size(), size_t(2));
    QCOMPARE(r.points3D[7].color, m.points3D[7].color);
  }

  void colmapTruncatedAndInconsistentModels() {
    QTemporaryDir tmp;
    fs::path d = test::tempPath(tmp, "m");
    writeColmapModel(d, makeModel(), ModelFormat::kBinary);
    std::string images = readFile(d / "images.bin");
    writeFileAtomic(d / "images.bin", images.substr(0, images.size() / 2));
    QString msg = test::errorOf([&] { readColmapModel(d); });
    QVERIFY2(msg.contains("truncated") && msg.contains("images.bin"), qPrintable(msg));

    Reconstruction bad = makeModel();
    bad.points3D[7].track.push_back({9, 0});
    fs::path d2 = test::tempPath(tmp, "m2");
    writeColmapModel(d2, bad, ModelFormat::kText);
    QVERIFY(test::errorOf([&] { readColmapModel(d2); }).contains("missing image 9"));
    QVERIFY(test::errorOf([&] {
              readColmapModel(test::tempPath(tmp, "none"));
            }).contains("no COLMAP model"));
  }

  void exportRoundTrips_data() {
    QTest::addColumn<QString>("format");
    QTest::addColumn<bool>("faces");
    for (const char* f : {"ply", "obj", "glb", "gltf"}) {
      QTest::newRow((std::string(f) + " mesh").c_str()) << QString(f) << true;
      QTest::newRow((std::string(f) + " points").c_str()) << QString(f) << false;
    }
  }
  void exportRoundTrips() {
    QFETCH(QString, format);
    QFETCH(bool, faces);
    QTemporaryDir tmp;
    TriangleMesh m = makeMesh(faces, false);
    GeometryFormat gf = geometryFormatFromName(format.toStdString());
    fs::path f = test::tempPath(tmp, "out" + geometryFormatExtension(gf));
    exportGeometry(f, m, gf);
    QVERIFY(fs::exists(f));
    if (gf == GeometryFormat::kObj && faces) QVERIFY(fs::exists(test::tempPath(tmp, "out.mtl")));
    for (const auto& e : fs::directory_iterator(f.parent_path()))
      QVERIFY(e.path().filename().string().find(kTempMarker) == std::string::npos);
    if (gf == GeometryFormat::kObj && !faces) return;  // Assimp's OBJ importer drops free points
    TriangleMesh r = readGeometry(f);
    QCOMPARE(r.points.size(), m.points.size());
    QCOMPARE(r.faces.size(), m.faces.size());
    QCOMPARE(r.colors.size(), m.colors.size());
    // Each vertex keeps its colour (stored as floats in OBJ/glTF) to within rounding.
    for (size_t i = 0; i < m.points.size(); ++i) {
      size_t j = 0;
      while (j < r.points.size() && (r.points[j] - m.points[i]).norm() > 1e-5f) ++j;
      QVERIFY2(j < r.points.size(), "a vertex went missing");
      for (int k = 0; k < 3; ++k) QVERIFY(std::abs(int(r.colors[j][k]) - int(m.colors[i][k])) <= 1);
    }
  }

  void exportRejectsEmptyAndUnknown() {
    QTemporaryDir tmp;
    QVERIFY(test::errorOf([&] {
              exportGeometry(test::tempPath(tmp, "e.glb"), TriangleMesh(), GeometryFormat::kGlb);
            }).contains("empty"));
    QVERIFY(
        test::errorOf([&] { geometryFormatFromName("fbx"); }).contains("unknown export format"));
  }

  void cameraProjection() {
    Camera c = Camera::pinhole(640, 480, 500, 510, 320, 240);
    Eigen::Vector2d px = c.imgFromCam({0.1, -0.2, 2.0});
    QVERIFY(std::abs(px.x() - (500 * 0.05 + 320)) < 1e-9);
    QVERIFY(std::abs(px.y() - (510 * -0.1 + 240)) < 1e-9);
    Eigen::Vector3d ray = c.camFromImg(px);
    QVERIFY((ray - Eigen::Vector3d(0.05, -0.1, 1)).norm() < 1e-12);
    QCOMPARE(QString(cameraModelByName("OPENCV").name), QString("OPENCV"));
    QVERIFY(test::errorOf([] { cameraModelById(42); }).contains("unknown camera model id 42"));
  }
};

QTEST_GUILESS_MAIN(TestGeometryIo)
#include "test_geometry_io.moc"
