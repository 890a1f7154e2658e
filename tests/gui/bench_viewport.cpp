// Viewport benchmark (ctest -L bench, under Xvfb with Mesa's software renderer):
// frame times while orbiting clouds of 1, 5 and 20 million points (drawn with the
// level of detail above 4 million), the time to load each into the viewport, and
// the time of a rectangle selection over every point.
#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QSurfaceFormat>
#include <cmath>
#include <cstdlib>
#include <vector>
#include <cstdio>
#include <random>
#include <string>

#include "ui/scene_data.h"
#include "ui/viewport.h"

using namespace parallax;
using namespace parallax::ui;

namespace {

// A coloured surface: a wavy terrain, as a fused cloud of a landscape would be.
SceneData cloud(size_t n) {
  SceneData data;
  PointCloud c;
  c.points.resize(n);
  c.colors.resize(n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (size_t i = 0; i < n; ++i) {
    const float x = u(rng), y = u(rng);
    const float z = 0.15f * std::sin(6 * x) * std::cos(5 * y);
    c.points[i] = {x, y, z};
    c.colors[i] = {uint8_t(128 + 120 * x), uint8_t(128 + 120 * y), uint8_t(128 + 800 * z)};
  }
  data.dense = std::move(c);
  return data;
}

double renderMs(Viewport& v) {
  QSignalSpy spy(&v, &Viewport::frameRendered);
  QElapsedTimer t;
  t.start();
  v.update();
  spy.wait(60000);
  return double(t.nsecsElapsed()) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  QSurfaceFormat format;
  format.setDepthBufferSize(24);
  format.setStencilBufferSize(8);
  QSurfaceFormat::setDefaultFormat(format);
  QApplication app(argc, argv);
  Viewport v;
  v.resize(1200, 800);
  v.show();
  std::printf("%-10s %-16s %-8s %-12s %-16s %-16s %-10s\n", "points", "drawn (moving)", "load s",
              "first frame", "still frame ms", "moving frame ms", "select s");
  // Sizes in millions of points: the arguments, by default 1, 5 and 20.
  std::vector<double> sizes = {1, 5, 20};
  if (argc > 1) {
    sizes.clear();
    for (int i = 1; i < argc; ++i) sizes.push_back(std::atof(argv[i]));
  }
  for (double millions : sizes) {
    const size_t n = size_t(millions * 1e6);
    SceneData data = cloud(n);
    QElapsedTimer t;
    t.start();
    v.clearScene();
    v.setScene(data);
    const double load = double(t.nsecsElapsed()) / 1e9;
    const double first = renderMs(v);
    // Still: the full level of detail; moving: orbiting with the coarse subsample.
    double still = 0, moving = 0;
    const int frames = 10;
    for (int f = 0; f < frames; ++f) still += renderMs(v);
    v.setMoving(true);
    for (int f = 0; f < frames; ++f) {
      v.orbit(18, f % 2 ? 2 : -2);
      moving += renderMs(v);
    }
    v.setMoving(false);
    t.restart();
    v.setTool(Tool::kRectangle);
    v.selectRegion(QPolygonF(QRectF(0, 0, v.width(), v.height())), SelectMode::kReplace);
    const double select = double(t.nsecsElapsed()) / 1e9;
    const size_t selected = v.regionSelection().dense.size();
    const size_t coarse = std::min<size_t>(v.displayedDensePoints(), 250'000);
    std::printf("%-10zu %-16s %-8.2f %-12.0f %-16.1f %-16.1f %-10.3f (%zu selected)\n", n,
                (std::to_string(v.displayedDensePoints()) + " (" + std::to_string(coarse) + ")").c_str(),
                load, first, still / frames, moving / frames, select, selected);
    std::fflush(stdout);
    v.setRegionSelection({});
  }
  return 0;
}
