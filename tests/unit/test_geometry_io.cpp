// io/: PLY, COLMAP model and OBJ/GLB export round trips, and every malformed input.
#include <QtTest>
#include <zlib.h>

#include <Eigen/Geometry>
#include <cstring>
#include <fstream>

#include "geometry/camera.h"
#include "io/colmap_model.h"
#include "io/mesh_io.h"
#include "io/npz.h"
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

// A .npy file: a version 1.0 header padded to 64 bytes, then the raw values.
std::string npyFile(const std::string& descr, const std::string& shape, bool fortran, const std::string& raw) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': (" + shape + "), }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(1), out += char(0);
  out += char(header.size() & 0xff), out += char(header.size() >> 8);
  return out + header + raw;
}

template <typename T>
std::string rawOf(const std::vector<T>& values, bool bigEndian = false) {
  std::string raw;
  for (T v : values) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    if (bigEndian) std::reverse(b, b + sizeof(T));
    raw.append(b, sizeof(T));
  }
  return raw;
}

void le(std::string& s, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += char((v >> (8 * i)) & 0xff);
}

// A zip archive (as numpy.savez / savez_compressed write) of `members`, stored or deflated.
std::string zipOf(const std::vector<std::pair<std::string, std::string>>& members, bool deflated) {
  std::string out, directory;
  for (const auto& [name, data] : members) {
    std::string body = data;
    if (deflated) {
      z_stream z{};
      deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      body.assign(deflateBound(&z, uLong(data.size())), '\0');
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      z.avail_in = uInt(data.size());
      z.next_out = reinterpret_cast<Bytef*>(body.data());
      z.avail_out = uInt(body.size());
      deflate(&z, Z_FINISH);
      body.resize(z.total_out);
      deflateEnd(&z);
    }
    const uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(data.data()), uInt(data.size())));
    const auto offset = uint32_t(out.size());
    std::string common;
    le(common, 20, 2), le(common, 0, 2), le(common, deflated ? 8 : 0, 2), le(common, 0, 4);
    le(common, crc, 4), le(common, uint32_t(body.size()), 4), le(common, uint32_t(data.size()), 4);
    le(common, uint32_t(name.size()), 2), le(common, 0, 2);
    le(out, 0x04034b50, 4);
    out += common + name + body;
    le(directory, 0x02014b50, 4), le(directory, 20, 2);
    directory += common;
    le(directory, 0, 2), le(directory, 0, 2), le(directory, 0, 2), le(directory, 0, 4), le(directory, offset, 4);
    directory += name;
  }
  const auto dirOffset = uint32_t(out.size());
  out += directory;
  le(out, 0x06054b50, 4), le(out, 0, 2), le(out, 0, 2);
  le(out, uint32_t(members.size()), 2), le(out, uint32_t(members.size()), 2);
  le(out, uint32_t(directory.size()), 4), le(out, dirOffset, 4), le(out, 0, 2);
  return out;
}

void writeBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
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

  // NumPy arrays as DTU's cameras come: float32 matrices in a stored zip (numpy.savez),
  // float64 in a deflated one (savez_compressed), other types, orders and byte orders.
  void npzArraysReadBack_data() {
    QTest::addColumn<bool>("deflated");
    QTest::newRow("stored (savez)") << false;
    QTest::newRow("deflated (savez_compressed)") << true;
  }
  void npzArraysReadBack() {
    QFETCH(bool, deflated);
    QTemporaryDir tmp;
    std::vector<float> m(16);
    for (int i = 0; i < 16; ++i) m[size_t(i)] = float(i) * 0.5f - 3.f;
    const std::vector<double> d = {1e-9, -2.5, 3e10};
    // Fortran order: a 2x3 array [[1 2 3] [4 5 6]] stored column by column.
    const std::vector<int16_t> f = {1, 4, 2, 5, 3, 6};
    const std::vector<int32_t> big = {-7, 70000};
    const fs::path path = test::tempPath(tmp, "cams.npz");
    writeBytes(path, zipOf({{"world_mat_0.npy", npyFile("<f4", "4, 4", false, rawOf(m))},
                            {"d.npy", npyFile("<f8", "3,", false, rawOf(d))},
                            {"fortran.npy", npyFile("<i2", "2, 3", true, rawOf(f))},
                            {"big.npy", npyFile(">i4", "2,", false, rawOf(big, true))},
                            {"flag.npy", npyFile("|b1", "", false, std::string(1, '\1'))}},
                           deflated));
    const auto arrays = readNpz(path);
    QCOMPARE(int(arrays.size()), 5);
    const NpyArray& w = arrays.at("world_mat_0");
    QCOMPARE(w.shape, (std::vector<size_t>{4, 4}));
    QCOMPARE(w.at(2, 3), double(m[11]));
    QCOMPARE(arrays.at("d").values, d);
    QCOMPARE(arrays.at("fortran").values, (std::vector<double>{1, 2, 3, 4, 5, 6}));
    QCOMPARE(arrays.at("big").values, (std::vector<double>{-7, 70000}));
    QCOMPARE(arrays.at("flag").shape.size(), size_t(0));
    QCOMPARE(arrays.at("flag").values, std::vector<double>{1});
  }

  void badNpzFilesAreExplained() {
    QTemporaryDir tmp;
    const std::string good = zipOf({{"a.npy", npyFile("<f8", "4, 4", false, std::string(128, '\0'))}}, false);
    const fs::path p = test::tempPath(tmp, "bad.npz");
    writeBytes(p, "P3\n2 2\n");
    QVERIFY(test::errorOf([&] { readNpz(p); }).contains("is not an .npz file"));
    writeBytes(p, good.substr(0, 100) + good.substr(good.size() - 100));  // a member cut short
    QVERIFY(!test::errorOf([&] { readNpz(p); }).isEmpty());
    writeBytes(p, zipOf({{"a.npy", npyFile("<f8", "4, 4", false, std::string(64, '\0'))}}, false));
    QVERIFY(test::errorOf([&] { readNpz(p); }).contains("truncated: 16 values of <f8 need 128 bytes"));
    writeBytes(p, zipOf({{"a.npy", npyFile("<c8", "2,", false, std::string(16, '\0'))}}, false));
    QVERIFY(test::errorOf([&] { readNpz(p); }).contains("dtype '<c8' is not supported"));
    writeBytes(p, zipOf({{"a.npy", "not an array"}}, true));
    QVERIFY(test::errorOf([&] { readNpz(p); }).contains("'a' is not a NumPy .npy array"));
    QVERIFY(test::errorOf([&] { readNpz(test::tempPath(tmp, "none.npz")); }).contains("cannot be read"));
  }

  // P = s K [R | t] for any scale and sign splits back into K, R, t.
  void projectionMatrixSplitsIntoIntrinsicsAndPose() {
    Eigen::Matrix3d K;
    K << 1200, 0.7, 395.5, 0, 1180, 301.25, 0, 0, 1;
    const Eigen::Matrix3d R = Eigen::AngleAxisd(0.4, Eigen::Vector3d(1, -2, 0.5).normalized()).toRotationMatrix();
    const Eigen::Vector3d t(30, -12, 610);
    for (double s : {1.0, 0.004, -3.0}) {
      Eigen::Matrix<double, 3, 4> P;
      P << K * R, K * t;
      P *= s;
      Eigen::Matrix3d K2, R2;
      Eigen::Vector3d t2;
      splitProjectionMatrix(P, K2, R2, t2);
      QVERIFY2((K2 - K).norm() < 1e-6 * K.norm(), qPrintable(QString::number(s)));
      QVERIFY((R2 - R).norm() < 1e-9);
      QVERIFY((t2 - t).norm() < 1e-6);
    }
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
