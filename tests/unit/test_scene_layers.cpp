// ui/scene_layers: what the viewport draws, built without GL or a window — camera
// frusta where the photos were taken, colour ramps, the first view of a scene.
#include <QtTest>

#include <vtkCellArray.h>
#include <vtkPointData.h>

#include <Eigen/Geometry>
#include <cmath>

#include "ui/scene_layers.h"

using namespace parallax;

namespace {

// Cameras on a ring of radius 2 at height 1 (z up), each looking at the origin.
Reconstruction ringOfCameras(int n) {
  Reconstruction model;
  Camera c = Camera::pinhole(640, 480, 500, 500, 320, 240);
  c.camera_id = 1;
  model.cameras[1] = c;
  for (int i = 0; i < n; ++i) {
    const double a = 2 * M_PI * i / n;
    const Eigen::Vector3d centre(2 * std::cos(a), 2 * std::sin(a), 1.0);
    const Eigen::Vector3d forward = (-centre).normalized();
    const Eigen::Vector3d right = forward.cross(Eigen::Vector3d::UnitZ()).normalized();
    const Eigen::Vector3d down = forward.cross(right);
    Eigen::Matrix3d camFromWorld;
    camFromWorld.row(0) = right;
    camFromWorld.row(1) = down;
    camFromWorld.row(2) = forward;
    Image im;
    im.image_id = uint32_t(i + 1);
    im.camera_id = 1;
    im.cam_from_world = Rigid3d(Eigen::Quaterniond(camFromWorld), -(camFromWorld * centre));
    model.images[im.image_id] = im;
  }
  return model;
}

}  // namespace

class TestSceneLayers : public QObject {
  Q_OBJECT
 private slots:
  void frustaStartAtTheCameraCentresAndLookAlongTheirAxis() {
    const Reconstruction model = ringOfCameras(6);
    const auto poly = ui::frustaPolyData(model, 0.5);
    QCOMPARE(poly->GetNumberOfPoints(), vtkIdType(6 * 5));
    QCOMPARE(poly->GetNumberOfLines(), vtkIdType(6 * 8));
    size_t k = 0;
    for (const auto& [id, im] : model.images) {
      double apex[3];
      poly->GetPoint(vtkIdType(k * 5), apex);
      QVERIFY((Eigen::Vector3d(apex[0], apex[1], apex[2]) - im.projectionCenter()).norm() < 1e-6);
      // The four corners lie `size` in front of the camera, around its axis.
      Eigen::Vector3d mean = Eigen::Vector3d::Zero();
      for (int c = 1; c <= 4; ++c) {
        double p[3];
        poly->GetPoint(vtkIdType(k * 5 + size_t(c)), p);
        const Eigen::Vector3d inCam = im.cam_from_world * Eigen::Vector3d(p[0], p[1], p[2]);
        QVERIFY(std::abs(inCam.z() - 0.5) < 1e-6);
        mean += inCam / 4;
      }
      QVERIFY(mean.head<2>().norm() < 1e-6);  // the principal point is the image's centre
      ++k;
    }
  }

  void rampRunsFromBlueToRedOverTheBulkOfTheValues() {
    std::vector<double> values;
    for (int i = 0; i <= 100; ++i) values.push_back(i);
    values.push_back(1e6);  // one stray value does not squash the rest
    const std::vector<Color3> c = ui::rampColors(values);
    QCOMPARE(c.size(), values.size());
    QVERIFY(c.front()[2] > 200 && c.front()[0] < 60);  // blue
    QVERIFY(c[100][0] > 200 && c[100][2] < 60);        // red
    QVERIFY(c[50][1] > 150);                           // green in the middle
    const std::vector<Color3> h =
        ui::heightColors({{0, 0, 0}, {0, 0, 10}}, Eigen::Vector3d::UnitZ());
    QVERIFY(h[0][2] > h[0][0] && h[1][0] > h[1][2]);  // low blue, high red
  }

  void meshKeepsItsFacesColoursAndNormals() {
    TriangleMesh mesh;
    mesh.points = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}};
    mesh.colors = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 9, 9}};
    mesh.normals.assign(4, Eigen::Vector3f::UnitZ());
    mesh.faces = {{0, 1, 2}, {1, 3, 2}};
    const auto poly = ui::meshPolyData(mesh);
    QCOMPARE(poly->GetNumberOfPolys(), vtkIdType(2));
    QCOMPARE(poly->GetNumberOfVerts(), vtkIdType(0));
    QVERIFY(poly->GetPointData()->GetScalars() && poly->GetPointData()->GetNormals());
    const auto cloud = ui::pointsPolyData(mesh.points, {});
    QCOMPARE(cloud->GetNumberOfVerts(), vtkIdType(4));
    QVERIFY(!cloud->GetPointData()->GetScalars());  // no colours given: none drawn
  }

  // A ring of photos around an object: the scene's up is the ring's normal on the side
  // the photos look down from, and the first view looks down at the object.
  void firstViewOfARingLooksDownOntoTheObject() {
    const Reconstruction model = ringOfCameras(8);
    Eigen::Vector3d direction = Eigen::Vector3d::Zero(), up = Eigen::Vector3d::Zero(),
                    sceneUp = Eigen::Vector3d::Zero();
    ui::homeViewFromPhotos(model, &direction, &up, &sceneUp);
    QVERIFY2(sceneUp.dot(Eigen::Vector3d::UnitZ()) > 0.99, "the ring's normal, upwards");
    QVERIFY(direction.z() < -0.3);                 // looking down
    QVERIFY(std::abs(up.dot(direction)) < 1e-9);  // a proper view frame
  }
};

QTEST_GUILESS_MAIN(TestSceneLayers)
#include "test_scene_layers.moc"
