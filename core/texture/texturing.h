// Texturing a mesh from its photos (after Waechter, Moehrle and Goesele, "Let There Be
// Color!", 2014): every face picks the photo that sees it largest and sharpest, traded
// against seams between neighbouring faces (a Potts MRF solved by alpha-expansion on
// max-flow cuts); views whose colour for a face disagrees with the others (a passer-by, a
// moved object) are rejected first; one gain per photo and channel levels exposure across
// seams; faces with the same photo form charts, copied from the photo into atlas pages.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "scene/geometry_data.h"
#include "scene/reconstruction.h"
#include "scene/rgb_image.h"

namespace parallax {

// A mesh carrying a texture atlas. Vertices are split where charts meet, so each vertex
// has one texture coordinate (glTF's convention: (0, 0) is the page's top-left corner).
struct TexturedMesh {
  TriangleMesh mesh;                  // positions (colours: the texel under each vertex)
  std::vector<Eigen::Vector2f> uv;    // per vertex
  std::vector<int> face_page;         // per face: which page
  std::vector<int> face_view;         // per face: index of its photo, -1: unseen (grey); empty when read back
  std::vector<RgbImage> pages;
};

struct TextureOptions {
  int page_size = 4096;          // atlas pages are at most this square (pixels)
  int padding = 2;               // texels of the photo kept around every chart
  double smoothness = 1.0;       // the seam cost against the data term, per shared edge
  int expansion_sweeps = 3;      // alpha-expansion rounds over all photos
  double min_cosine = 0.1;       // views more grazing than this (cos of angle) are not used
  double outlier_distance = 0.08;  // colour distance (0-1 per channel) a view may stray
  bool level_seams = true;       // one gain per photo and channel, then local blending at seams
  int seam_rings = 20;           // how far (rings of vertices) a seam's colour offset fades into a chart
  int seam_feather = 8;          // texels either side of a seam that cross-fade the two photos (0: not)
  int seam_band = 12;            // then texels: how far a seam's remaining step is blended into a chart (0: not)
  int threads = 0;
};

struct TextureReport {
  size_t faces = 0, charts = 0, untextured_faces = 0, rejected_views = 0;
  size_t views_used = 0;
  double seam_edge_share = 0;  // share of interior edges between faces of different photos
  double atlas_fill = 0;       // share of the pages' texels that charts use
};

// Loads an undistorted photo by its image name (dense/images/NAME); throws with the
// file's name when it cannot.
using PhotoLoader = std::function<RgbImage(const std::string& name)>;
// A photo's object mask (width x height, non-zero = object), or empty for none: a face
// takes texture only from photos whose mask holds it (no background on a masked object).
using MaskLoader = std::function<std::vector<uint8_t>(const std::string& name)>;
using TextureProgress = std::function<void(const std::string& what, size_t done, size_t total)>;

// `cameras`: undistorted (PINHOLE) cameras and their poses, the mesh in their frame.
// Faces no photo sees get a neutral grey texel; their count is in the report.
// Throws when a chart cannot fit a page (names the page size to raise it to).
TexturedMesh textureMesh(const TriangleMesh& mesh, const Reconstruction& cameras,
                         const PhotoLoader& load, const TextureOptions& options = {},
                         TextureReport* report = nullptr, const TextureProgress& progress = {},
                         const MaskLoader& masks = {});

// Renders a textured mesh (or, with no pages, the vertex colours) from a camera:
// per pixel the colour and whether the mesh covers it.
struct Rendering {
  RgbImage image;
  std::vector<uint8_t> covered;
};
Rendering renderMesh(const TexturedMesh& textured, const Camera& camera, const Rigid3d& cam_from_world);

// PSNR (dB) and SSIM (8x8 windows, grey) of a rendering against a photo, over the
// pixels the rendering covers; NaN when it covers none.
struct ImageScore {
  double psnr = 0, ssim = 0;
  size_t pixels = 0;
};
ImageScore compareToPhoto(const Rendering& rendering, const RgbImage& photo);

// The colour step across chart borders against the step between neighbouring faces
// inside charts (mean absolute difference, 0-255, of the two faces' texels a tenth of the
// way in from their shared edge's midpoint): a seam that shows has a border step well
// above the interior one.
struct SeamSteps {
  double border = 0, interior = 0;
  size_t border_edges = 0, interior_edges = 0;
};
SeamSteps seamSteps(const TexturedMesh& textured);

}  // namespace parallax
