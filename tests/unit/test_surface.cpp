// Iso-surfaces of sampled fields (what a NeRF's density or a NeuS distance becomes as a
// mesh): closed where the field is, in the right place, facing outwards, and the largest
// component kept.

#include <QtTest>

#include <cmath>
#include <map>

#include "fields/field_data.h"
#include "mvs/geometry_eval.h"
#include "surface/iso_surface.h"

using namespace parallax;

namespace {

ScalarGrid sampled(int n, double lo, double hi, const std::function<float(const Eigen::Vector3d&)>& f) {
  ScalarGrid g;
  g.resolution = n;
  g.origin = Eigen::Vector3d::Constant(lo);
  g.spacing = (hi - lo) / (n - 1);
  g.values.resize(size_t(n) * n * n);
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x)
        g.values[size_t(x + n * (y + n * z))] = f(g.origin + g.spacing * Eigen::Vector3d(x, y, z));
  return g;
}

// Each edge shared by exactly two faces, in opposite directions.
bool closedAndConsistent(const TriangleMesh& m) {
  std::map<std::pair<int, int>, int> directed;
  for (const auto& f : m.faces)
    for (int k = 0; k < 3; ++k) ++directed[{f[k], f[(k + 1) % 3]}];
  for (const auto& [e, count] : directed)
    if (count != 1 || directed.count({e.second, e.first}) != 1) return false;
  return true;
}

double signedVolume(const TriangleMesh& m) {
  double v = 0;
  for (const auto& f : m.faces)
    v += m.points[size_t(f[0])].cast<double>().dot(
             m.points[size_t(f[1])].cast<double>().cross(m.points[size_t(f[2])].cast<double>())) / 6.0;
  return v;
}

}  // namespace

// Six photos around a ball of radius 0.2 at `ball` (a little above it), each with the
// mask of the ball (radius 0.22 as the photos see it).
FieldDataset ballMasks(const Eigen::Vector3d& ball) {
  FieldDataset data;
  for (int i = 0; i < 6; ++i) {
    FieldView v;
    v.width = v.height = 80;
    v.fx = v.fy = 80, v.cx = v.cy = 40;
    const double a = 2 * M_PI * i / 6;
    v.center = ball + Eigen::Vector3d(1.5 * std::cos(a), 1.5 * std::sin(a), 0.4);
    const Eigen::Vector3d z = (ball - v.center).normalized(), x = z.cross(Eigen::Vector3d::UnitZ()).normalized();
    v.rotation.col(0) = x, v.rotation.col(1) = z.cross(x), v.rotation.col(2) = z;
    v.rgba.assign(size_t(80 * 80 * 4), 1.f);
    for (int y = 0; y < 80; ++y)
      for (int u = 0; u < 80; ++u) {
        const Eigen::Vector3d ray = (v.rotation * Eigen::Vector3d((u + 0.5 - 40) / 80, (y + 0.5 - 40) / 80, 1)).normalized();
        const Eigen::Vector3d off = (ball - v.center) - ray.dot(ball - v.center) * ray;
        v.rgba[4 * size_t(y * 80 + u) + 3] = off.norm() < 0.22 ? 1.f : 0.f;
      }
    v.hasAlpha = true;
    data.views.push_back(v);
  }
  return data;
}

class TestSurface : public QObject {
  Q_OBJECT
 private slots:
  void sphereOfASignedDistanceIsClosedRoundAndOutward() {
    const double r = 0.7;
    const ScalarGrid g = sampled(48, -1, 1, [&](const Eigen::Vector3d& p) { return float(p.norm() - r); });
    const TriangleMesh m = isoSurface(g, 0.f, /*insideAbove=*/false);
    QVERIFY(m.faces.size() > 1000);
    QVERIFY(closedAndConsistent(m));
    double worst = 0;
    for (const auto& p : m.points) worst = std::max(worst, std::abs(p.cast<double>().norm() - r));
    QVERIFY2(worst < 0.1 * g.spacing + 0.01, qPrintable(QString::number(worst)));
    const double v = signedVolume(m), exact = 4.0 / 3.0 * M_PI * r * r * r;
    QVERIFY2(std::abs(v - exact) < 0.02 * exact, qPrintable(QString("%1 vs %2").arg(v).arg(exact)));
  }

  // Grid values exactly at the level (a field's surface through grid points) collapse
  // triangles onto those points; the mesh still has no hole.
  void valuesAtTheLevelLeaveNoHole() {
    ScalarGrid g = sampled(48, -1, 1, [&](const Eigen::Vector3d& p) { return float(p.norm() - 0.7); });
    size_t onLevel = 0;
    for (auto& v : g.values)
      if (std::abs(v) < 0.3 * g.spacing) v = 0.f, ++onLevel;
    const TriangleMesh m = isoSurface(g, 0.f, false);
    const MeshTopology t = meshTopology(m);
    qInfo("%zu grid values at the level: %zu faces, %zu boundary edges", onLevel, m.faces.size(), t.boundaryEdges);
    QVERIFY(onLevel > 50);
    QVERIFY(t.closed());
  }

  void densityInsideAboveTheLevelFacesOutwardsToo() {
    // A density bump: inside where the density exceeds the level.
    const ScalarGrid g = sampled(40, -1, 1, [](const Eigen::Vector3d& p) { return float(10 * std::exp(-4 * p.squaredNorm())); });
    const TriangleMesh m = isoSurface(g, 5.f, /*insideAbove=*/true);
    QVERIFY(closedAndConsistent(m));
    QVERIFY(signedVolume(m) > 0);
  }

  void largestComponentDropsSmallBlobs() {
    const ScalarGrid g = sampled(48, -1, 1, [](const Eigen::Vector3d& p) {
      const double big = (p - Eigen::Vector3d(-0.3, 0, 0)).norm() - 0.5;
      const double small = (p - Eigen::Vector3d(0.65, 0, 0)).norm() - 0.15;
      return float(std::min(big, small));
    });
    const TriangleMesh all = isoSurface(g, 0.f, false);
    const TriangleMesh kept = largestComponent(all);
    QVERIFY(kept.faces.size() < all.faces.size());
    QVERIFY(closedAndConsistent(kept));
    for (const auto& p : kept.points) QVERIFY(p.x() < 0.3f);  // only the big sphere
    // What a field's mesh reports: two closed blobs, then one; a cut face opens a hole.
    QCOMPARE(meshTopology(all).components, size_t(2));
    QVERIFY(meshTopology(all).closed());
    QCOMPARE(meshTopology(kept).components, size_t(1));
    TriangleMesh cut = kept;
    cut.faces.pop_back();
    const MeshTopology t = meshTopology(cut);
    QCOMPARE(t.boundaryEdges, size_t(3));
    QVERIFY(!t.closed());
  }

  // Completeness over the part of the truth that is seen: a mesh of only the upper half
  // of a sphere is complete against the upper half's samples, not against the whole.
  void chamferCompletenessOverTheSeenTruth() {
    const TriangleMesh sphere =
        isoSurface(sampled(48, -1, 1, [](const Eigen::Vector3d& p) { return float(p.norm() - 0.7); }), 0.f, false);
    TriangleMesh upper = sphere;
    upper.faces.clear();
    for (const auto& f : sphere.faces)
      if (sphere.points[size_t(f[0])].z() > 0.05f) upper.faces.push_back(f);
    std::vector<Eigen::Vector3f> seen;
    for (const auto& p : sampleSurface(sphere, 20000))
      if (p.z() > 0.1f) seen.push_back(p);
    const ChamferDistance whole = chamferDistance(upper, sphere, 20000);
    const ChamferDistance part = chamferDistance(upper, sphere, 20000, &seen);
    QVERIFY2(whole.from_truth > 0.1, qPrintable(QString::number(whole.from_truth)));
    QVERIFY2(part.from_truth < 0.01, qPrintable(QString::number(part.from_truth)));
    QVERIFY(part.to_truth < 0.01);
  }

  // A field's surface is cut to what the photos saw: seen from above, a ball keeps its cap
  // and loses its hidden underside, and a ball outside the photo's frame goes.
  void onlyTheFacesAPhotoSeesAreKept() {
    TriangleMesh balls = isoSurface(sampled(48, -1, 1, [](const Eigen::Vector3d& p) { return float(p.norm() - 0.7); }), 0.f, false);
    const size_t first = balls.faces.size(), offset = balls.points.size();
    const TriangleMesh aside = balls;
    for (const auto& q : aside.points) balls.points.push_back(q + Eigen::Vector3f(6, 0, 0));
    for (const auto& f : aside.faces) balls.faces.push_back(f + Eigen::Vector3i::Constant(int(offset)));
    Reconstruction cameras;
    Camera cam = Camera::pinhole(200, 200, 200, 200, 100, 100);
    cam.camera_id = 1;
    cameras.cameras[1] = cam;
    Image im;
    im.image_id = 1, im.camera_id = 1, im.name = "above";
    const Eigen::Matrix3d down = Eigen::Vector3d(1, -1, -1).asDiagonal();  // looking down -z from z = 3
    im.cam_from_world = Rigid3d(Eigen::Quaterniond(down), Eigen::Vector3d(0, 0, 3));
    cameras.images[1] = im;
    const TriangleMesh seen = keepSeenFaces(balls, cameras);
    size_t cap = 0, capKept = 0, below = 0, far = 0;
    auto centre = [](const TriangleMesh& m, const Eigen::Vector3i& f) {
      return Eigen::Vector3f((m.points[size_t(f[0])] + m.points[size_t(f[1])] + m.points[size_t(f[2])]) / 3.f);
    };
    for (size_t i = 0; i < first; ++i) cap += centre(balls, balls.faces[i]).z() > 0.3f;
    for (const auto& f : seen.faces) {
      const Eigen::Vector3f c = centre(seen, f);
      if (c.x() > 3) ++far;
      else if (c.z() < 0) ++below;
      else capKept += c.z() > 0.3f;
    }
    qInfo("%zu of %zu faces kept; cap %zu of %zu, underside %zu, outside the frame %zu", seen.faces.size(),
          balls.faces.size(), capKept, cap, below, far);
    QCOMPARE(far, size_t(0));
    QCOMPARE(below, size_t(0));
    QVERIFY(capKept >= cap * 95 / 100);
    QCOMPARE(seen.points.size(), balls.points.size());
  }

  // Imported cameras (DTU's) take the project's own sparse points: the model, in its own
  // frame (scaled, turned, moved), lands on the imported cameras' frame; points the masks
  // put on the background stay out; a model whose cameras do not fit is refused, named.
  void projectPointsJoinImportedCameras() {
    FieldDataset data;
    data.source = "cameras_sphere.npz";
    const int n = 8, size = 100;
    for (int i = 0; i < n; ++i) {
      FieldView v;
      v.name = "00000" + std::to_string(i) + ".png";
      v.width = v.height = size;
      v.fx = v.fy = 100, v.cx = v.cy = 50;
      const double a = 2 * M_PI * i / n;
      v.center = Eigen::Vector3d(4 * std::cos(a), 4 * std::sin(a), 1);
      const Eigen::Vector3d z = (-v.center).normalized(), x = z.cross(Eigen::Vector3d::UnitZ()).normalized();
      v.rotation.col(0) = x, v.rotation.col(1) = z.cross(x), v.rotation.col(2) = z;
      // The mask: what a unit ball at the origin covers.
      v.rgba.assign(size_t(size) * size * 4, 0.5f);
      for (int y = 0; y < size; ++y)
        for (int u = 0; u < size; ++u) {
          const Eigen::Vector3d ray = (v.rotation * Eigen::Vector3d((u + 0.5 - 50) / 100, (y + 0.5 - 50) / 100, 1)).normalized();
          const double miss = (v.center - v.center.dot(ray) * ray).norm();
          v.rgba[4 * size_t(y * size + u) + 3] = miss < 1.05 ? 1.f : 0.f;
        }
      v.hasAlpha = true;
      data.views.push_back(v);
    }
    // The model: the same cameras in a frame p' = 0.5 R p + t, named as the import names them.
    const Eigen::Matrix3d R = Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()).toRotationMatrix();
    const Eigen::Vector3d t(10, -3, 2);
    auto toModel = [&](const Eigen::Vector3d& p) -> Eigen::Vector3d { return 0.5 * R * p + t; };
    Reconstruction model = fieldCameras(data);
    for (auto& [id, im] : model.images) {
      const FieldView& v = data.views[id - 1];
      const Eigen::Matrix3d camFromModel = (R * v.rotation).transpose();
      im.cam_from_world = Rigid3d(Eigen::Quaterniond(camFromModel), -camFromModel * toModel(v.center));
      im.name = "images/" + im.name;
    }
    std::vector<Eigen::Vector3d> object, ground;
    for (int k = 0; k < 50; ++k) {
      object.push_back(Eigen::Vector3d(std::cos(k), std::sin(k), std::cos(3.0 * k)).normalized() * 0.9);
      ground.push_back(Eigen::Vector3d(2.2 * std::cos(0.3 * k), 2.2 * std::sin(0.3 * k), -1.5));
    }
    // Tracks as structure from motion makes them: the photos that see the point, not
    // those where the ball hides it (from where the ground behind it is inside the mask).
    auto sees = [&](const FieldView& v, const Eigen::Vector3d& p, bool onBall) {
      if (onBall) return p.dot(v.center - p) > 0;
      const Eigen::Vector3d d = p - v.center;
      const double s = std::clamp(-v.center.dot(d) / d.squaredNorm(), 0.0, 1.0);
      return (v.center + s * d).norm() > 1.0;
    };
    uint64_t id = 1;
    for (const auto* set : {&object, &ground})
      for (const auto& p : *set) {
        Point3D pt;
        pt.xyz = toModel(p);
        for (uint32_t im = 1; im <= uint32_t(n); ++im)
          if (sees(data.views[im - 1], p, set == &object)) pt.track.push_back({im, 0});
        if (pt.track.size() >= 2) model.points3D[id++] = pt;
      }
    QCOMPARE(model.points3D.size(), object.size() + ground.size());
    FieldDataset joined = data;
    const std::string note = addModelPoints(joined, model);
    qInfo("%s", note.c_str());
    QCOMPARE(joined.points.size(), object.size());
    QCOMPARE(joined.pointViews.size(), object.size());
    double worst = 0;
    for (size_t k = 0; k < object.size(); ++k) worst = std::max(worst, (joined.points[k] - object[k]).norm());
    QVERIFY2(worst < 1e-6, qPrintable(QString::number(worst)));
    QCOMPARE(joined.pointViews[0].size(), model.points3D.at(1).track.size());
    QVERIFY(QString::fromStdString(note).contains("50 on the masks' background left out"));
    // One camera far off: the model does not fit these cameras and adds nothing.
    model.images[3].cam_from_world.translation += Eigen::Vector3d(3, 0, 0);
    FieldDataset refused = data;
    const std::string why = addModelPoints(refused, model);
    QVERIFY(refused.points.empty());
    QVERIFY2(QString::fromStdString(why).contains("does not fit the cameras of cameras_sphere.npz"),
             why.c_str());
  }

  // Masks cut away what they show as background: a ball the masks hold stays whole and
  // closed, a blob beside it that every photo's mask calls background goes; photos without
  // masks cut nothing.
  void masksCutAwayTheBackground() {
    const Eigen::Vector3d ball(0.5, 0.5, 0.5), blob(0.5, 0.5, 0.12);
    auto field = [&] {
      return sampled(64, 0, 1, [&](const Eigen::Vector3d& p) {
        return float(std::min((p - ball).norm() - 0.2, (p - blob).norm() - 0.08));
      });
    };
    FieldDataset data = ballMasks(ball);
    const std::vector<size_t> all = {0, 1, 2, 3, 4, 5};
    ScalarGrid whole = field();
    const TriangleMesh before = isoSurface(whole, 0.f, false);
    QCOMPARE(meshTopology(before).components, size_t(2));
    ScalarGrid cut = field();
    const size_t moved = carveByMasks(cut, 0.f, false, float(0.5 * cut.spacing), data, all, Eigen::Vector3d::Zero(), 1);
    const TriangleMesh after = isoSurface(cut, 0.f, false);
    const MeshTopology t = meshTopology(after);
    double farthest = 0;
    for (const auto& q : after.points) farthest = std::max(farthest, std::abs((q.cast<double>() - ball).norm() - 0.2));
    qInfo("%zu grid points cut; %zu -> %zu faces, %zu component(s), farthest vertex %.4f off the ball",
          moved, before.faces.size(), after.faces.size(), t.components, farthest);
    QCOMPARE(t.components, size_t(1));
    QVERIFY(t.closed());
    QVERIFY(farthest < cut.spacing);
    QVERIFY(after.faces.size() > before.faces.size() / 2);
    // What no masked photo has in its frame is cut too: one narrow view (5.7 degrees to
    // its frame's edge) whose mask is all object keeps the ball's middle, not its side.
    {
      FieldDataset narrow;
      narrow.views.push_back(data.views[0]);
      FieldView& v = narrow.views[0];
      v.fx = v.fy = 400;
      for (size_t k = 3; k < v.rgba.size(); k += 4) v.rgba[k] = 1.f;
      ScalarGrid g = field();
      carveByMasks(g, 0.f, false, float(0.5 * g.spacing), narrow, {0}, Eigen::Vector3d::Zero(), 1);
      auto at = [&](const ScalarGrid& grid, const Eigen::Vector3d& q) {
        const Eigen::Vector3i i = ((q - grid.origin) / grid.spacing).array().round().cast<int>();
        return grid.values[size_t(i.x() + grid.resolution * (i.y() + grid.resolution * i.z()))];
      };
      const ScalarGrid w = field();
      QCOMPARE(at(g, ball), at(w, ball));  // inside, in frame: kept
      QVERIFY(at(g, ball + Eigen::Vector3d(0, 0.18, 0)) > 0);  // inside the ball but out of frame: cut
      QVERIFY(at(w, ball + Eigen::Vector3d(0, 0.18, 0)) < 0);
    }
    // Photos without masks say nothing.
    for (auto& v : data.views) v.hasAlpha = false;
    ScalarGrid untouched = field();
    QCOMPARE(carveByMasks(untouched, 0.f, false, 0.01f, data, all, Eigen::Vector3d::Zero(), 1), size_t(0));
    QVERIFY(untouched.values == whole.values);
  }

  // The masks' visual hull bounds the distance to the object from below: never more than
  // the true distance to the ball, zero at the ball, close to the hull's distance beside it,
  // and positive near and outside the sphere when asked.
  void visualHullBoundsTheDistance() {
    const Eigen::Vector3d ball(0.5, 0.5, 0.5);
    const FieldDataset data = ballMasks(ball);
    const ScalarGrid b = visualHullBound(data, {0, 1, 2, 3, 4, 5}, Eigen::Vector3d::Zero(), 1, 64, true);
    QCOMPARE(b.resolution, 64);
    auto at = [&](const Eigen::Vector3d& q) {
      const Eigen::Vector3i i = (q / b.spacing).array().round().cast<int>();
      return double(b.values[size_t(i.x() + 64 * (i.y() + 64 * i.z()))]);
    };
    double worst = -1;
    size_t positive = 0;
    for (int z = 0; z < 64; ++z)
      for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x) {
          const Eigen::Vector3d q = b.spacing * Eigen::Vector3d(x, y, z);
          const double v = b.values[size_t(x + 64 * (y + 64 * z))];
          worst = std::max(worst, v - std::max(0.0, (q - ball).norm() - 0.2));
          positive += v > 0;
        }
    qInfo("bound beside the ball %.3f (true distance 0.2), %zu of %d grid points bounded, worst excess %.4f",
          at(ball + Eigen::Vector3d(0.4, 0, 0)), positive, 64 * 64 * 64, worst);
    QVERIFY(worst <= 1e-6);
    QCOMPARE(at(ball), 0.0);
    QVERIFY(at(ball + Eigen::Vector3d(0.4, 0, 0)) > 0.08);
    QVERIFY(at(Eigen::Vector3d(0.02, 0.02, 0.5)) > 0);  // outside the sphere
    // A mask that is all object bounds nothing in its frame but the sphere's outer tenth:
    // what the photos' frames crop closes there.
    {
      FieldDataset whole;
      whole.views.push_back(data.views[0]);
      for (size_t k = 3; k < whole.views[0].rgba.size(); k += 4) whole.views[0].rgba[k] = 1.f;
      const ScalarGrid w = visualHullBound(whole, {0}, Eigen::Vector3d::Zero(), 1, 128, true);
      auto wat = [&](const Eigen::Vector3d& q) {
        const Eigen::Vector3i i = (q / w.spacing).array().round().cast<int>();
        return double(w.values[size_t(i.x() + 128 * (i.y() + 128 * i.z()))]);
      };
      const double rim = wat(Eigen::Vector3d(0.5, 0.5, 0.99)), mid = wat(Eigen::Vector3d(0.5, 0.5, 0.9));
      QVERIFY2(rim > 0 && rim <= 0.04 + 1e-6, std::to_string(rim).c_str());
      QCOMPARE(mid, 0.0);
    }
    // Without masks there is no bound.
    FieldDataset bare = data;
    for (auto& v : bare.views) v.hasAlpha = false;
    QVERIFY(visualHullBound(bare, {0, 1, 2, 3, 4, 5}, Eigen::Vector3d::Zero(), 1, 64, true).values.empty());
  }

  // The yardstick of a field's surface: zero against itself, the gap between two
  // concentric spheres against each other.
  void chamferDistanceMeasuresTheGap() {
    auto sphere = [](double r) {
      return isoSurface(sampled(48, -1, 1, [r](const Eigen::Vector3d& p) { return float(p.norm() - r); }), 0.f, false);
    };
    const TriangleMesh a = sphere(0.6), b = sphere(0.7);
    const ChamferDistance self = chamferDistance(a, a, 20000);
    QVERIFY2(self.chamfer < 0.01, qPrintable(QString::number(self.chamfer)));
    const ChamferDistance gap = chamferDistance(a, b, 20000);
    QVERIFY2(std::abs(gap.chamfer - 0.1) < 0.01, qPrintable(QString::number(gap.chamfer)));
    QVERIFY(std::abs(gap.diagonal - 1.4 * std::sqrt(3.0)) < 0.05);
  }

  void emptyAndMismatchedGrids() {
    const ScalarGrid g = sampled(8, -1, 1, [](const Eigen::Vector3d&) { return 1.f; });
    QVERIFY(isoSurface(g, 0.f, false).faces.empty());
    ScalarGrid bad = g;
    bad.values.pop_back();
    QVERIFY_THROWS_EXCEPTION(std::exception, isoSurface(bad, 0.f, false));
  }
};

QTEST_GUILESS_MAIN(TestSurface)
#include "test_surface.moc"
