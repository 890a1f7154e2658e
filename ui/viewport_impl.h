// The viewport's state, shared by the files that implement it: viewport.cpp (the
// GL host, layers, colours, mouse), viewport_camera.cpp (flying, looking through a
// photo), viewport_crop_box.cpp (the crop-box tool), viewport_measure_clip.cpp
// (picking surface points, measuring, clipping) and viewport_selection.cpp (tools and
// region selection). Not for use outside ui/viewport*.cpp.
#pragma once

#include <vtkActor.h>
#include <vtkBoxRepresentation.h>
#include <vtkBoxWidget2.h>
#include <vtkCallbackCommand.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkFloatArray.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPlane.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>
#include <vtkTransform.h>
#include <vtkUnsignedCharArray.h>
#include <Eigen/Eigenvalues>
#include <QElapsedTimer>
#include <QMouseEvent>
#include <QPainter>
#include <QTimer>
#include <QWheelEvent>
#include <cmath>
#include <limits>
#include <map>

#include "ui/viewport.h"

namespace parallax::ui {

struct Viewport::Impl {
  vtkNew<vtkRenderWindow> window;
  QImage frame;
  QSize bufferSize;  // the largest frame the render window was started at
  vtkNew<vtkRenderer> renderer;
  vtkNew<vtkGenericRenderWindowInteractor> interactor;
  vtkNew<vtkInteractorStyleTrackballCamera> style;
  std::map<Layer, vtkSmartPointer<vtkActor>> actors;
  std::map<Layer, bool> visible{
      {Layer::kCameras, true}, {Layer::kSparse, true}, {Layer::kDense, true}, {Layer::kMesh, true}};
  int pointSize = 3;
  bool initialized = false;
  bool fitPending = false;
  std::shared_ptr<const Reconstruction> model;
  double frustumSize = 1.0;
  Selection selection;
  vtkSmartPointer<vtkActor> highlightLines, highlightPoints;
  QPointF pressPos;
  bool leftPressed = false;
  bool hasFitBox = false;
  double fitBox[6] = {0, 0, 0, 0, 0, 0};  // xmin, xmax, ymin, ymax, zmin, zmax
  // The home view's direction (eye to scene) and up, from the photos' poses.
  Eigen::Vector3d homeDirection{0, 1, -0.6};
  Eigen::Vector3d homeUp{0, 0, 1};
  Eigen::Vector3d sceneUp{0, 0, 1};  // the scene's vertical (height colouring)
  // Region selection.
  std::shared_ptr<const SceneData> scene;
  Tool tool = Tool::kNavigate;
  RegionSelection region;
  QPolygonF outline;  // being drawn (widget coordinates)
  bool outlining = false;
  SelectMode outlineMode = SelectMode::kReplace;
  vtkSmartPointer<vtkActor> regionPoints, regionFaces, regionCameras;
  ColorMode colorMode = ColorMode::kRgb;
  MeshShading meshShading = MeshShading::kTextured;
  // The textured mesh's actor, kept while the scene's textured mesh is the same: its
  // texture is uploaded once, not at every rebuild of the layers.
  std::shared_ptr<const TexturedMesh> texturedSource;
  vtkSmartPointer<vtkActor> texturedActor;
  size_t maxDisplayedPoints = 4'000'000;
  size_t displayedDense = 0;
  size_t maxInteractivePoints = 250'000;
  std::vector<Eigen::Vector3d> measure;
  std::optional<double> clip;  // clipping plane height (share of the height range)
  std::optional<Eigen::Vector3d> clipAxis;  // along which; nullopt: the scene's up
  bool visibleOnly = false;  // region selection of what is in front only
  vtkNew<vtkPlane> clipPlane;
  QImage overlay;        // the photo looked through, drawn over the view
  double overlayAspect = 0;  // its camera's width / height
  vtkSmartPointer<vtkActor> measureActor;
  vtkSmartPointer<vtkActor> denseCoarse;  // drawn instead of the dense layer while moving
  bool moving = false;
  int buttonsDown = 0;
  QTimer wheelStill;  // the wheel counts as motion until it rests
  // Crop box.
  vtkNew<vtkBoxWidget2> boxWidget;
  vtkNew<vtkBoxRepresentation> boxRep;
  vtkNew<vtkCallbackCommand> boxObserver;
  bool boxShown = false, boxPlaced = false;
  // A flight of the view (flyTo): from, to (position, focal point, up), angles.
  QTimer flyTimer;
  QElapsedTimer flyClock;
  int flyMs = 0;
  Eigen::Vector3d flyFrom[3], flyTarget[3];
  double flyAngle[2] = {30, 30};
  std::function<void()> flyDone;

  // World to clip coordinates for the view at this aspect ratio (width / height).
  Eigen::Matrix4d clipFromWorld(double aspect) const {
    vtkMatrix4x4* vm = renderer->GetActiveCamera()->GetCompositeProjectionTransformMatrix(aspect, -1, 1);
    Eigen::Matrix4d m;
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) m(r, c) = vm->GetElement(r, c);
    return m;
  }
};

}  // namespace parallax::ui
