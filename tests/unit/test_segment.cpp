// Semantic labels (segment.geometric, the label files, the frames networks need): on the
// room sample, whose every point knows what it lies on, ground, walls, ceiling and the
// furniture come out where they are, whatever way the model happens to be turned.

#include <QtTest>

#include <Eigen/Geometry>
#include <cmath>
#include <filesystem>
#include <random>

#include "segment/geometric.h"
#include "scene/labels.h"
#include "segment/point_segmenter.h"
#include "synthetic/sample_scene.h"
#include "test_support.h"
#include "util/atomic_file.h"

using namespace parallax;
namespace fs = std::filesystem;

namespace {

PointCloud roomCloud(size_t count) {
  SampleOptions o;
  o.name = "room";
  return sampleScenePoints(o, count, 3);
}

// The room's S3DIS labels as geometric classes: floor -> ground, wall, ceiling, the rest objects.
std::vector<int32_t> asGeometric(const std::vector<int32_t>& s3dis) {
  std::vector<int32_t> out(s3dis.size());
  for (size_t i = 0; i < s3dis.size(); ++i)
    out[i] = s3dis[i] == 1 ? kGround : s3dis[i] == 2 ? kWall : s3dis[i] == 0 ? kCeiling : kObject;
  return out;
}

// Noise as a multi-view stereo cloud has it, and the model turned and scaled arbitrarily.
PointCloud jittered(PointCloud c, float sigma, const Eigen::Matrix3f& R, float scale) {
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.f, sigma);
  for (auto& p : c.points) p = scale * (R * (p + Eigen::Vector3f(n(rng), n(rng), n(rng))));
  for (auto& nr : c.normals) nr = R * nr;
  return c;
}

}  // namespace

class TestSegment : public QObject {
  Q_OBJECT
 private slots:
  void roomSampleKnowsItsClasses() {
    const PointCloud c = roomCloud(20000);
    QCOMPARE(c.labels.size(), c.size());
    const std::vector<size_t> n = labelCounts(c.labels, 13);
    // Floor 30 m2, ceiling 30 m2, walls 61.6 m2: the shares follow the areas.
    QVERIFY(n[1] > 3000 && n[0] > 3000 && n[2] > 6000);
    QVERIFY(n[7] > 200 && n[8] > 200 && n[10] > 200);
    for (size_t i = 0; i < c.size(); ++i)
      if (c.labels[i] == 1) QVERIFY(std::abs(c.points[i].z()) < 1e-4);
  }

  void geometricFindsGroundWallsCeilingAndObjects() {
    const PointCloud truth = roomCloud(60000);
    // A model turned (y up, as many SfM models are) and scaled, with 5 mm of noise.
    const Eigen::Matrix3f R = Eigen::AngleAxisf(float(M_PI / 2), Eigen::Vector3f::UnitX()).toRotationMatrix() *
                              Eigen::AngleAxisf(0.4f, Eigen::Vector3f::UnitZ()).toRotationMatrix();
    const PointCloud cloud = jittered(truth, 0.005f, R, 0.37f);
    GeometricSegmentReport rep;
    QElapsedTimer timer;
    timer.start();
    const std::vector<int32_t> labels =
        segmentGeometric(cloud, R * Eigen::Vector3f::UnitZ(), GeometricSegmentOptions{}, &rep);
    const double seconds = double(timer.elapsed()) / 1000;  // printed, not asserted
    const std::vector<double> iou = classIoU(labels, asGeometric(truth.labels), 5);
    qInfo("geometric on the room (%zu points, %.2f s): IoU ground %.3f, wall %.3f, ceiling %.3f, object %.3f; "
          "%d planes, %d walls, %d objects",
          cloud.size(), seconds, iou[kGround], iou[kWall], iou[kCeiling], iou[kObject], rep.planes, rep.walls,
          rep.objects);
    QVERIFY(rep.ground && rep.ceiling);
    QCOMPARE(rep.walls, 4);
    QVERIFY(iou[kGround] > 0.9);
    QVERIFY(iou[kWall] > 0.9);
    QVERIFY(iou[kCeiling] > 0.9);
    QVERIFY(iou[kObject] > 0.6);
    // A large cloud is segmented on a random subset, the rest by nearest neighbour.
    GeometricSegmentOptions subsetOptions;
    subsetOptions.max_points = 20000;
    const std::vector<double> subIoU =
        classIoU(segmentGeometric(cloud, R * Eigen::Vector3f::UnitZ(), subsetOptions), asGeometric(truth.labels), 5);
    qInfo("on a third of the points: IoU ground %.3f, wall %.3f, ceiling %.3f, object %.3f", subIoU[kGround],
          subIoU[kWall], subIoU[kCeiling], subIoU[kObject]);
    QVERIFY(subIoU[kGround] > 0.9 && subIoU[kWall] > 0.9 && subIoU[kCeiling] > 0.9 && subIoU[kObject] > 0.6);
    // Turned upside down, the same room has its ceiling where the ground was.
    const std::vector<int32_t> flipped =
        segmentGeometric(cloud, -(R * Eigen::Vector3f::UnitZ()), GeometricSegmentOptions{}, nullptr);
    QVERIFY(classIoU(flipped, asGeometric(truth.labels), 5)[kGround] < 0.1);
  }

  void strayPointsAreNoise() {
    PointCloud c = roomCloud(20000);
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-2.5f, 2.5f);
    const size_t before = c.size();
    for (int i = 0; i < 40; ++i) c.points.emplace_back(u(rng), u(rng) * 0.9f, 1.4f + 0.5f * u(rng));
    c.colors.resize(c.size());
    c.normals.resize(c.size());
    const std::vector<int32_t> labels = segmentGeometric(c, Eigen::Vector3f::UnitZ(), GeometricSegmentOptions{});
    size_t noise = 0;
    for (size_t i = before; i < c.size(); ++i) noise += labels[i] == kNoise;
    QVERIFY2(noise >= 36, qPrintable(QString("%1 of 40 strays are noise").arg(noise)));
  }

  void upComesFromTheCameras() {
    // Photos taken upright (small tilts), in a model whose world is turned.
    const Eigen::Matrix3d world = Eigen::AngleAxisd(1.1, Eigen::Vector3d(0.3, 0.8, -0.5).normalized()).toRotationMatrix();
    Reconstruction model;
    for (int i = 0; i < 12; ++i) {
      const double a = 2 * M_PI * i / 12;
      // Camera looking horizontally outward (z-up world): x right, y down, z forward.
      Eigen::Matrix3d camFromWorld;
      const Eigen::Vector3d fwd(std::cos(a), std::sin(a), -0.2), down(0, 0, -1);
      const Eigen::Vector3d z = fwd.normalized(), x = down.cross(z).normalized(), y = z.cross(x);
      camFromWorld.row(0) = x;
      camFromWorld.row(1) = y;
      camFromWorld.row(2) = z;
      const Eigen::Matrix3d tilt = Eigen::AngleAxisd(0.05 * std::sin(3 * a), Eigen::Vector3d::UnitZ()).toRotationMatrix();
      Image im;
      im.image_id = uint32_t(i + 1);
      im.cam_from_world.rotation = Eigen::Quaterniond(tilt * camFromWorld * world.transpose());
      model.images[im.image_id] = im;
    }
    const auto up = upFromCameras(model);
    QVERIFY(up.has_value());
    const double deg = std::acos(std::clamp(double(up->cast<double>().dot(world * Eigen::Vector3d::UnitZ())), -1.0, 1.0)) * 180 / M_PI;
    QVERIFY2(deg < 3, qPrintable(QString("up off by %1 deg").arg(deg)));
    QVERIFY(!upFromCameras(Reconstruction{}).has_value());
  }

  void metricFrameHasZUpAndFloorAtZero() {
    const PointCloud truth = roomCloud(20000);
    const Eigen::Matrix3f R = Eigen::AngleAxisf(2.0f, Eigen::Vector3f(1, 2, 3).normalized()).toRotationMatrix();
    const PointCloud turned = jittered(truth, 0.f, R, 0.25f);
    const PointCloud m = toMetricZUp(turned, R * Eigen::Vector3f::UnitZ(), 4.0);
    for (size_t i = 0; i < m.size(); i += 97)
      if (truth.labels[i] == 1) QVERIFY2(std::abs(m.points[i].z()) < 1e-3, qPrintable(QString::number(m.points[i].z())));
      else if (truth.labels[i] == 0) QVERIFY(std::abs(m.points[i].z() - 2.8f) < 1e-3);
  }

  void labelFilesRoundTripAndRefuseDamage() {
    QTemporaryDir tmp;
    const fs::path f = test::tempPath(tmp, "x.labels");
    const std::vector<int32_t> labels = {0, 4, -1, 12, 3};
    writeLabels(f, labels);
    QCOMPARE(readLabels(f), labels);
    const std::string bytes = readFile(f);
    writeFileAtomic(f, bytes.substr(0, bytes.size() - 2));
    const QString err = test::errorOf([&] { readLabels(f); });
    QVERIFY2(err.contains("x.labels") && err.contains("segment stage"), qPrintable(err));
    // Project lookups ignore labels of another cloud or another mesh.
    const fs::path root = test::tempPath(tmp, "proj");
    fs::create_directories(labelsDir(root));
    writeLabels(denseLabelsFile(root), labels);
    nlohmann::json t = toJson(geometricLabelTable());
    t["points"] = 5;
    writeFileAtomic(labelTableFile(root), t.dump());
    LabelTable table;
    QCOMPARE(projectDenseLabels(root, 5, &table), labels);
    QCOMPARE(table.name(4), std::string("noise"));
    QCOMPARE(table.name(-1), std::string("unlabelled"));
    QVERIFY(projectDenseLabels(root, 6).empty());
    QVERIFY(projectMeshLabels(root, root / "mesh.ply", 5).empty());
  }

  void meshVerticesTakeTheNearestPointsLabel() {
    PointCloud c;
    c.points = {{0, 0, 0}, {1, 0, 0}, {0, 5, 0}};
    c.labels = {3, 7, 1};
    const std::vector<int32_t> got = transferLabels(c, {{0.1f, 0, 0}, {0.9f, 0.2f, 0}, {0, 4, 0}, {9, 9, 9}}, 2.0);
    QCOMPARE(got, (std::vector<int32_t>{3, 7, 1, -1}));
  }

  void iouCountsIntersectionOverUnion() {
    const std::vector<double> iou = classIoU({0, 0, 1, 1, 2}, {0, 1, 1, 1, 0}, 3);
    QCOMPARE(iou[0], 1.0 / 3);
    QCOMPARE(iou[1], 2.0 / 3);
    QCOMPARE(iou[2], 0.0);
    QVERIFY(std::isnan(classIoU({0}, {0}, 2)[1]));
  }

  void badOptionsAreNamed() {
    GeometricSegmentOptions o;
    o.min_plane_share = 1.5;
    QVERIFY(test::errorOf([&] { o.check(); }).contains("min_plane_share"));
  }
};

QTEST_MAIN(TestSegment)
#include "test_segment.moc"
