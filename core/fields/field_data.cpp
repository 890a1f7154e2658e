#include "fields/field_data.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/colmap_model.h"
#include "io/npz.h"
#include "mvs/geometry_eval.h"
#include "scene/geometry_data.h"
#include "scene/workspace.h"
#include "util/error.h"
#include "util/parallel.h"

namespace parallax {

namespace fs = std::filesystem;

namespace {

// A decoded photo as the view's RGBA floats in [0, 1], at most maxSize on its long side;
// the view's intrinsics (for the photo's own size) follow the resize.
void setPhoto(cv::Mat img, int maxSize, FieldView& view) {
  if (img.depth() == CV_16U) img.convertTo(img, CV_8U, 1.0 / 257.0);
  if (img.channels() == 1) cv::cvtColor(img, img, cv::COLOR_GRAY2BGRA);
  view.hasAlpha = img.channels() == 4;
  if (img.channels() == 3) cv::cvtColor(img, img, cv::COLOR_BGR2BGRA);
  cv::Mat f;
  img.convertTo(f, CV_32FC4, 1.0 / 255.0);
  if (view.hasAlpha) {
    // Premultiplied while resizing, so that the colour of transparent pixels does not bleed.
    std::vector<cv::Mat> ch;
    cv::split(f, ch);
    for (int c = 0; c < 3; ++c) ch[size_t(c)] = ch[size_t(c)].mul(ch[3]);
    cv::merge(ch, f);
  }
  const int w0 = f.cols, h0 = f.rows;
  double scale = 1.0;
  if (maxSize > 0 && std::max(w0, h0) > maxSize) {
    scale = double(maxSize) / double(std::max(w0, h0));
    cv::resize(f, f,
               cv::Size(std::max(1, int(std::lround(w0 * scale))),
                        std::max(1, int(std::lround(h0 * scale)))),
               0, 0, cv::INTER_AREA);
  }
  view.width = f.cols;
  view.height = f.rows;
  view.rgba.resize(size_t(f.cols) * size_t(f.rows) * 4);
  for (int y = 0; y < f.rows; ++y)
    for (int x = 0; x < f.cols; ++x) {
      const cv::Vec4f p = f.at<cv::Vec4f>(y, x);
      float* o = &view.rgba[(size_t(y) * size_t(f.cols) + size_t(x)) * 4];
      const float a = view.hasAlpha ? p[3] : 1.f;
      // Stored straight (not premultiplied), BGR -> RGB.
      const float inv = a > 1e-6f ? 1.f / a : 0.f;
      o[0] = std::min(1.f, p[2] * (view.hasAlpha ? inv : 1.f));
      o[1] = std::min(1.f, p[1] * (view.hasAlpha ? inv : 1.f));
      o[2] = std::min(1.f, p[0] * (view.hasAlpha ? inv : 1.f));
      o[3] = a;
    }
  // Intrinsics follow the resize: sizes scale exactly by the rounded ratio.
  const double sx = double(f.cols) / w0, sy = double(f.rows) / h0;
  view.fx *= sx, view.cx *= sx;
  view.fy *= sy, view.cy *= sy;
}

}  // namespace

FieldDataset loadTransformsJson(const fs::path& jsonPath, const FieldLoadOptions& options) {
  std::ifstream in(jsonPath);
  if (!in) throw Error("poses file '" + jsonPath.string() + "' cannot be read; check the path");
  nlohmann::json doc;
  try {
    in >> doc;
  } catch (const std::exception& e) {
    throw Error("poses file '" + jsonPath.string() + "' is not valid JSON (" + e.what() +
                "); expected NeRF's transforms.json");
  }
  if (!doc.contains("frames") || !doc["frames"].is_array() || doc["frames"].empty())
    throw Error(
        "poses file '" + jsonPath.string() +
        "' has no \"frames\"; expected NeRF's transforms.json with camera_angle_x and frames");
  FieldDataset data;
  data.source = jsonPath.string();
  const auto& frames = doc["frames"];
  data.views.resize(frames.size());
  std::vector<std::string> errors(frames.size());
  parallelFor(frames.size(), [&](size_t i) {
    try {
      const auto& fr = frames[i];
      FieldView& v = data.views[i];
      std::string file = fr.at("file_path").get<std::string>();
      fs::path path = jsonPath.parent_path() / file;
      if (!path.has_extension() || !fs::exists(path)) {
        if (fs::exists(path.string() + ".png")) path = path.string() + ".png";
      }
      v.name = fs::path(file).filename().string();
      const auto& m = fr.at("transform_matrix");
      Eigen::Matrix3d r;
      for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) r(a, b) = m.at(size_t(a)).at(size_t(b)).get<double>();
        v.center[a] = m.at(size_t(a)).at(3).get<double>();
      }
      // OpenGL camera axes (y up, looking along -z) to OpenCV's (y down, z forward).
      r.col(1) *= -1;
      r.col(2) *= -1;
      v.rotation = r;
      // Intrinsics at the photo's own size first (setPhoto rescales them).
      const cv::Mat photo = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
      if (photo.empty())
        throw Error("photo '" + path.string() + "' (frame " + std::to_string(i) +
                    " of the poses file) is missing or not a readable image");
      const double w = photo.cols, h = photo.rows;
      double fx, fy;
      if (fr.contains("fl_x") || doc.contains("fl_x")) {
        fx = fr.contains("fl_x") ? fr["fl_x"].get<double>() : doc["fl_x"].get<double>();
        fy = fr.contains("fl_y") ? fr["fl_y"].get<double>() : doc.value("fl_y", fx);
      } else {
        const double angle = fr.contains("camera_angle_x") ? fr["camera_angle_x"].get<double>()
                                                           : doc.at("camera_angle_x").get<double>();
        fx = fy = 0.5 * w / std::tan(0.5 * angle);
      }
      v.fx = fx, v.fy = fy;
      v.cx = doc.value("cx", w / 2.0), v.cy = doc.value("cy", h / 2.0);
      setPhoto(photo, options.maxImageSize, v);
    } catch (const Error& e) {
      errors[i] = e.what();
    } catch (const std::exception& e) {
      errors[i] = "poses file '" + jsonPath.string() + "', frame " + std::to_string(i) + ": " +
                  e.what() + " (expected file_path and a 4x4 transform_matrix)";
    }
  });
  for (const auto& e : errors)
    if (!e.empty()) throw Error(e);
  boxFromViewFrusta(data);
  return data;
}

namespace {

// Image files of a folder in name order.
std::vector<fs::path> imagesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (e.is_regular_file() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg"))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

FieldDataset loadDtuCameras(const fs::path& npz, const FieldLoadOptions& options) {
  const DtuCameras cameras = readDtuCameras(npz);
  const size_t n = cameras.views.size();
  const fs::path dir = npz.parent_path();
  // images/ (as in ../shared/data) or image/ (IDR's and NeuS's own layout).
  const fs::path photoDir = fs::is_directory(dir / "images") ? dir / "images" : dir / "image";
  const std::vector<fs::path> photos = imagesIn(photoDir);
  if (photos.size() != n)
    throw Error("'" + npz.string() + "' has " + std::to_string(n) + " cameras but '" +
                photoDir.string() + "' holds " + std::to_string(photos.size()) +
                " photos; they pair up in name order");
  std::vector<fs::path> masks = imagesIn(dir / "mask");
  FieldDataset data;
  data.source = npz.string();
  if (!masks.empty() && masks.size() != n) {
    data.notes.push_back("'" + (dir / "mask").string() + "' holds " + std::to_string(masks.size()) +
                         " masks for " + std::to_string(n) + " photos; masks are ignored");
    masks.clear();
  }
  data.views.resize(n);
  parallelFor(n, [&](size_t i) {
    FieldView& v = data.views[i];
    v.name = photos[i].filename().string();
    const auto& [K, R, t] = cameras.views[i];
    v.center = -R.transpose() * t;
    v.rotation = R.transpose();
    // DTU's calibration puts pixel centres on integers; ours are at +0.5.
    v.fx = K(0, 0), v.fy = K(1, 1), v.cx = K(0, 2) + 0.5, v.cy = K(1, 2) + 0.5;
    cv::Mat photo = cv::imread(photos[i].string(), cv::IMREAD_COLOR);
    if (photo.empty())
      throw Error("photo '" + photos[i].string() + "' is missing or not a readable image");
    if (!masks.empty()) {
      const cv::Mat mask = cv::imread(masks[i].string(), cv::IMREAD_GRAYSCALE);
      if (mask.empty())
        throw Error(
            "mask '" + masks[i].string() +
            "' is not a readable image; replace it, or move mask/ away to train without masks");
      if (mask.size() != photo.size())
        throw Error("mask '" + masks[i].string() + "' is " + std::to_string(mask.cols) + "x" +
                    std::to_string(mask.rows) + " but its photo is " + std::to_string(photo.cols) +
                    "x" + std::to_string(photo.rows));
      cv::Mat alpha;
      cv::threshold(mask, alpha, 127, 255, cv::THRESH_BINARY);
      std::vector<cv::Mat> ch;
      cv::split(photo, ch);
      ch.push_back(alpha);
      cv::merge(ch, photo);
    }
    setPhoto(photo, options.maxImageSize, v);
  });
  // The object's sphere (scale_mat maps the unit sphere onto it); without one, the frusta.
  if (cameras.scale) {
    const Eigen::Matrix4d& s = *cameras.scale;
    const double r = s.block<3, 3>(0, 0).diagonal().cwiseAbs().maxCoeff();
    const Eigen::Vector3d c = s.block<3, 1>(0, 3);
    data.boxMin = c - Eigen::Vector3d::Constant(r);
    data.boxMax = c + Eigen::Vector3d::Constant(r);
  } else {
    boxFromViewFrusta(data);
  }
  return data;
}

FieldDataset loadProjectField(const Workspace& ws, const FieldLoadOptions& options) {
  if (hasColmapModel(ws.denseDir() / "sparse") && fs::is_directory(ws.denseDir() / "images"))
    return loadColmapField(ws.denseDir() / "sparse", ws.denseDir() / "images", options, true);
  if (hasColmapModel(ws.sparseDir()))
    return loadColmapField(ws.sparseDir(), importedPhotoRoot(ws), options, false);
  throw Error(
      "the project has no registered cameras (sparse/0): run the pipeline up to sparse "
      "first, or set field.poses to a NeRF transforms.json or a COLMAP model folder");
}

fs::path importedPhotoRoot(const Workspace& ws) {
  const std::string root =
      ws.stageRecord("import").value("outputs", nlohmann::json::object()).value("image_root", "");
  if (root.empty()) throw Error("the import stage recorded no photo folder; run import first");
  return root;
}

FieldDataset loadColmapField(const fs::path& modelDir, const fs::path& imageDir,
                             const FieldLoadOptions& options, bool undistorted) {
  if (!hasColmapModel(modelDir))
    throw Error(
        "'" + modelDir.string() +
        "' holds no COLMAP model (cameras, images, points3D .bin or .txt); set field.poses to a "
        "COLMAP model folder or a transforms.json, or leave it empty for the project's cameras");
  const Reconstruction model = readColmapModel(modelDir);
  if (model.images.empty())
    throw Error("the sparse model in '" + modelDir.string() +
                "' has no registered photos; run sparse again");
  FieldDataset data;
  data.source = modelDir.string();
  std::vector<const Image*> images;
  for (const auto& [id, im] : model.images) images.push_back(&im);
  std::sort(images.begin(), images.end(),
            [](const Image* a, const Image* b) { return a->name < b->name; });
  data.views.resize(images.size());
  bool distorted = false;
  for (size_t i = 0; i < images.size(); ++i) {
    const Camera& cam = model.cameras.at(images[i]->camera_id);
    if (cam.model_id != kSimplePinhole && cam.model_id != kPinhole) distorted = true;
  }
  parallelFor(images.size(), [&](size_t i) {
    const Image& im = *images[i];
    const Camera& cam = model.cameras.at(im.camera_id);
    FieldView& v = data.views[i];
    v.name = im.name;
    v.fx = cam.focalX(), v.fy = cam.focalY(), v.cx = cam.principalX(), v.cy = cam.principalY();
    const Eigen::Matrix3d r = im.cam_from_world.rotation.toRotationMatrix();
    v.rotation = r.transpose();
    v.center = -(r.transpose() * im.cam_from_world.translation);
    // Intrinsics are for the camera's size; the photo file may differ (scaled first).
    const cv::Mat photo = cv::imread((imageDir / im.name).string(), cv::IMREAD_UNCHANGED);
    if (photo.empty())
      throw Error("photo '" + (imageDir / im.name).string() +
                  "' of the sparse model cannot be read; run import (and undistort) again");
    const double sx = double(photo.cols) / cam.width, sy = double(photo.rows) / cam.height;
    v.fx *= sx, v.cx *= sx, v.fy *= sy, v.cy *= sy;
    setPhoto(photo, options.maxImageSize, v);
  });
  if (distorted && !undistorted)
    data.notes.push_back(
        "lens distortion of sparse/0's cameras is ignored; run the undistort stage "
        "first for a field on undistorted photos");
  // The box of the middle of the sparse points, as a cube padded by a tenth.
  std::vector<Eigen::Vector3f> points;
  std::map<uint32_t, uint32_t> viewOf;  // image id -> view index
  for (size_t i = 0; i < images.size(); ++i) viewOf[images[i]->image_id] = uint32_t(i);
  for (const auto& [id, p] : model.points3D) {
    points.push_back(p.xyz.cast<float>());
    data.points.push_back(p.xyz);
    std::vector<uint32_t> seenBy;
    for (const auto& t : p.track)
      if (const auto it = viewOf.find(t.image_id); it != viewOf.end()) seenBy.push_back(it->second);
    data.pointViews.push_back(std::move(seenBy));
  }
  if (points.size() < 20) {
    boxFromViewFrusta(data);
    return data;
  }
  const BoundingBox bulk = robustBoundingBox(std::move(points), 0.02f, 0.f);
  const Eigen::Vector3d mid = 0.5 * (bulk.min + bulk.max).cast<double>();
  const double r = 0.5 * double((bulk.max - bulk.min).maxCoeff()) * 1.1;
  data.boxMin = mid - Eigen::Vector3d::Constant(r);
  data.boxMax = mid + Eigen::Vector3d::Constant(r);
  return data;
}

std::string addModelPoints(FieldDataset& data, const Reconstruction& model) {
  if (model.points3D.empty()) return "";
  std::map<std::string, uint32_t> viewOf;  // photo name -> view index
  for (size_t i = 0; i < data.views.size(); ++i) viewOf[data.views[i].name] = uint32_t(i);
  std::map<uint32_t, uint32_t> viewOfImage;  // model image id -> view index
  for (const auto& [id, im] : model.images)
    if (const auto it = viewOf.find(fs::path(im.name).filename().string()); it != viewOf.end())
      viewOfImage[id] = it->second;
  // The model's images under the dataset's names, so that the two pair up by name.
  Reconstruction named;
  for (const auto& [id, view] : viewOfImage) {
    Image im = model.images.at(id);
    im.name = data.views[view].name;
    named.images[id] = im;
  }
  double residual = 0;
  const auto sim = similarityBetweenModels(named, fieldCameras(data), &residual);
  if (!sim)
    return "the project's sparse model shares fewer than 3 photos (by name) with " + data.source +
           "; its points are not used";
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (const auto& v : data.views) mean += v.center;
  mean /= double(data.views.size());
  std::vector<double> spread;
  for (const auto& v : data.views) spread.push_back((v.center - mean).norm());
  std::nth_element(spread.begin(), spread.begin() + long(spread.size() / 2), spread.end());
  const double tolerance = 0.01 * spread[spread.size() / 2];
  char text[160];
  std::snprintf(text, sizeof text, "%.3g (median, %zu photos; tolerance %.3g)", residual,
                viewOfImage.size(), tolerance);
  if (!(residual <= tolerance))
    return "the project's sparse model does not fit the cameras of " + data.source +
           ": camera centres differ by " + text + "; its points are not used";
  const Eigen::Matrix3d sR = sim->topLeftCorner<3, 3>();
  const Eigen::Vector3d t = sim->topRightCorner<3, 1>();
  size_t added = 0, background = 0;
  for (const auto& [id, p] : model.points3D) {
    const Eigen::Vector3d x = sR * p.xyz + t;
    std::vector<uint32_t> seenBy;
    int onObject = 0, onBackground = 0;
    for (const auto& obs : p.track) {
      const auto it = viewOfImage.find(obs.image_id);
      if (it == viewOfImage.end()) continue;
      seenBy.push_back(it->second);
      const FieldView& v = data.views[it->second];
      if (!v.hasAlpha) continue;
      const Eigen::Vector3d c = v.rotation.transpose() * (x - v.center);
      if (c.z() <= 0) continue;
      const double u = v.fx * c.x() / c.z() + v.cx, w = v.fy * c.y() / c.z() + v.cy;
      if (u < 0 || w < 0 || u >= v.width || w >= v.height) continue;
      const float alpha = v.rgba[4 * (size_t(w) * size_t(v.width) + size_t(u)) + 3];
      (alpha >= 0.5f ? onObject : onBackground) += 1;
    }
    if (seenBy.empty()) continue;
    if (onBackground > onObject) {
      ++background;
      continue;
    }
    data.points.push_back(x);
    data.pointViews.push_back(std::move(seenBy));
    ++added;
  }
  std::string note = std::to_string(added) + " points of the project's sparse model added, aligned onto " +
                     data.source + " (camera centres agree to " + text + ")";
  if (background) note += "; " + std::to_string(background) + " on the masks' background left out";
  return note;
}

void boxFromViewFrusta(FieldDataset& data) {
  const auto& views = data.views;
  if (views.empty()) throw Error("no cameras to train a field on");
  // The point closest to all optical axes, and the cameras' median distance to it.
  Eigen::Matrix3d A = Eigen::Matrix3d::Zero();
  Eigen::Vector3d b = Eigen::Vector3d::Zero();
  for (const auto& v : views) {
    const Eigen::Vector3d d = v.rotation.col(2).normalized();
    const Eigen::Matrix3d P = Eigen::Matrix3d::Identity() - d * d.transpose();
    A += P;
    b += P * v.center;
  }
  Eigen::Vector3d target = A.ldlt().solve(b);
  if (!target.allFinite()) target = Eigen::Vector3d::Zero();
  std::vector<double> dist;
  for (const auto& v : views) dist.push_back((v.center - target).norm());
  std::nth_element(dist.begin(), dist.begin() + long(dist.size() / 2), dist.end());
  const double half = std::max(1e-6, dist[dist.size() / 2]);
  // Cells of a 64^3 grid over target +- half seen by at least 90% of the cameras.
  const int n = 64;
  const size_t need = std::max<size_t>(1, size_t(std::ceil(0.9 * double(views.size()))));
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(1e300), hi = -lo;
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const Eigen::Vector3d p =
            target + half * (Eigen::Vector3d(x + 0.5, y + 0.5, z + 0.5) * (2.0 / n) -
                             Eigen::Vector3d::Ones());
        size_t seen = 0;
        for (const auto& v : views) {
          const Eigen::Vector3d c = v.rotation.transpose() * (p - v.center);
          if (c.z() <= 1e-9) continue;
          const double u = v.fx * c.x() / c.z() + v.cx, w = v.fy * c.y() / c.z() + v.cy;
          if (u >= 0 && w >= 0 && u < v.width && w < v.height) ++seen;
        }
        if (seen >= need) lo = lo.cwiseMin(p), hi = hi.cwiseMax(p);
      }
  if (!(lo.array() <= hi.array()).all()) {
    data.boxMin = target - Eigen::Vector3d::Constant(half * 0.5);
    data.boxMax = target + Eigen::Vector3d::Constant(half * 0.5);
    return;
  }
  // Padded by a cell and a tenth, as a cube (the hash grid's cells stay cubic).
  const Eigen::Vector3d mid = 0.5 * (lo + hi);
  const double r = 0.5 * (hi - lo).maxCoeff() * 1.1 + half / n * 2.0;
  data.boxMin = mid - Eigen::Vector3d::Constant(r);
  data.boxMax = mid + Eigen::Vector3d::Constant(r);
}

size_t carveByMasks(ScalarGrid& grid, float level, bool insideAbove, float margin,
                    const FieldDataset& data, const std::vector<size_t>& views,
                    const Eigen::Vector3d& origin, double scale, double objectRadius) {
  // Per view: background pixels whose 3x3 neighbourhood is background too.
  struct Silhouette {
    const FieldView* view;
    std::vector<uint8_t> background;
  };
  std::vector<Silhouette> masks;
  for (size_t i : views) {
    const FieldView& v = data.views.at(i);
    if (!v.hasAlpha) continue;
    Silhouette m{&v, std::vector<uint8_t>(size_t(v.width) * size_t(v.height), 0)};
    for (int y = 0; y < v.height; ++y)
      for (int x = 0; x < v.width; ++x) {
        bool back = true;
        for (int dy = -1; dy <= 1 && back; ++dy)
          for (int dx = -1; dx <= 1 && back; ++dx) {
            const int xx = std::clamp(x + dx, 0, v.width - 1), yy = std::clamp(y + dy, 0, v.height - 1);
            back = v.rgba[4 * (size_t(yy) * size_t(v.width) + size_t(xx)) + 3] < 0.5f;
          }
        m.background[size_t(y) * size_t(v.width) + size_t(x)] = back;
      }
    masks.push_back(std::move(m));
  }
  if (masks.empty()) return 0;
  const int n = grid.resolution;
  const float outside = insideAbove ? level - margin : level + margin;
  std::vector<size_t> moved(size_t(n), 0);
  parallelFor(size_t(n), [&](size_t z) {
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        float& value = grid.values[size_t(x) + size_t(n) * (size_t(y) + size_t(n) * z)];
        if (insideAbove ? value < outside : value > outside) continue;
        const Eigen::Vector3d q = grid.origin + grid.spacing * Eigen::Vector3d(x, y, double(z));
        if (objectRadius > 0 && (q - Eigen::Vector3d::Constant(0.5)).norm() > objectRadius) {
          value = outside;
          ++moved[z];
          continue;
        }
        const Eigen::Vector3d p = origin + scale * q;
        // Outside: a mask shows it as background, or no masked photo has it in frame
        // (nothing there was ever constrained; the object is in every photo).
        bool inFrame = false, background = false;
        for (const Silhouette& m : masks) {
          const FieldView& v = *m.view;
          const Eigen::Vector3d c = v.rotation.transpose() * (p - v.center);
          if (c.z() <= 0) continue;
          const double u = v.fx * c.x() / c.z() + v.cx, w = v.fy * c.y() / c.z() + v.cy;
          if (!(u >= 0 && w >= 0 && u < v.width && w < v.height)) continue;
          inFrame = true;
          if (m.background[size_t(w) * size_t(v.width) + size_t(u)]) {
            background = true;
            break;
          }
        }
        if (background || !inFrame) {
          value = outside;
          ++moved[z];
        }
      }
  });
  size_t total = 0;
  for (size_t m : moved) total += m;
  return total;
}

namespace {

// Squared Euclidean distance transform of one line in place (Felzenszwalb and
// Huttenlocher 2012): f holds 0 at the sites and a large value elsewhere.
void squaredDistance1d(std::vector<double>& f, std::vector<int>& v, std::vector<double>& z) {
  const int n = int(f.size());
  v.assign(size_t(n), 0);
  z.assign(size_t(n) + 1, 0);
  int k = 0;
  z[0] = -std::numeric_limits<double>::infinity(), z[1] = std::numeric_limits<double>::infinity();
  for (int q = 1; q < n; ++q) {
    double s;
    while (true) {  // z[0] = -inf ends this at k = 0 at the latest
      const int r = v[size_t(k)];
      s = ((f[size_t(q)] + double(q) * q) - (f[size_t(r)] + double(r) * r)) / (2.0 * (q - r));
      if (s > z[size_t(k)]) break;
      --k;
    }
    ++k;
    v[size_t(k)] = q, z[size_t(k)] = s, z[size_t(k) + 1] = std::numeric_limits<double>::infinity();
  }
  std::vector<double> d(static_cast<size_t>(n));
  k = 0;
  for (int q = 0; q < n; ++q) {
    while (z[size_t(k) + 1] < q) ++k;
    const int r = v[size_t(k)];
    d[size_t(q)] = double(q - r) * (q - r) + f[size_t(r)];
  }
  f.swap(d);
}

}  // namespace

ScalarGrid visualHullBound(const FieldDataset& data, const std::vector<size_t>& views,
                           const Eigen::Vector3d& origin, double scale, int res, bool sphere) {
  ScalarGrid grid;
  grid.resolution = res;
  grid.spacing = 1.0 / (res - 1);
  if (std::none_of(views.begin(), views.end(), [&](size_t i) { return data.views.at(i).hasAlpha; }))
    return ScalarGrid{};
  grid.values.assign(size_t(res) * size_t(res) * size_t(res), -1.f);
  carveByMasks(grid, 0.f, false, 1.f, data, views, origin, scale, sphere ? 0.45 : 0.0);
  const size_t n = size_t(res);
  // Squared distances in cells to the nearest point inside, one axis at a time.
  const double far = 4.0 * double(n) * double(n);
  std::vector<double> d2(grid.values.size());
  size_t inside = 0;
  for (size_t i = 0; i < d2.size(); ++i) {
    d2[i] = grid.values[i] < 0 ? 0.0 : far;
    inside += grid.values[i] < 0;
  }
  if (inside == 0) return ScalarGrid{};  // (nothing left where the object could be)
  for (int axis = 0; axis < 3; ++axis) {
    const size_t stride = axis == 0 ? 1 : axis == 1 ? n : n * n;
    parallelFor(n * n, [&](size_t line) {
      const size_t a = line % n, b = line / n;
      const size_t start = axis == 0 ? n * (a + n * b) : axis == 1 ? a + n * n * b : a + n * b;
      std::vector<double> f(n);
      std::vector<int> v;
      std::vector<double> z;
      for (size_t i = 0; i < n; ++i) f[i] = d2[start + i * stride];
      squaredDistance1d(f, v, z);
      for (size_t i = 0; i < n; ++i) d2[start + i * stride] = f[i];
    });
  }
  const double slack = 1.5 * std::sqrt(3.0);
  for (size_t i = 0; i < d2.size(); ++i)
    grid.values[i] = float(std::max(0.0, (std::sqrt(d2[i]) - slack) * grid.spacing));
  return grid;
}

Reconstruction fieldCameras(const FieldDataset& data, const std::vector<size_t>& which,
                            const Eigen::Vector3d& origin, double scale) {
  std::vector<size_t> all = which;
  if (all.empty())
    for (size_t i = 0; i < data.views.size(); ++i) all.push_back(i);
  Reconstruction cameras;
  uint32_t id = 1;
  for (size_t i : all) {
    const FieldView& v = data.views.at(i);
    Camera cam = Camera::pinhole(v.width, v.height, v.fx, v.fy, v.cx, v.cy);
    cam.camera_id = id;
    Image im;
    im.image_id = id, im.camera_id = id, im.name = v.name;
    const Eigen::Matrix3d R = v.rotation.transpose();
    im.cam_from_world = Rigid3d(Eigen::Quaterniond(R).normalized(), -R * ((v.center - origin) / scale));
    cameras.cameras[id] = cam;
    cameras.images[id++] = im;
  }
  return cameras;
}

}  // namespace parallax
