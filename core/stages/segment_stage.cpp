// Stage "segment": semantic labels on the dense cloud (and, carried over by nearest
// point, on the project's mesh) into labels/ (segment/labels.h). segment.geometric in
// core; learned segmenters (point or photo) from plugins, with geometric as the
// fallback when their plugin or weights are missing.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "io/colmap_model.h"
#include "io/ply.h"
#include "params/stages.h"
#include "pipeline/methods.h"
#include "pipeline/stage.h"
#include "mvs/dense_scene.h"
#include "mvs/fusion.h"
#include "segment/geometric.h"
#include "segment/image_segmenter.h"
#include "segment/point_segmenter.h"
#include "stages/builtin_stages.h"
#include "surface/cleaning.h"
#include "util/atomic_file.h"
#include "util/cancel.h"
#include "util/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax {
namespace {

Eigen::Vector3f axisUp(const std::string& up) {
  const float sign = up[0] == '-' ? -1.f : 1.f;
  const char axis = up.back();
  return sign * Eigen::Vector3f(axis == 'x', axis == 'y', axis == 'z');
}

GeometricSegmentOptions geometricOptions(const params::Segment& p) {
  GeometricSegmentOptions o;
  o.plane_distance = p.plane_distance;
  o.max_planes = p.max_planes;
  o.min_plane_share = p.min_plane_share;
  o.angle_tolerance_deg = p.angle_tolerance;
  o.wall_min_height = p.wall_min_height;
  o.cluster_distance = p.cluster_distance;
  o.min_cluster_points = p.min_cluster_points;
  o.max_points = size_t(p.max_points);
  return o;
}

std::string percent(double share) {
  std::ostringstream s;
  s.precision(share < 0.1 ? 1 : 0);
  s << std::fixed << 100 * share << "%";
  return s.str();
}

// A photo segmenter: each undistorted photo segmented by the network, its labels carried
// to the points it sees (fused.ply.vis) by a confidence-weighted vote.
std::vector<int32_t> labelFromPhotos(StageContext& ctx, const PointCloud& cloud, const std::string& method,
                                     const ImageSegmenter& segmenter, json* facts) {
  const fs::path dense = ctx.workspace.denseDir();
  const fs::path visFile = ctx.workspace.root() / files::Fusion::visibility;
  if (!fs::exists(visFile))
    throw Error("segment." + method + " needs which photos see each point (dense/fused.ply.vis); run fusion again");
  const std::vector<std::vector<uint32_t>> visibility = readVisibility(visFile);
  if (visibility.size() != cloud.size())
    throw Error("dense/fused.ply.vis belongs to another cloud (" + std::to_string(visibility.size()) +
                " points, the cloud has " + std::to_string(cloud.size()) + "); run fusion again");
  std::vector<MvsView> views = loadMvsViews(dense);
  std::vector<std::vector<uint32_t>> seenBy(views.size());
  for (size_t i = 0; i < visibility.size(); ++i)
    for (uint32_t v : visibility[i])
      if (v < views.size()) seenBy[v].push_back(uint32_t(i));
  const size_t classes = segmenter.classes(ctx.params).classes.size();
  std::vector<float> votes(cloud.size() * classes, 0.f);
  double networkSeconds = 0;
  size_t segmented = 0;
  for (size_t v = 0; v < views.size(); ++v) {
    throwIfCancelled();
    if (seenBy[v].empty()) continue;
    loadMvsImage(dense, views[v]);
    RgbImage photo;
    photo.width = views[v].width;
    photo.height = views[v].height;
    photo.rgb.resize(views[v].rgb.size());
    for (size_t k = 0; k < photo.rgb.size(); ++k)
      photo.rgb[k] = uint8_t(std::clamp(views[v].rgb[k] * 255.f + 0.5f, 0.f, 255.f));
    views[v].rgb.clear();
    views[v].rgb.shrink_to_fit();
    const auto t0 = std::chrono::steady_clock::now();
    const ImageLabels labels = segmenter.segment(photo, ctx.params);
    networkSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    addViewVotes(cloud, seenBy[v], views[v], labels, classes, votes);
    ++segmented;
    std::ostringstream msg;
    msg.precision(2);
    msg << std::fixed << views[v].name << ": " << networkSeconds / double(segmented) << " s a photo";
    ctx.report.progress(1, 4, msg.str());
  }
  std::vector<int32_t> out = labelsFromVotes(votes, classes);
  size_t labelled = 0;
  for (int32_t l : out) labelled += l >= 0;
  (*facts) = {{"photos", segmented},
              {"seconds_per_photo", segmented ? networkSeconds / double(segmented) : 0.0},
              {"labelled_share", double(labelled) / double(std::max<size_t>(1, out.size()))}};
  return out;
}

StageOutcome runSegment(StageContext& ctx) {
  Workspace& ws = ctx.workspace;
  const json& params = ctx.params;
  const params::Segment p = params::Segment::from(params);
  if (!p.enabled) {
    StageOutcome out;
    out.skipped = true;
    out.summary = "no labels (segment.enabled is off)";
    return out;
  }
  const auto start = std::chrono::steady_clock::now();
  const fs::path fused = ws.root() / files::Fusion::fused;
  if (!fs::exists(fused))
    throw Error("no dense point cloud to label (dense/fused.ply); run the fusion stage first");
  ctx.report.progress(0, 4, "reading the dense cloud");
  const PointCloud cloud = readPly(fused);
  if (cloud.size() == 0) throw Error("dense/fused.ply has no points; run fusion again");

  // The scene's up: the photos' average up, then the ground plane near it.
  std::optional<Reconstruction> model;
  if (hasColmapModel(ws.sparseDir())) model = readColmapModel(ws.sparseDir());
  const std::string& upParam = p.up;
  Eigen::Vector3f up = Eigen::Vector3f::UnitZ();
  std::string upFrom = "set by segment.up";
  const double spacing = medianSpacing(cloud.points);
  std::optional<Eigen::Vector4f> ground;
  if (upParam == "auto") {
    if (auto camUp = model ? upFromCameras(*model) : std::nullopt) {
      up = *camUp;
      upFrom = "the photos' average up";
    } else {
      upFrom = "+z (no registered photos to tell; set segment.up if wrong)";
      ctx.report.warning("cannot tell the scene's up from the photos; assuming +z (set segment.up)");
    }
    ground = groundPlane(cloud, up, p.plane_distance * spacing);
    if (ground) {
      up = ground->head<3>();
      upFrom += ", refined by the ground plane";
    }
  } else {
    up = axisUp(upParam);
    ground = groundPlane(cloud, up, p.plane_distance * spacing, 10);
  }

  // Which segmenter: a learned one when its plugin and weights are there, else geometric.
  const ResolvedMethod resolved = resolveMethod("segment", params);
  if (!resolved.warning.empty()) ctx.report.warning(resolved.warning);
  const std::string& method = resolved.name;
  const MethodRegistry& methods = MethodRegistry::instance();
  const PointSegmenter* learned = methods.find<PointSegmenter>("segment", method);
  const ImageSegmenter* photos = methods.find<ImageSegmenter>("segment", method);
  if (!resolved.classical && !learned && !photos)
    throw Error("segment." + method + " is registered but is neither a point nor a photo segmenter");

  json facts = json::object();
  std::vector<int32_t> labels;
  LabelTable table;
  ctx.report.progress(1, 4, "labelling " + std::to_string(cloud.size()) + " points (" + method + ")");
  if (photos) {
    labels = labelFromPhotos(ctx, cloud, method, *photos, &facts);
    table = photos->classes(params);
  } else if (!learned) {
    GeometricSegmentReport rep;
    GeometricSegmentOptions options = geometricOptions(p);
    options.spacing = spacing;  // measured above for the ground plane
    labels = segmentGeometric(cloud, up, options, &rep,
                              [&](const std::string& what) { ctx.report.progress(1, 4, what); });
    table = geometricLabelTable();
    facts = {{"planes", rep.planes}, {"walls", rep.walls}, {"objects", rep.objects},
             {"ground", rep.ground}, {"ceiling", rep.ceiling}, {"spacing", rep.spacing}};
  } else {
    // Metric scale: set, or from the photos' height above the ground (a person's eye, 1.6 m).
    double scale = p.scale;
    std::string scaleFrom = "set by segment.scale";
    if (scale <= 0) {
      std::vector<double> heights;
      if (model && ground)
        for (const auto& [id, image] : model->images)
          heights.push_back(ground->head<3>().dot(image.projectionCenter().cast<float>()) + (*ground)[3]);
      std::sort(heights.begin(), heights.end());
      const double h = heights.empty() ? 0 : heights[heights.size() / 2];
      if (h > 0) {
        scale = 1.6 / h;
        scaleFrom = "photos taken 1.6 m above the ground";
      } else {
        scale = 1.0;
        scaleFrom = "assumed metric (no ground plane under the photos; set segment.scale)";
        ctx.report.warning("cannot tell the scene's scale; assuming one unit is a metre (set segment.scale)");
      }
    }
    const PointCloud metric = toMetricZUp(cloud, up, scale);
    labels = learned->segment(metric, params, [&](size_t done, size_t total) {
      ctx.report.progress(1, 4, method + ": " + std::to_string(done) + " / " + std::to_string(total));
    });
    if (labels.size() != cloud.size())
      throw Error("segment." + method + " returned " + std::to_string(labels.size()) +
                  " labels for " + std::to_string(cloud.size()) + " points");
    table = learned->classes;
    facts = {{"scale", scale}, {"scale_from", scaleFrom}};
  }
  throwIfCancelled();

  // The mesh's vertices take their nearest point's label.
  ctx.report.progress(2, 4, "labelling the mesh");
  fs::create_directories(labelsDir(ws.root()));
  json record = toJson(table);
  record["points"] = cloud.size();
  record["up"] = {up.x(), up.y(), up.z()};
  record["up_from"] = upFrom;
  const fs::path meshFile = projectMeshFile(ws.root());
  size_t meshVertices = 0;
  if (fs::exists(meshFile) && meshFile.parent_path() != ws.referenceDir()) {
    PointCloud labelled = cloud;
    labelled.labels = labels;
    const TriangleMesh mesh = readPly(meshFile);
    writeLabels(meshLabelsFile(ws.root()), transferLabels(labelled, mesh.points));
    meshVertices = mesh.size();
    record["mesh"] = {{"file", fs::absolute(meshFile).string()}, {"vertices", meshVertices}};
  } else {
    fs::remove(meshLabelsFile(ws.root()));
  }
  ctx.report.progress(3, 4, "writing labels");
  writeLabels(denseLabelsFile(ws.root()), labels);
  const std::vector<size_t> counts = labelCounts(labels, table.classes.size());
  std::string shares;
  for (size_t c = 0; c < table.classes.size(); ++c) {
    record["classes"][c]["count"] = counts[c];
    if (counts[c] * 200 >= labels.size())  // 0.5% and more
      shares += (shares.empty() ? "" : ", ") + table.classes[c].name + " " +
                percent(double(counts[c]) / double(labels.size()));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  record["seconds"] = seconds;
  record["facts"] = facts;
  writeFileAtomic(labelTableFile(ws.root()), record.dump(1));
  ctx.report.preview("labels", denseLabelsFile(ws.root()).string());

  StageOutcome outcome;
  std::ostringstream sec;
  sec.precision(1);
  sec << std::fixed << seconds;
  outcome.summary = std::to_string(cloud.size()) + " points labelled by " + method + " in " +
                    sec.str() + " s: " + shares;
  if (facts.contains("seconds_per_photo")) {
    std::ostringstream per;
    per.precision(2);
    per << std::fixed << " (" << facts["photos"].get<size_t>() << " photos, "
        << facts["seconds_per_photo"].get<double>() << " s a photo; "
        << percent(facts["labelled_share"].get<double>()) << " of the points seen by a photo)";
    outcome.summary += per.str();
  }
  outcome.outputs = {{"method", method},        {"points", cloud.size()}, {"mesh_vertices", meshVertices},
                     {"seconds", seconds},      {"counts", counts},       {"facts", facts}};
  return outcome;
}

}  // namespace

void registerSegmentStage() { StageRegistry::instance().add({"segment", runSegment, nullptr}); }

}  // namespace parallax
