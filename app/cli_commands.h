// The commands of parallax-cli; each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace parallax::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitCancelled = 130;

struct Common {
  bool json = false;
};

int newProject(const std::string& project, const std::vector<std::string>& photos);
int addPhotos(const std::string& project, const std::vector<std::string>& photos);
int setParams(const std::string& project, const std::vector<std::string>& assignments);
int status(const std::string& project, const Common& common);
int params(const std::string& stage, const Common& common);
int runStage(const std::string& project, const std::string& stage,
             const std::vector<std::string>& assignments, const Common& common);
int reconstruct(const std::string& photos, const std::string& project, const std::string& until,
                const std::vector<std::string>& assignments, const Common& common);
int exportGeometry(const std::string& project, const std::string& what, const std::string& format,
                   const std::string& out);
int sample(const std::string& name, const std::string& outDir, int views, int width, int height,
           int seed, const Common& common);
int plugins(const Common& common);
int evaluatePoses(const std::string& project, const std::string& gt, const std::string& format,
                  int modelIndex, const Common& common);
struct GeometryEvalArgs {
  std::string project, gtMesh, gt, format = "colmap", masks;
  double tau = 0.01;  // share of the ground-truth mesh's bounding-box diagonal
  int samples = 200000;
};
int evaluateGeometry(const GeometryEvalArgs& args, const Common& common);
struct CleanArgs {
  std::string project;
  std::vector<std::string> layers;  // sparse, dense, mesh; empty: each the project has
  std::vector<double> crop;         // xmin ymin zmin xmax ymax zmax
  std::vector<double> outliers;     // neighbours, factor
  std::vector<double> radius;       // radius, minimum neighbours
  int minViews = 0;
  double maxError = 0;
  std::vector<std::string> deleteCameras;
  int undo = 0, redo = 0;
  bool history = false;
};
int clean(const CleanArgs& args);
struct FeatureEvalArgs {
  std::vector<std::string> photos;  // files or folders
  std::vector<std::string> methods = {"sift", "alike", "xfeat"};
  std::vector<std::string> assignments;  // features.* and matching.* parameters
  int pairs = 20;
  unsigned seed = 1;
  int maxSize = 640;
  double maxRotation = 20.0, maxScale = 1.4, maxShift = 0.15;
};
int evaluateFeatures(const FeatureEvalArgs& args, const Common& common);
int evaluateField(const std::string& project, const std::string& gtMesh, const Common& common);
int benchmarkHashGrid(int64_t points, const Common& common);

}  // namespace parallax::cli
