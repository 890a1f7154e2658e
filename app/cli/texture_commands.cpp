// parallax-cli evaluate-texture: how well the project's meshes render its photos (the
// texture issue's yardstick): the mesh stage's mesh with vertex colours, the same
// decimated to the textured mesh's faces with vertex colours, and the textured mesh.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "io/colmap_model.h"
#include "io/ply.h"
#include "mvs/dense_scene.h"
#include "surface/poisson.h"
#include "texture/textured_export.h"
#include "texture/textured_mesh_io.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/parallel.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax::cli {
namespace {

struct TextureEvalArgs {
  std::string project;
  int everyNth = 1;
  std::string renders;  // folder for the renderings (textured mesh), empty: none
};

// Mean PSNR and SSIM over the photos that have a finite score.
json meanScores(const std::vector<ImageScore>& scores) {
  double psnr = 0, ssim = 0;
  size_t n = 0, ns = 0, pixels = 0;
  for (const ImageScore& s : scores) {
    if (std::isfinite(s.psnr)) psnr += s.psnr, ++n, pixels += s.pixels;
    if (std::isfinite(s.ssim)) ssim += s.ssim, ++ns;
  }
  return {{"psnr", n ? psnr / double(n) : 0.0}, {"ssim", ns ? ssim / double(ns) : 0.0}, {"covered_pixels", pixels}};
}

// With object masks (undistort.mask_path) also the scores on the pixels inside them
// (the object), and the share of the covered pixels outside them.
json scoreAgainstPhotos(const TexturedMesh& mesh, const Reconstruction& cameras, const fs::path& denseDir,
                        int everyNth, const fs::path& renders = {}) {
  std::vector<const Image*> photos;
  int k = 0;
  for (const auto& [id, im] : cameras.images)
    if (k++ % everyNth == 0) photos.push_back(&im);
  std::vector<ImageScore> scores(photos.size()), inMask;
  std::vector<size_t> outside(photos.size(), 0);
  std::vector<char> masked(photos.size(), 0);
  inMask.resize(photos.size(), ImageScore{std::nan(""), std::nan(""), 0});
  parallelFor(photos.size(), [&](size_t i) {
    throwIfCancelled();
    const Image& im = *photos[i];
    Rendering r = renderMesh(mesh, cameras.cameras.at(im.camera_id), im.cam_from_world);
    const RgbImage photo = readRgbImage(denseDir / "images" / im.name);
    scores[i] = compareToPhoto(r, photo);
    if (!renders.empty()) writeRgbPng(renders / (fs::path(im.name).stem().string() + ".png"), r.image);
    const std::vector<uint8_t> mask = readMask(denseDir, im.name);
    if (mask.size() != r.covered.size()) return;
    masked[i] = 1;
    for (size_t p = 0; p < mask.size(); ++p)
      if (r.covered[p] && !mask[p]) r.covered[p] = 0, ++outside[i];
    inMask[i] = compareToPhoto(r, photo);
  }, 2);
  json per = json::array();
  for (size_t i = 0; i < photos.size(); ++i)
    per.push_back({{"photo", photos[i]->name}, {"psnr", scores[i].psnr}, {"ssim", scores[i].ssim},
                   {"pixels", scores[i].pixels}});
  json result = meanScores(scores);
  result["faces"] = mesh.mesh.faces.size();
  result["photos"] = per;
  if (std::count(masked.begin(), masked.end(), 1) > 0) {
    std::vector<ImageScore> withMasks;
    size_t out = 0, covered = 0;
    for (size_t i = 0; i < photos.size(); ++i)
      if (masked[i]) withMasks.push_back(inMask[i]), out += outside[i], covered += scores[i].pixels;
    result["in_masks"] = meanScores(withMasks);
    result["in_masks"]["photos"] = withMasks.size();
    result["outside_masks_share"] = covered ? double(out) / double(covered) : 0.0;
  }
  return result;
}

int evaluateTexture(const TextureEvalArgs& a, const Common& common) {
  installCancelSignalHandlers();
  Workspace ws = Workspace::open(a.project);
  const fs::path sparse = ws.denseDir() / "sparse";
  if (!hasColmapModel(sparse)) throw Error("the project has no undistorted cameras (dense/sparse); run the dense stages first");
  const fs::path meshFile = projectMeshFile(ws.root());
  if (!fs::exists(meshFile)) throw Error("the project has no mesh yet; run the mesh stage");
  const TexturedMesh textured = readProjectTexturedMesh(ws);
  const Reconstruction cameras = readColmapModel(sparse);
  if (a.everyNth < 1) throw Error("--every must be 1 or more");

  TexturedMesh full;
  full.mesh = readPly(meshFile);
  if (!full.mesh.hasColors()) throw Error("the mesh " + meshFile.string() + " has no vertex colours to compare with");
  TexturedMesh light;
  light.mesh = decimateMesh(full.mesh, textured.mesh.faces.size());
  json result;
  result["mesh"] = meshFile.lexically_relative(ws.root()).string();
  result["full_vertex_colours"] = scoreAgainstPhotos(full, cameras, ws.denseDir(), a.everyNth);
  result["light_vertex_colours"] = scoreAgainstPhotos(light, cameras, ws.denseDir(), a.everyNth);
  if (!a.renders.empty()) fs::create_directories(a.renders);
  result["textured"] = scoreAgainstPhotos(textured, cameras, ws.denseDir(), a.everyNth, a.renders);
  const SeamSteps seams = seamSteps(textured);
  result["textured"]["seams"] = {{"border_step", seams.border}, {"interior_step", seams.interior},
                                 {"border_edges", seams.border_edges}, {"interior_edges", seams.interior_edges}};
  result["textured"]["pages"] = textured.pages.size();
  if (common.json) {
    std::cout << result.dump() << "\n";
    return kExitOk;
  }
  std::cout << std::fixed << std::setprecision(2) << "rendered from "
            << result["textured"]["photos"].size() << " photos, compared on the pixels each mesh covers\n";
  for (const auto& [key, label] : std::vector<std::pair<std::string, std::string>>{
           {"full_vertex_colours", "mesh, vertex colours      "},
           {"light_vertex_colours", "decimated, vertex colours "},
           {"textured", "decimated, textured       "}}) {
    const json& r = result[key];
    std::cout << label << std::setw(9) << r["faces"].get<size_t>() << " faces: PSNR " << r["psnr"].get<double>()
              << " dB, SSIM " << std::setprecision(3) << r["ssim"].get<double>() << std::setprecision(2);
    if (r.contains("in_masks"))
      std::cout << "; inside the masks PSNR " << r["in_masks"]["psnr"].get<double>() << " dB, SSIM "
                << std::setprecision(3) << r["in_masks"]["ssim"].get<double>() << std::setprecision(2) << " ("
                << 100 * r["outside_masks_share"].get<double>() << "% of its pixels outside them)";
    std::cout << "\n";
  }
  std::cout << "seams: colour step across chart borders " << seams.border << " (" << seams.border_edges
            << " edges), inside charts " << seams.interior << " (" << seams.interior_edges << " edges), 0-255\n";
  return kExitOk;
}

}  // namespace

void addTextureCommands(CommandTable& t) {
  auto a = std::make_shared<TextureEvalArgs>();
  Common& common = t.common();
  auto* c = t.add("evaluate-texture",
                  "Render the project's meshes from its photos' cameras and compare with the photos on the "
                  "pixels each covers (PSNR, SSIM): the mesh with vertex colours, the same decimated to the "
                  "textured mesh's faces, and the textured mesh; and the colour step across the texture's "
                  "chart borders against the step inside charts; with object masks (undistort.mask_path) also the "
                  "scores inside them and the share of the rendered pixels outside them",
                  [a, &common] { return evaluateTexture(*a, common); });
  c->add_option("project", a->project, "Project folder")->required();
  c->add_option("--every", a->everyNth, "Use every N-th photo")->capture_default_str();
  c->add_option("--renders", a->renders, "Write the textured mesh's renderings here (PNG, one per photo)");
  t.addJson(c);
}

}  // namespace parallax::cli
