// Scene data as VTK data: point clouds, meshes and camera frusta as vtkPolyData,
// colour ramps for the viewport's colour modes, and the first view of a scene. No GL
// and no widget: the viewport draws what these build, and tests check them directly.
#pragma once

#include <vtkPolyData.h>
#include <vtkSmartPointer.h>

#include <Eigen/Core>
#include <vector>

#include "scene/geometry_data.h"
#include "texture/texturing.h"
#include "scene/reconstruction.h"

class vtkActor;

namespace parallax::ui {

// Points as vertices, with per-point colours when `colors` has one per point.
vtkSmartPointer<vtkPolyData> pointsPolyData(const std::vector<Eigen::Vector3f>& pts,
                                            const std::vector<Color3>& colors);
// Triangles with the mesh's colours and normals.
vtkSmartPointer<vtkPolyData> meshPolyData(const TriangleMesh& mesh);
// A textured mesh as one actor: its pages stacked into one texture (halved while taller
// than `maxTexture` texels), texture coordinates remapped to it.
vtkSmartPointer<vtkActor> texturedMeshActor(const TexturedMesh& mesh, int maxTexture = 16384);
// Each registered image as a pyramid (centre to the four image corners) reaching
// `size` along its viewing direction, so frusta stay visible at any scale.
vtkSmartPointer<vtkPolyData> frustaPolyData(const Reconstruction& model, double size);
// An actor drawing `poly` with its own colours (if it has any).
vtkSmartPointer<vtkActor> makeActor(vtkPolyData* poly);

// Blue, cyan, green, yellow, red for t from 0 to 1.
Color3 ramp(double t);
// `values` on the ramp between their 2% and 98% quantiles (from 0 when `fromZero`).
std::vector<Color3> rampColors(const std::vector<double>& values, bool fromZero = false);
// Height along `up` on the ramp.
std::vector<Color3> heightColors(const std::vector<Eigen::Vector3f>& pts, const Eigen::Vector3d& up);

// A view of the scene as the photographer saw it: the viewing direction, the view's
// up and the scene's up (left unchanged when the photos do not tell).
void homeViewFromPhotos(const Reconstruction& model, Eigen::Vector3d* direction,
                        Eigen::Vector3d* up, Eigen::Vector3d* sceneUp);

}  // namespace parallax::ui
