// Viewport: flying the view, looking through a photo's camera.
#include "ui/viewport_impl.h"

#include "ui/labels_panel.h"
#include "ui/scene_layers.h"
#include "util/parallel.h"

namespace parallax::ui {

bool Viewport::lookThroughCamera(uint32_t imageId, const QImage& photo, bool animate) {
  d_->overlay = QImage();
  const Reconstruction* model = d_->model.get();
  if (!model || !model->images.count(imageId)) return false;
  const Image& im = model->images.at(imageId);
  const Camera& c = model->cameras.at(im.camera_id);
  const Eigen::Matrix3d worldFromCam = im.cam_from_world.rotation.toRotationMatrix().transpose();
  const Eigen::Vector3d centre = im.projectionCenter();
  const Eigen::Vector3d ahead = centre + worldFromCam.col(2) * d_->frustumSize * 10;
  const Eigen::Vector3d up = -worldFromCam.col(1);
  const double aspect = double(c.width) / double(c.height);
  // VTK's view angle is vertical, over the widget's height; the photo is fitted into
  // the widget, so its height spans the widget's unless the photo is wider.
  const double widgetAspect = double(width()) / std::max(1, height());
  const double photoHeightShare = aspect > widgetAspect ? widgetAspect / aspect : 1.0;
  const double halfAngle = std::atan(0.5 * c.height / c.focalY() / photoHeightShare);
  const double angle = 2 * halfAngle * 180 / M_PI;
  auto arrive = [this, centre, ahead, up, angle, aspect, photo] {
    vtkCamera* cam = d_->renderer->GetActiveCamera();
    cam->SetPosition(centre.data());
    cam->SetFocalPoint(ahead.data());
    cam->SetViewUp(up.data());
    cam->SetViewAngle(angle);
    cam->SetWindowCenter(0, 0);
    d_->renderer->ResetCameraClippingRange();
    d_->overlayAspect = aspect;
    d_->overlay = photo;
    update();
  };
  if (animate)
    flyTo(centre, ahead, up, angle, 600, arrive);
  else
    arrive();
  return true;
}

void Viewport::flyTo(const Eigen::Vector3d& position, const Eigen::Vector3d& focalPoint,
                     const Eigen::Vector3d& viewUp, double viewAngle, int ms,
                     std::function<void()> done) {
  d_->flyTimer.stop();
  d_->overlay = QImage();
  vtkCamera* cam = d_->renderer->GetActiveCamera();
  d_->flyFrom[0] = Eigen::Vector3d(cam->GetPosition());
  d_->flyFrom[1] = Eigen::Vector3d(cam->GetFocalPoint());
  d_->flyFrom[2] = Eigen::Vector3d(cam->GetViewUp());
  d_->flyTarget[0] = position;
  d_->flyTarget[1] = focalPoint;
  d_->flyTarget[2] = viewUp.normalized();
  d_->flyAngle[0] = cam->GetViewAngle();
  d_->flyAngle[1] = viewAngle;
  d_->flyMs = std::max(0, ms);
  d_->flyDone = std::move(done);
  d_->flyClock.start();
  setMoving(true);  // the coarse level of detail while flying
  d_->flyTimer.start();
}

bool Viewport::flying() const { return d_->flyTimer.isActive(); }

Eigen::Vector3d Viewport::cameraPosition() const {
  return Eigen::Vector3d(d_->renderer->GetActiveCamera()->GetPosition());
}

Eigen::Vector3d Viewport::focalPoint() const {
  return Eigen::Vector3d(d_->renderer->GetActiveCamera()->GetFocalPoint());
}

void Viewport::mouseDoubleClickEvent(QMouseEvent* e) {
  if (e->button() != Qt::LeftButton || d_->tool != Tool::kNavigate) return;
  const auto p = pickSurfacePoint(e->position());
  if (!p) return;
  // The point becomes the centre of the view (and of rotation), at the same distance.
  vtkCamera* cam = d_->renderer->GetActiveCamera();
  const Eigen::Vector3d shift = *p - focalPoint();
  flyTo(cameraPosition() + shift, *p, Eigen::Vector3d(cam->GetViewUp()), cam->GetViewAngle(), 350);
}


QRectF Viewport::photoFrame() const {
  if (d_->overlayAspect <= 0) return {};
  const double w = width(), h = height();
  if (d_->overlayAspect > w / h) {
    const double fh = w / d_->overlayAspect;
    return QRectF(0, (h - fh) / 2, w, fh);
  }
  const double fw = h * d_->overlayAspect;
  return QRectF((w - fw) / 2, 0, fw, h);
}

bool Viewport::photoOverlayShown() const { return !d_->overlay.isNull(); }

}  // namespace parallax::ui
