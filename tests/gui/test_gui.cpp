// The real main window under Xvfb: the viewport shows the sample's mesh and
// cameras, jobs run as workers that can be cancelled or crash without taking
// the window down, and the event loop stays responsive while they run.
#include <QApplication>
#include <QWheelEvent>
#include <QComboBox>
#include <QDialog>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QDockWidget>
#include <QMimeData>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTableWidget>
#include <QToolBar>
#include <QtTest>
#include <csignal>

#include <QUndoStack>

#include "io/ply.h"
#include "io/project_export.h"
#include "segment/geometric.h"
#include "pipeline/runner.h"
#include "pipeline/schema.h"
#include "plugin/plugin_manager.h"
#include "pipeline/stage.h"
#include "surface/cleaning.h"
#include "test_support.h"
#include "mvs/dense_scene.h"
#include "ui/depth_panel.h"
#include "ui/field_panel.h"
#include "ui/jobs_panel.h"
#include "ui/labels_panel.h"
#include "ui/main_window.h"
#include "ui/parameter_editor.h"
#include "ui/photo_browser.h"
#include "ui/selection_panel.h"
#include "ui/stats_panel.h"
#include "ui/stage_job.h"
#include "ui/viewport.h"
#include "util/hash.h"

namespace fs = std::filesystem;
using namespace parallax;
using namespace parallax::ui;

namespace {

QImage renderNow(Viewport* v) {
  QSignalSpy spy(v, &Viewport::frameRendered);
  v->update();
  if (!spy.wait(10000)) return {};
  return v->lastFrame();
}

// Share of pixels that differ, and their centroid (as a fraction of the image size).
double changedFraction(const QImage& a, const QImage& b, QPointF* centroid = nullptr) {
  if (a.size() != b.size() || a.isNull()) return 0;
  long changed = 0;
  double sx = 0, sy = 0;
  for (int y = 0; y < a.height(); ++y)
    for (int x = 0; x < a.width(); ++x) {
      QColor p = a.pixelColor(x, y), q = b.pixelColor(x, y);
      if (std::abs(p.red() - q.red()) + std::abs(p.green() - q.green()) +
              std::abs(p.blue() - q.blue()) >
          30) {
        ++changed;
        sx += x;
        sy += y;
      }
    }
  if (centroid && changed) *centroid = QPointF(sx / changed / a.width(), sy / changed / a.height());
  return double(changed) / (double(a.width()) * a.height());
}

void save(const QImage& img, const std::string& name) {
  QVERIFY(img.save(QString::fromStdString((test::outputDir() / name).string())));
}

// Shows the window, opens `project` and waits until its scene is in the viewport.
bool showAndOpen(MainWindow& w, const fs::path& project) {
  w.show();
  if (!QTest::qWaitForWindowExposed(&w)) return false;
  QSignalSpy loaded(&w, &MainWindow::sceneReloaded);
  return w.openProject(QString::fromStdString(project.string())) && loaded.wait(20000);
}

// The reconstructed sample project (a fresh copy in `tmp`), open in a 1400x900 window.
bool openSampleProject(MainWindow& w, const QTemporaryDir& tmp) {
  w.resize(1400, 900);
  return showAndOpen(w, test::sampleProject(tmp));
}

// Opens the slow-import project in `w` and starts the import as a worker, returning
// once the worker has reported progress.
StageJob* startSlowImport(MainWindow& w, const test::SlowImportProject& f) {
  w.show();
  if (!QTest::qWaitForWindowExposed(&w) ||
      !w.openProject(QString::fromStdString(f.project.string())))
    return nullptr;
  w.runStage("import");
  StageJob* job = w.jobs().last();
  QElapsedTimer t;
  t.start();
  while (job->fraction() <= 0 && !job->finished() && t.elapsed() < 30000) QTest::qWait(20);
  return job->fraction() > 0 ? job : nullptr;
}

// Pixels of about this colour (sum of channel differences below `tolerance`).
long countColour(const QImage& img, const QColor& colour, int tolerance = 60) {
  long n = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const QColor p = img.pixelColor(x, y);
      if (std::abs(p.red() - colour.red()) + std::abs(p.green() - colour.green()) +
              std::abs(p.blue() - colour.blue()) <
          tolerance)
        ++n;
    }
  return n;
}

const QColor kFrustumOrange(255, 115, 25), kHighlightCyan(51, 230, 255);

bool waitUntil(const std::function<bool()>& done, int ms) {
  QElapsedTimer t;
  t.start();
  while (!done() && t.elapsed() < ms) QTest::qWait(20);
  return done();
}

}  // namespace

class TestGui : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QSurfaceFormat format;
    format.setDepthBufferSize(24);
    format.setStencilBufferSize(8);
    QSurfaceFormat::setDefaultFormat(format);
    registerBuiltinStages();
  }

  void viewportShowsTheSampleMeshAndCameras() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    QVERIFY(v->hasLayer(Layer::kMesh));
    QVERIFY(v->hasLayer(Layer::kCameras));
    QVERIFY(v->hasLayer(Layer::kSparse));
    save(w.grab().toImage(), "gui_sample_project.png");
    // The mesh against the background: the dense points, drawn too, lie on its surface.
    v->setLayerVisible(Layer::kDense, false);
    QImage all = renderNow(v);
    QVERIFY(!all.isNull());

    v->setLayerVisible(Layer::kMesh, false);
    v->setLayerVisible(Layer::kSparse, false);
    QImage noMesh = renderNow(v);
    save(noMesh, "gui_viewport_mesh_hidden.png");
    QPointF centre;
    const double meshShare = changedFraction(all, noMesh, &centre);
    qInfo("mesh covers %.1f%% of the viewport, centred at (%.2f, %.2f)", 100 * meshShare,
          centre.x(), centre.y());
    QVERIFY2(meshShare > 0.05,
             qPrintable(QString("mesh changed only %1 of the pixels").arg(meshShare)));
    // Fit view frames the scene: the mesh is drawn around the middle of the viewport.
    QVERIFY(std::abs(centre.x() - 0.5) < 0.2 && std::abs(centre.y() - 0.5) < 0.25);

    v->setLayerVisible(Layer::kDense, false);
    const QImage noDense = renderNow(v);
    v->setLayerVisible(Layer::kCameras, false);
    QImage empty = renderNow(v);
    const double cameraShare = changedFraction(noDense, empty);
    QVERIFY2(cameraShare > 0.002,
             qPrintable(QString("cameras changed only %1 of the pixels").arg(cameraShare)));
    // With every layer hidden only the background gradient is left: its rows are uniform
    // (up to the rasteriser's rounding of the gradient, one level).
    const int row = empty.height() / 2;
    const QColor left = empty.pixelColor(0, row);
    for (int x = 0; x < empty.width(); ++x) {
      const QColor c = empty.pixelColor(x, row);
      QVERIFY2(std::abs(c.red() - left.red()) <= 1 && std::abs(c.green() - left.green()) <= 1 &&
                   std::abs(c.blue() - left.blue()) <= 1,
               qPrintable(QString("pixel %1 of the middle row is %2, the row starts %3")
                              .arg(x).arg(c.name(), left.name())));
    }

    // The photo browser lists the imported photos.
    QCOMPARE(w.photoBrowser()->count(), 24);
  }

  void clickingACameraOrAPointShowsWhatItSees() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    QVERIFY(!renderNow(v).isNull());
    const Reconstruction* model = v->model();
    QVERIFY(model && !model->images.empty());

    // Statistics: every photo of the sample is registered.
    const ModelStatistics stats = modelStatistics(*model);
    QVERIFY2(w.statsPanel()->summary().startsWith(
                 QString("%1 of 24 photos registered").arg(model->images.size())),
             qPrintable(w.statsPanel()->summary()));
    size_t histogramTotal = 0;
    for (size_t n : w.statsPanel()->errorHistogram()->bins()) histogramTotal += n;
    QCOMPARE(histogramTotal, stats.num_observations);
    histogramTotal = 0;
    for (size_t n : w.statsPanel()->trackHistogram()->bins()) histogramTotal += n;
    QCOMPARE(histogramTotal, stats.num_points);
    // One bar per registered photo; together they count every observation.
    QCOMPARE(w.statsPanel()->pointsPerPhoto()->bins().size(), model->images.size());
    histogramTotal = 0;
    for (size_t n : w.statsPanel()->pointsPerPhoto()->bins()) histogramTotal += n;
    QCOMPARE(histogramTotal, stats.num_observations);

    // Click on a camera centre: the camera is selected, highlighted, and its photo shown.
    const QImage before = v->lastFrame();
    QVERIFY(countColour(before, kHighlightCyan) < 20);
    const auto& [imageId, image] = *model->images.begin();
    const auto at = v->projectToWidget(image.projectionCenter());
    QVERIFY(at && v->rect().contains(at->toPoint()));
    QTest::mouseClick(v, Qt::LeftButton, {}, at->toPoint());
    QCOMPARE(int(v->selection().kind), int(Selection::kCamera));
    const Image& picked = model->images.at(uint32_t(v->selection().id));
    QCOMPARE(w.selectionPanel()->title(), QString::fromStdString(picked.name));
    QVERIFY(w.selectionPanel()->photoView()->isVisible());
    const QImage selected = renderNow(v);
    save(w.grab().toImage(), "gui_camera_selected.png");
    QVERIFY2(countColour(selected, kHighlightCyan) > 50, "the selected frustum is not highlighted");

    // Click on a point far from every camera: its track is listed, one row per photo.
    std::optional<std::pair<uint64_t, QPointF>> target;
    for (const auto& [pid, point] : model->points3D) {
      if (point.track.size() < 3) continue;
      const auto p = v->projectToWidget(point.xyz);
      if (!p || !v->rect().adjusted(20, 20, -20, -20).contains(p->toPoint())) continue;
      bool nearCamera = false;
      for (const auto& [id, im] : model->images) {
        const auto c = v->projectToWidget(im.projectionCenter());
        nearCamera |= c && QLineF(*c, *p).length() < 20;
      }
      if (!nearCamera) {
        target = {{pid, *p}};
        break;
      }
    }
    QVERIFY(target);
    QTest::mouseClick(v, Qt::LeftButton, {}, target->second.toPoint());
    QCOMPARE(int(v->selection().kind), int(Selection::kPoint));
    const Point3D& point = model->points3D.at(v->selection().id);
    QCOMPARE(size_t(w.selectionPanel()->trackRows()), point.track.size());
    QStringList names;
    for (int r = 0; r < w.selectionPanel()->trackRows(); ++r)
      names << w.selectionPanel()->trackRow(r).section(' ', 0, 0);
    for (const TrackElement& el : point.track)
      QVERIFY(names.contains(QString::fromStdString(model->images.at(el.image_id).name)));
    renderNow(v);
    save(w.grab().toImage(), "gui_point_selected.png");

    // A drag rotates the view and selects nothing new; a click on empty space clears.
    QTest::mouseClick(v, Qt::LeftButton, {}, QPoint(3, 3));
    QCOMPARE(int(v->selection().kind), int(Selection::kNone));
    QVERIFY(w.selectionPanel()->trackRows() == 0);
  }

  void mapperWorkerShowsTheModelAsItGrows() {
    QTemporaryDir tmp;
    const fs::path project = test::projectFrom(test::sampleDir(), tmp, "matching");
    MainWindow w;
    w.resize(1200, 800);
    QVERIFY(showAndOpen(w, project));
    QVERIFY(!w.viewport()->model());  // nothing reconstructed yet
    int liveReloads = 0;
    connect(&w, &MainWindow::sceneReloaded, this, [&] {
      if (w.statsPanel()->summary().contains("mapper running")) ++liveReloads;
    });
    w.runStage("sparse");
    StageJob* job = w.jobs().last();
    QSignalSpy previews(job, &StageJob::preview);
    QSignalSpy finished(&w, &MainWindow::queueFinished);
    QVERIFY(finished.wait(120000));
    int livePreviews = 0;
    for (const auto& args : previews) livePreviews += args.at(0).toString() == "sparse-live";
    qInfo("%d live snapshots announced, %d shown while the mapper ran; job %d: %s", livePreviews, liveReloads,
          int(job->state()), qPrintable(job->message()));
    // The worker announces snapshots as photos register; the GUI reloads on them.
    QVERIFY(livePreviews >= 1);
    // Once done, the finished model replaces the snapshot, which is removed.
    // (The last snapshot may hold all 24 photos too: the wait is for the finished model.)
    QVERIFY2(waitUntil([&] {
               const QString s = w.statsPanel()->summary();
               return s.startsWith("24 of 24") && !s.contains("mapper running");
             }, 20000),
             qPrintable(w.statsPanel()->summary()));
    QVERIFY(!fs::exists(project / "cache" / "live" / "sparse"));
    QCOMPARE(w.viewport()->model()->images.size(), size_t(24));
  }

  // The issue's acceptance screenshot: fountain-P11's 11 cameras and sparse points.
  void viewportShowsTheFountainModel() {
    PARALLAX_REQUIRE_DATA(data, "strecha_fountain-P11");
    QTemporaryDir tmp;
    Workspace ws = Workspace::create(test::tempPath(tmp, "fountain"));
    ws.addPhotoRoot(data / "images");
    ws.save();
    QCOMPARE(int(runPipeline(ws, "sparse", nullptr)), int(RunResult::kSucceeded));
    MainWindow w;
    w.resize(1400, 900);
    QVERIFY(showAndOpen(w, ws.root()));
    Viewport* v = w.viewport();
    QVERIFY(v->hasLayer(Layer::kCameras) && v->hasLayer(Layer::kSparse));
    QCOMPARE(v->model()->images.size(), size_t(11));
    const QImage frame = renderNow(v);
    save(w.grab().toImage(), "gui_fountain.png");
    // Every camera centre lands inside the view, and the frusta are drawn.
    for (const auto& [id, im] : v->model()->images) {
      const auto p = v->projectToWidget(im.projectionCenter());
      QVERIFY(p && v->rect().contains(p->toPoint()));
    }
    QVERIFY(countColour(frame, kFrustumOrange) > 200);
    // The points cover a real part of the view: hiding them changes it.
    v->setLayerVisible(Layer::kSparse, false);
    const double pointShare = changedFraction(frame, renderNow(v));
    qInfo("fountain: %zu cameras, %zu points, points cover %.1f%% of the viewport",
          v->model()->images.size(), v->model()->points3D.size(), 100 * pointShare);
    QVERIFY(pointShare > 0.03);
    QVERIFY(w.statsPanel()->summary().startsWith("11 of 11 photos registered"));
  }

  // Clicking a photo shows its depth map in the Depth panel: the map is the photo's
  // (its values follow the true depth of that view), colour-mapped, with the value
  // under the mouse; the confidence view shows something else.
  void depthPanelShowsTheClickedPhotosDepthMap() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    w.depthDock()->raise();
    DepthPanel* panel = w.depthPanel();
    PhotoBrowser* photos = w.photoBrowser();
    QVERIFY(waitUntil([&] { return photos->count() > 3; }, 10000));
    QListWidgetItem* item = photos->item(3);
    photos->scrollToItem(item);
    QSignalSpy shown(panel, &DepthPanel::mapShown);
    QTest::mouseClick(photos->viewport(), Qt::LeftButton, {},
                      photos->visualItemRect(item).center());
    QVERIFY(shown.count() >= 1 || shown.wait(5000));
    QCOMPARE(panel->photo(), item->text());
    QVERIFY(!panel->image().isNull());
    QCOMPARE(panel->image().size(), QSize(panel->mapWidth(), panel->mapHeight()));
    const double valid = panel->validFraction();
    qInfo("%s: %dx%d map, %.1f%% with depth; %s", qPrintable(panel->photo()), panel->mapWidth(),
          panel->mapHeight(), 100 * valid, qPrintable(panel->info()));
    QVERIFY(valid > 0.3);
    // The shown values are this photo's depth: they follow the true depth of this view
    // (a similarity scales depth, so the correlation is 1 for a perfect map).
    int tw = 0, th = 0, tc = 0;
    const std::vector<float> truth = readColmapMap(
        test::sampleDir() / "ground_truth" / "depth_maps" / (item->text().toStdString() + ".bin"),
        &tw, &th, &tc);
    std::vector<double> ratios;
    for (int y = 0; y < panel->mapHeight(); ++y)
      for (int x = 0; x < panel->mapWidth(); ++x) {
        const double d = panel->depthAt(x, y);
        const int u = std::min(tw - 1, int((x + 0.5) * tw / panel->mapWidth()));
        const int v = std::min(th - 1, int((y + 0.5) * th / panel->mapHeight()));
        const double t = truth[size_t(v) * size_t(tw) + size_t(u)];
        if (d > 0 && t > 0) ratios.push_back(d / t);
      }
    QVERIFY(ratios.size() > 1000);
    std::nth_element(ratios.begin(), ratios.begin() + long(ratios.size() / 2), ratios.end());
    const double scale = ratios[ratios.size() / 2];
    const double agree = double(std::count_if(ratios.begin(), ratios.end(), [&](double r) {
                           return std::abs(r / scale - 1) < 0.03;
                         })) / double(ratios.size());
    qInfo("%.1f%% of the shown depths are within 3%% of the true depth (scaled by %.4f)",
          100 * agree, scale);
    QVERIFY(agree > 0.8);
    // Near is warm, far is cold: the nearest valid pixel is redder than the farthest.
    QPoint nearest, farthest;
    float dmin = 1e30f, dmax = 0;
    for (int y = 0; y < panel->mapHeight(); ++y)
      for (int x = 0; x < panel->mapWidth(); ++x) {
        const float d = panel->depthAt(x, y);
        if (d <= 0) continue;
        if (d < dmin) dmin = d, nearest = {x, y};
        if (d > dmax) dmax = d, farthest = {x, y};
      }
    QVERIFY(panel->image().pixelColor(nearest).red() > panel->image().pixelColor(farthest).red());
    // The value under the mouse.
    MapView* view = panel->view();
    const QPointF centre = QRectF(view->rect()).center();
    QMouseEvent move(QEvent::MouseMove, centre, view->mapToGlobal(centre), Qt::NoButton,
                     Qt::NoButton, Qt::NoModifier);
    QApplication::sendEvent(view, &move);
    const QPoint under = view->mapPixel(centre);
    auto* hover = panel->findChild<QLabel*>("depthHover");
    QVERIFY(under.x() >= 0);
    // "pixel (X, Y): depth D[, confidence C]" for the pixel under the mouse.
    const QRegularExpressionMatch m =
        QRegularExpression(R"(pixel \((\d+), (\d+)\): (depth ([0-9.e+-]+)|no depth))").match(hover->text());
    QVERIFY2(m.hasMatch(), qPrintable(hover->text()));
    const int hx = m.captured(1).toInt(), hy = m.captured(2).toInt();
    QCOMPARE(QPoint(hx, hy), under);
    const float shownDepth = panel->depthAt(hx, hy);
    if (shownDepth > 0)
      QVERIFY(std::abs(m.captured(4).toDouble() / shownDepth - 1) < 1e-3);
    else
      QVERIFY(m.captured(3) == "no depth");
    save(w.grab().toImage(), "gui_depth_panel.png");
    const QImage depthImage = panel->image();
    panel->findChild<QComboBox*>("depthMode")->setCurrentText("Confidence");
    QVERIFY(panel->image() != depthImage);
    save(w.grab().toImage(), "gui_depth_panel_confidence.png");
    // Selecting a camera in the viewport shows that photo's map.
    const auto& [id, image] = *std::next(w.viewport()->model()->images.begin(), 5);
    w.viewport()->select({Selection::kCamera, id});
    QCOMPARE(panel->photo(), QString::fromStdString(image.name));
  }

  void fitViewAndTrackballChangeTheView() {
    QTemporaryDir tmp;
    fs::path project = test::sampleProject(tmp);
    MainWindow w;
    QVERIFY(showAndOpen(w, project));
    Viewport* v = w.viewport();
    QImage before = renderNow(v);
    QPoint c = v->rect().center();
    QTest::mousePress(v, Qt::LeftButton, {}, c);
    for (int i = 1; i <= 10; ++i) QTest::mouseMove(v, c + QPoint(15 * i, 0));
    QTest::mouseRelease(v, Qt::LeftButton, {}, c + QPoint(150, 0));
    QImage rotated = renderNow(v);
    QVERIFY(changedFraction(before, rotated) > 0.05);
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QTest::keyClick(&w, Qt::Key_F);  // View > Fit View
    QImage fitted = renderNow(v);
    qInfo("rotation changed %.1f%% of the pixels; after F, %.1f%% differ from the first view",
          100 * changedFraction(before, rotated), 100 * changedFraction(before, fitted));
    QVERIFY(changedFraction(before, fitted) < 0.01);
    // F frames what is shown: the mesh alone (without the ring of cameras) fills more of
    // the view, from nearer.
    const double allDistance = (v->cameraPosition() - v->focalPoint()).norm();
    for (const char* layer : {"layer-Cameras", "layer-Sparse Points", "layer-Dense Cloud"})
      w.findChild<QAction*>(layer)->setChecked(false);
    QTest::keyClick(&w, Qt::Key_F);
    save(renderNow(v), "gui_fit_mesh_only.png");  // the view is framed as it is drawn
    const double meshDistance = (v->cameraPosition() - v->focalPoint()).norm();
    qInfo("framing everything from %.2f units, the mesh alone from %.2f", allDistance, meshDistance);
    QVERIFY(meshDistance < 0.8 * allDistance);
  }

  void eventLoopStaysResponsiveWhileAWorkerRuns() {
    test::SlowImportProject f;
    MainWindow w;
    QVERIFY(showAndOpen(w, f.project));
    renderNow(w.viewport());  // the first frame compiles shaders; that is not what is measured
    // Tick every 10 ms and record how late each tick is.
    QElapsedTimer clock;
    qint64 last = 0, worst = 0, worstAt = 0;
    QTimer ticker;
    ticker.setTimerType(Qt::PreciseTimer);
    QObject::connect(&ticker, &QTimer::timeout, [&] {
      qint64 now = clock.elapsed();
      if (now - last - 10 > worst) worst = now - last - 10, worstAt = now;
      last = now;
    });
    clock.start();
    w.runStage("import");
    QVERIFY(w.busy());
    ticker.start(10);
    QVERIFY(waitUntil([&] { return !w.busy(); }, 120000));
    ticker.stop();
    const qint64 ran = clock.elapsed();
    qInfo("worker ran %lld ms; worst event-loop latency %lld ms (at %lld ms)", ran, worst, worstAt);
    QCOMPARE(w.jobs().last()->state(), StageJob::State::kSucceeded);
    QVERIFY2(ran > 500, "the worker finished too fast to measure anything");
    QVERIFY2(worst < 100, qPrintable(QString("event loop blocked for %1 ms").arg(worst)));
  }

  void cancelButtonStopsTheWorkerAndKeepsOutputs() {
    test::SlowImportProject f;
    MainWindow w;
    StageJob* job = startSlowImport(w, f);
    QVERIFY2(job, "the import worker never reported progress");
    auto* button = w.jobsPanel()->findChild<QPushButton*>("cancel-import");
    QVERIFY(button);
    QTest::mouseClick(button, Qt::LeftButton);
    QVERIFY(waitUntil([&] { return job->finished(); }, 20000));
    QCOMPARE(job->state(), StageJob::State::kCancelled);
    QCOMPARE(hashFile(f.project / "database.db"), f.databaseHash);
    save(w.grab().toImage(), "gui_job_cancelled.png");
  }

  void crashedWorkerBecomesAFailedJobAndTheWindowStaysUp() {
    test::SlowImportProject f;
    MainWindow w;
    StageJob* job = startSlowImport(w, f);
    QVERIFY2(job, "the import worker never reported progress");
    ::kill(pid_t(job->pid()), SIGKILL);
    QVERIFY(waitUntil([&] { return job->finished(); }, 20000));
    QCOMPARE(job->state(), StageJob::State::kFailed);
    QVERIFY2(job->message().contains("crashed or was killed"), qPrintable(job->message()));
    QVERIFY(w.jobsPanel()->log()->toPlainText().contains("crashed or was killed"));
    // The window repairs the project as soon as the worker is gone.
    QCOMPARE(w.workspace()->stageRecord("import")["status"], nlohmann::json("interrupted"));
    QVERIFY(w.jobsPanel()->log()->toPlainText().contains("stage 'import' was interrupted"));
    auto* state = w.parameterEditor()->findChild<QLabel*>("stageState");
    QVERIFY2(!state->text().contains("running"), qPrintable(state->text()));
    save(w.grab().toImage(), "gui_job_crashed.png");
    // Still fully usable: the project reopens and the stage runs again.
    QVERIFY(w.openProject(QString::fromStdString(f.project.string())));
    w.runStage("import");
    QVERIFY(waitUntil([&] { return !w.busy(); }, 120000));
    QCOMPARE(w.jobs().last()->state(), StageJob::State::kSucceeded);
  }

  // A NeuS field trained from the GUI: the Field panel follows it live (the probe view's render
  // and the PSNR curve grow while the worker runs), Pause stops it at a checkpoint, Resume
  // continues from there, and its surface becomes the mesh the viewport shows.
  void fieldTrainsLivePausesAndResumes() {
    PARALLAX_REQUIRE_PLUGIN("field_neus");
    QTemporaryDir tmp;
    const fs::path project = test::projectFrom(test::sampleDir(), tmp, "sparse");
    {
      Workspace ws = Workspace::open(project);
      for (const auto& [k, v] : std::vector<std::pair<std::string, nlohmann::json>>{
               {"enabled", true}, {"method", "neus"}, {"max_image_size", 96}, {"time_budget_s", 24.0}, {"curve_interval_s", 3.0},
               {"checkpoint_interval_s", 3.0}, {"mesh_resolution", 64}, {"batch_samples", 16384}})
        ws.setParamOverride("field", k, v);
      ws.save();
    }
    MainWindow w;
    w.resize(1400, 900);
    QVERIFY(showAndOpen(w, project));
    FieldPanel* panel = w.fieldPanel();
    QVERIFY(!panel->pauseButton()->isEnabled());
    w.runStage("field");
    StageJob* job = w.jobs().last();
    QVERIFY2(waitUntil([&] { return panel->plot()->curve().size() >= 2 || job->finished(); }, 180000),
             "no live preview while the field trains");
    QVERIFY2(!job->finished(), qPrintable(job->message()));
    QVERIFY(!panel->image().isNull());
    QVERIFY2(panel->info().contains("held out"), qPrintable(panel->info()));
    save(w.grab().toImage(), "gui_field_live.png");
    QVERIFY(panel->pauseButton()->isEnabled());
    QTest::mouseClick(panel->pauseButton(), Qt::LeftButton);
    QVERIFY(waitUntil([&] { return job->finished(); }, 30000));
    QCOMPARE(job->state(), StageJob::State::kCancelled);
    const size_t pausedPoints = panel->plot()->curve().size();
    QVERIFY(panel->resumeButton()->isEnabled());
    QTest::mouseClick(panel->resumeButton(), Qt::LeftButton);
    QVERIFY(waitUntil([&] { return !w.busy(); }, 300000));
    QCOMPARE(w.jobs().last()->state(), StageJob::State::kSucceeded);
    QVERIFY2(w.jobsPanel()->log()->toPlainText().contains("resuming the training stopped at iteration"),
             qPrintable(w.jobsPanel()->log()->toPlainText().right(2000)));
    QVERIFY(panel->plot()->curve().size() > pausedPoints);
    // The surface is the project's mesh now (the sample's reference mesh before).
    const fs::path fieldMesh = fs::canonical(project) / "fields/neus/mesh.ply";
    QVERIFY2(waitUntil([&] { return fs::path(w.loadedScene().meshSource) == fieldMesh; }, 20000),
             qPrintable(QString::fromStdString(w.loadedScene().meshSource) + "; log: " +
                        w.jobsPanel()->log()->toPlainText().right(600)));
    QVERIFY(w.loadedScene().mesh && !w.loadedScene().mesh->faces.empty());
    save(w.grab().toImage(), "gui_field_done.png");
  }

  void parameterEditorValidatesAndMarksStale() {
    QTemporaryDir tmp;
    fs::path project = test::sampleProject(tmp);
    MainWindow w;
    w.show();
    QVERIFY(w.openProject(QString::fromStdString(project.string())));
    w.parameterEditor()->selectStage("import");
    auto* spin = w.parameterEditor()->findChild<QDoubleSpinBox*>("import.default_focal_factor");
    QVERIFY(spin);
    QCOMPARE(spin->maximum(), 5.0);  // range from the schema
    spin->setValue(0.9);
    Workspace reopened = Workspace::open(project);  // saved for workers to read
    QCOMPARE(reopened.paramOverrides("import")["default_focal_factor"].get<double>(), 0.9);
    QVERIFY(stageState(reopened, "ground_truth").stale);
    auto* state = w.parameterEditor()->findChild<QLabel*>("stageState");
    QVERIFY2(state->text().contains("its parameters have changed since it ran"), qPrintable(state->text()));
    // A number typed out of its range stays on screen and is said in red; the value stays
    // as it was (Qt's spin box would drop the 0 of 50 and read 5 without a word).
    w.parameterEditor()->selectStage("mesh");
    auto* smooth = w.parameterEditor()->findChild<QSpinBox*>("mesh.smooth");
    auto* error = w.parameterEditor()->findChild<QLabel*>("paramError");
    QVERIFY(smooth && error);
    QCOMPARE(smooth->maximum(), 20);
    QTest::keyClick(smooth, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(smooth, "50");
    QVERIFY2(smooth->text().startsWith("50"), qPrintable(smooth->text()));
    QVERIFY2(error->text().contains("smooth = 50 is out of range [0, 20]"), qPrintable(error->text()));
    QVERIFY(error->isVisible());
    // Typing ends (Enter): nothing of it was taken (not the 5 on the way to 50 either);
    // the box shows the value it had, and the message stays to say why.
    const int before = smooth->value();
    QTest::keyClick(smooth, Qt::Key_Return);
    QCOMPARE(smooth->value(), before);
    QVERIFY2(smooth->text().startsWith(QString::number(before)), qPrintable(smooth->text()));
    QVERIFY(!Workspace::open(project).paramOverrides("mesh").contains("smooth"));
    QVERIFY2(error->text().contains("smooth = 50 is out of range [0, 20]"), qPrintable(error->text()));
    // Another stage's form does not carry the message.
    w.parameterEditor()->selectStage("texture");
    QVERIFY2(error->text().isEmpty(), qPrintable(error->text()));
    w.parameterEditor()->selectStage("mesh");
    smooth = w.parameterEditor()->findChild<QSpinBox*>("mesh.smooth");
    QTest::keyClick(smooth, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(smooth, "50");
    QVERIFY(!error->text().isEmpty());
    QTest::keyClick(smooth, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(smooth, "0");
    QTest::keyClick(smooth, Qt::Key_Return);
    QCOMPARE(smooth->value(), 0);
    QVERIFY2(error->text().isEmpty(), qPrintable(error->text()));
    QVERIFY(!Workspace::open(project).paramOverrides("mesh").contains("smooth"));
    // Reconstruct reruns exactly the stale stages.
    QSignalSpy liveMaps(w.depthPanel(), &DepthPanel::mapShown);
    w.reconstruct();
    QVERIFY(waitUntil([&] { return !w.busy(); }, 60000));
    // Import and everything after it, dense stages, texture and labels included; the neural
    // field is off by default.
    QCOMPARE(w.jobs().size(), 12);
    for (StageJob* j : w.jobs())
      QCOMPARE(j->state(), j->stage() == "field" ? StageJob::State::kSkipped : StageJob::State::kSucceeded);
    // The Depth panel followed the depth maps as the worker wrote them, one by one.
    const size_t photos = w.viewport()->model()->images.size();
    qInfo("%lld depth maps shown live for %zu photos", liveMaps.count(), photos);
    QVERIFY(size_t(liveMaps.count()) >= photos);
    QVERIFY(w.depthPanel()->validFraction() > 0.3);
  }

  // The feature type is a choice in the parameter panel: the learned ones are offered, and
  // choosing one (by keys) is saved for the workers and makes matching and what follows stale.
  void featureTypeIsChosenInTheParameterPanel() {
    QTemporaryDir tmp;
    fs::path project = test::projectFrom(test::sampleDir(), tmp, "sparse");
    MainWindow w;
    w.show();
    QVERIFY(w.openProject(QString::fromStdString(project.string())));
    w.parameterEditor()->selectStage("features");
    auto* method = w.parameterEditor()->findChild<QComboBox*>("features.method");
    QVERIFY(method);
    // The GUI never loads LibTorch; it offers the methods the installed plugins declare
    // beside their libraries, the same the workers run.
    QStringList items, declared;
    for (int i = 0; i < method->count(); ++i) items << method->itemText(i);
    for (const auto& m : Schema::instance().requireStage("features").methods) declared << QString::fromStdString(m.name);
    QCOMPARE(items, declared);
    if (std::string(PARALLAX_CONFIGURED_PLUGINS).find(",features_alike,") == std::string::npos)
      QSKIP("this build leaves the features_alike plugin out");
    QCOMPARE(items.mid(0, 2), QStringList({"sift", "alike"}));
    QCOMPARE(method->currentText(), QString("sift"));
    method->setFocus();
    QTest::keyClick(method, Qt::Key_Down);
    QCOMPARE(method->currentText(), QString("alike"));
    Workspace reopened = Workspace::open(project);
    QCOMPARE(reopened.paramOverrides("features")["method"].get<std::string>(), std::string("alike"));
    QVERIFY(stageState(reopened, "features").stale);
    QVERIFY(stageState(reopened, "matching").stale);
    QVERIFY(stageState(reopened, "sparse").stale);
    QVERIFY(!stageState(reopened, "import").stale);
    auto* state = w.parameterEditor()->findChild<QLabel*>("stageState");
    QVERIFY2(state->text().contains("its parameters have changed since it ran"), qPrintable(state->text()));
  }

  void droppingAPhotoFolderImportsIt() {
    QTemporaryDir tmp;
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.newProject(QString::fromStdString(test::tempPath(tmp, "new-project").string())));
    auto* mime = new QMimeData;
    mime->setUrls(
        {QUrl::fromLocalFile(QString::fromStdString((test::sampleDir() / "images").string()))});
    QWidget* target = w.photoBrowser()->viewport();
    const QPoint at = target->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(at), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
    QVERIFY(w.busy());  // the drop started an import worker
    QVERIFY(waitUntil([&] { return !w.busy(); }, 60000));
    QCOMPARE(w.jobs().last()->state(), StageJob::State::kSucceeded);
    QVERIFY(waitUntil([&] { return w.photoBrowser()->count() == 24; }, 10000));
    delete mime;
  }

  // Cleaning as a user does it, through real mouse and key events: the rectangle tool
  // (R), a drag over the middle of the viewport, Delete, Ctrl+Z, Ctrl+Shift+Z, the
  // lasso (L) and Crop to Selection (Ctrl+K), then Export. The exported counts equal
  // what the viewport shows, and the edits and their undo history survive reopening.
  void selectDeleteUndoRedoCropExportReopen() {
    QTemporaryDir tmp;
    fs::path project;
    size_t denseCropped = 0, facesCropped = 0, denseDeleted = 0, facesDeleted = 0;
    {
      MainWindow w;
      QVERIFY(openSampleProject(w, tmp));
      project = w.workspace()->root();
      Viewport* v = w.viewport();
      QVERIFY(v->hasLayer(Layer::kDense) && v->hasLayer(Layer::kMesh));
      const size_t dense0 = v->scene()->dense->size(), faces0 = v->scene()->mesh->faces.size();
      save(w.grab().toImage(), "gui_clean_0_loaded.png");

      w.activateWindow();
      QVERIFY(QTest::qWaitForWindowActive(&w));
      v->setFocus();
      QTest::keyClick(v, Qt::Key_R);
      QCOMPARE(int(v->tool()), int(Tool::kRectangle));
      const QPoint a(int(v->width() * 0.40), int(v->height() * 0.35));
      const QPoint b(int(v->width() * 0.60), int(v->height() * 0.65));
      QTest::mousePress(v, Qt::LeftButton, {}, a);
      QTest::mouseMove(v, (a + b) / 2);
      QTest::mouseMove(v, b);
      QTest::mouseRelease(v, Qt::LeftButton, {}, b);
      const RegionSelection sel = v->regionSelection();
      qInfo("rectangle selected %zu of %zu dense points, %zu of %zu faces, %zu sparse points",
            sel.dense.size(), dense0, sel.faces.size(), faces0, sel.sparse.size());
      QVERIFY(sel.dense.size() > 100 && sel.dense.size() < dense0);
      QVERIFY(sel.faces.size() > 100 && sel.faces.size() < faces0);
      // Selected exactly when the point projects inside the rectangle.
      const QRectF rect = QRectF(a, b).normalized();
      std::vector<char> selected(dense0, 0);
      for (uint32_t i : sel.dense) selected[i] = 1;
      size_t disagree = 0;
      for (size_t i = 0; i < dense0; i += 7) {
        const auto p = v->projectToWidget(v->scene()->dense->points[i].cast<double>());
        disagree += (p && rect.contains(*p)) != bool(selected[i]);
      }
      QCOMPARE(disagree, size_t(0));
      auto* label = w.findChild<QLabel*>("selectionCount");
      QVERIFY2(label->text().contains("dense points"), qPrintable(label->text()));
      const QImage selectedShot = renderNow(v);
      QVERIFY(countColour(selectedShot, QColor(255, 38, 25)) > 200);  // drawn in red
      save(w.grab().toImage(), "gui_clean_1_selected.png");

      QTest::keyClick(v, Qt::Key_Delete);
      QCOMPARE(v->scene()->dense->size(), dense0 - sel.dense.size());
      QCOMPARE(v->scene()->mesh->faces.size(), faces0 - sel.faces.size());
      QVERIFY(v->regionSelection().empty());
      save(w.grab().toImage(), "gui_clean_2_deleted.png");
      denseDeleted = v->scene()->dense->size();
      facesDeleted = v->scene()->mesh->faces.size();
      QTest::keyClick(v, Qt::Key_Z, Qt::ControlModifier);
      QCOMPARE(v->scene()->dense->size(), dense0);
      QCOMPARE(v->scene()->mesh->faces.size(), faces0);
      save(w.grab().toImage(), "gui_clean_3_undone.png");
      QTest::keyClick(v, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
      QCOMPARE(v->scene()->dense->size(), denseDeleted);

      // A lasso over the left edge of the hole, then crop to it.
      QTest::keyClick(v, Qt::Key_L);
      QCOMPARE(int(v->tool()), int(Tool::kLasso));
      const QPointF c(v->width() * 0.4, v->height() * 0.5);
      const double r = v->height() * 0.2;
      QTest::mousePress(v, Qt::LeftButton, {}, (c + QPointF(r, 0)).toPoint());
      for (int k = 1; k <= 24; ++k)
        QTest::mouseMove(v, (c + QPointF(r * std::cos(k * M_PI / 12), r * std::sin(k * M_PI / 12)))
                                .toPoint());
      QTest::mouseRelease(v, Qt::LeftButton, {}, (c + QPointF(r, 0)).toPoint());
      const RegionSelection lasso = v->regionSelection();
      qInfo("lasso selected %zu of %zu dense points, %zu faces", lasso.dense.size(), denseDeleted,
            lasso.faces.size());
      QVERIFY(lasso.dense.size() > 100 && lasso.dense.size() < denseDeleted);
      QTest::keyClick(v, Qt::Key_K, Qt::ControlModifier);
      // The crop keeps the lasso's points and faces (and the cameras, sparse points in it).
      QCOMPARE(v->scene()->dense->size(), lasso.dense.size());
      QCOMPARE(v->scene()->mesh->faces.size(), lasso.faces.size());
      save(w.grab().toImage(), "gui_clean_4_cropped.png");
      denseCropped = v->scene()->dense->size();
      facesCropped = v->scene()->mesh->faces.size();
      QCOMPARE(w.undoStack()->count(), 2);

      // Export writes what is shown.
      const Workspace& ws = *w.workspace();
      const fs::path dense = exportProject(ws, "dense", "ply", tmp.filePath("dense.ply").toStdString());
      const fs::path mesh = exportProject(ws, "mesh", "ply", tmp.filePath("mesh.ply").toStdString());
      QCOMPARE(readPly(dense).size(), denseCropped);
      QCOMPARE(readPly(mesh).faces.size(), facesCropped);
      QCOMPARE(readPly(mesh).size(), v->scene()->mesh->size());
    }
    // Closed and opened again: the same scene, and Undo still takes back the crop.
    MainWindow w;
    w.resize(1400, 900);
    QVERIFY(showAndOpen(w, project));
    Viewport* v = w.viewport();
    QCOMPARE(v->scene()->dense->size(), denseCropped);
    QCOMPARE(v->scene()->mesh->faces.size(), facesCropped);
    QCOMPARE(w.undoStack()->count(), 2);
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    v->setFocus();
    QTest::keyClick(v, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(v->scene()->dense->size(), denseDeleted);
    QCOMPARE(v->scene()->mesh->faces.size(), facesDeleted);
    save(w.grab().toImage(), "gui_clean_5_reopened_undo.png");
  }

  // The crop box through real events: B shows it around the bulk of the scene, a
  // left drag on one of its face handles moves that face in, what lies outside turns
  // red as a preview, Enter keeps what is inside as one undo step, and the export
  // holds exactly what the viewport shows.
  // The segment stage's labels in the viewport: a legend with counts, colour by label,
  // a class hidden and shown again, a class selected, deleted and brought back by undo,
  // the other points keeping their labels throughout.
  void labelsLegendHideSelectDeleteUndo() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    LabelsPanel* panel = w.labelsPanel();
    QVERIFY(v->scene()->dense && v->scene()->dense->hasLabels());
    QCOMPARE(panel->rows(), 5);
    auto count = [&](int32_t label) {
      size_t n = 0;
      for (int32_t l : v->scene()->dense->labels) n += l == label;
      return n;
    };
    const size_t dense0 = v->scene()->dense->size(), ground = count(kGround), objects = count(kObject);
    qInfo("labels shown: %zu points, ground %zu, objects %zu; legend '%s', '%s'", dense0, ground, objects,
          qPrintable(panel->rowText(0)), qPrintable(panel->rowText(3)));
    QVERIFY(ground > dense0 / 4 && objects > 100);
    QVERIFY2(panel->rowText(0).startsWith("ground: "), qPrintable(panel->rowText(0)));

    w.findChild<QPushButton*>("colourByLabel")->click();
    QCOMPARE(int(v->colorMode()), int(ColorMode::kLabel));
    v->setLayerVisible(Layer::kMesh, false);
    const QImage coloured = renderNow(v);
    save(w.grab().toImage(), "gui_labels_coloured.png");
    const long groundPixels = countColour(coloured, QColor(166, 132, 88), 45);
    QVERIFY2(groundPixels > 2000, qPrintable(QString("%1 ground-coloured pixels").arg(groundPixels)));

    panel->setHidden(kGround, true);
    QCOMPARE(v->scene()->dense->size(), dense0 - ground);
    QCOMPARE(count(kGround), size_t(0));
    QVERIFY(countColour(renderNow(v), QColor(166, 132, 88), 45) < groundPixels / 10);
    save(w.grab().toImage(), "gui_labels_ground_hidden.png");
    panel->setHidden(kGround, false);
    QCOMPARE(v->scene()->dense->size(), dense0);

    v->setLayerVisible(Layer::kMesh, true);
    const size_t picked = w.selectLabel(kObject);
    QCOMPARE(v->regionSelection().dense.size(), objects);
    QVERIFY(picked > objects);  // and the mesh faces labelled object
    QVERIFY(w.deleteSelection());
    QCOMPARE(v->scene()->dense->size(), dense0 - objects);
    QCOMPARE(count(kObject), size_t(0));
    QCOMPARE(count(kGround), ground);
    w.undoStack()->undo();
    QCOMPARE(v->scene()->dense->size(), dense0);
    QCOMPARE(count(kObject), objects);
  }

  void cropBoxDraggedByItsHandleThenApplied() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    const size_t dense0 = v->scene()->dense->size(), faces0 = v->scene()->mesh->faces.size();
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    v->setFocus();
    QTest::keyClick(v, Qt::Key_B);
    QVERIFY(v->cropBoxShown());
    renderNow(v);
    const CropBox before = v->cropBox();
    const size_t outside0 = v->regionSelection().dense.size();
    qInfo("crop box shown: %zu of %zu dense points outside", outside0, dense0);
    QVERIFY(outside0 < dense0 / 20);  // it starts around the bulk of the scene
    save(w.grab().toImage(), "gui_cropbox_0_shown.png");
    // The face handle farthest from the centre on screen, dragged 40% of the way in.
    const auto centre = v->projectToWidget(v->cropBoxHandle(6));
    QVERIFY(centre);
    int face = -1;
    QPointF from;
    for (int i = 0; i < 6; ++i) {
      const auto p = v->projectToWidget(v->cropBoxHandle(i));
      if (p && QRectF(v->rect()).adjusted(10, 10, -10, -10).contains(*p) &&
          (face < 0 || QLineF(*p, *centre).length() > QLineF(from, *centre).length()))
        face = i, from = *p;
    }
    QVERIFY(face >= 0);
    const QPointF to = from + 0.4 * (*centre - from);
    QTest::mousePress(v, Qt::LeftButton, {}, from.toPoint());
    for (int k = 1; k <= 8; ++k) QTest::mouseMove(v, (from + k / 8.0 * (to - from)).toPoint());
    QTest::mouseRelease(v, Qt::LeftButton, {}, to.toPoint());
    const CropBox after = v->cropBox();
    const int axis = face / 2;
    const double len0 = before.world_from_box.linear().col(axis).norm();
    const double len1 = after.world_from_box.linear().col(axis).norm();
    qInfo("face %d dragged from (%.0f, %.0f) to (%.0f, %.0f): box %.3f -> %.3f along its axis %d",
          face, from.x(), from.y(), to.x(), to.y(), len0, len1, axis);
    QVERIFY(len1 < 0.9 * len0 && len1 > 0.2 * len0);  // that face moved in
    for (int k = 0; k < 3; ++k)  // the others stayed
      if (k != axis)
        QVERIFY(std::abs(after.world_from_box.linear().col(k).norm() -
                         before.world_from_box.linear().col(k).norm()) < 1e-9 * len0 + 1e-12);
    // The preview: exactly the points outside the box are selected, drawn in red.
    size_t outside = 0;
    for (const auto& p : v->scene()->dense->points) outside += !after.contains(p.cast<double>());
    QCOMPARE(v->regionSelection().dense.size(), outside);
    QVERIFY(outside > outside0 + 1000);
    QVERIFY(countColour(renderNow(v), QColor(255, 38, 25)) > 200);
    save(w.grab().toImage(), "gui_cropbox_1_dragged.png");
    // ] turns the box about its vertical axis, 5 degrees a press: the same size and
    // up, its sides turned; [ turns it back.
    for (int k = 0; k < 3; ++k) QTest::keyClick(v, Qt::Key_BracketRight);
    const CropBox turned = v->cropBox();
    const Eigen::Matrix3d L0 = after.world_from_box.linear(), L1 = turned.world_from_box.linear();
    const double angle = std::acos(std::clamp(L0.col(0).normalized().dot(L1.col(0).normalized()), -1.0, 1.0));
    qInfo("three presses of ] turned the box by %.2f degrees", angle * 180 / M_PI);
    QVERIFY(std::abs(angle * 180 / M_PI - 15) < 1e-6);
    QVERIFY((L0.col(2) - L1.col(2)).norm() < 1e-9 * L0.col(2).norm());
    for (int k = 0; k < 3; ++k) QVERIFY(std::abs(L0.col(k).norm() - L1.col(k).norm()) < 1e-9 * L0.col(k).norm());
    QVERIFY((after.world_from_box.translation() - turned.world_from_box.translation()).norm() < 1e-9 * len0);
    for (int k = 0; k < 3; ++k) QTest::keyClick(v, Qt::Key_BracketLeft);
    QVERIFY((v->cropBox().world_from_box.matrix() - after.world_from_box.matrix()).norm() < 1e-9 * len0);
    QCOMPARE(v->regionSelection().dense.size(), outside);
    // Enter applies: the box goes, what was inside stays, one undo step.
    QTest::keyClick(v, Qt::Key_Return);
    QVERIFY(!v->cropBoxShown());
    QCOMPARE(v->scene()->dense->size(), dense0 - outside);
    size_t strays = 0;
    for (const auto& p : v->scene()->dense->points) strays += !after.contains(p.cast<double>());
    QCOMPARE(strays, size_t(0));
    QVERIFY(v->scene()->mesh->faces.size() < faces0);
    QCOMPARE(w.undoStack()->count(), 1);
    QVERIFY2(w.undoStack()->undoText().contains("Crop to box"), qPrintable(w.undoStack()->undoText()));
    save(w.grab().toImage(), "gui_cropbox_2_applied.png");
    const Workspace& ws = *w.workspace();
    const fs::path dense = exportProject(ws, "dense", "ply", tmp.filePath("dense.ply").toStdString());
    const fs::path mesh = exportProject(ws, "mesh", "ply", tmp.filePath("mesh.ply").toStdString());
    QCOMPARE(readPly(dense).size(), v->scene()->dense->size());
    QCOMPARE(readPly(mesh).faces.size(), v->scene()->mesh->faces.size());
    QTest::keyClick(v, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(v->scene()->dense->size(), dense0);
    // Shown again and cancelled with Esc: nothing changes.
    QTest::keyClick(v, Qt::Key_B);
    QVERIFY(v->cropBoxShown() && !v->regionSelection().empty());
    QTest::keyClick(v, Qt::Key_Escape);
    QVERIFY(!v->cropBoxShown() && v->regionSelection().empty());
    QCOMPARE(v->scene()->dense->size(), dense0);
  }

  // Remove Outliers… through its dialog, with keys and clicks: the radius method,
  // the neighbour count typed in, the preview (red) is what radius outlier removal
  // finds among the points shown, and Remove takes exactly that away as one step.
  void outlierDialogRadiusMethodByKeysAndClicks() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    const size_t dense0 = v->scene()->dense->size();
    w.findChild<QAction*>("outliersAction")->trigger();
    auto* dialog = w.findChild<QDialog*>("outlierDialog");
    QVERIFY(dialog && dialog->isVisible());
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    auto* method = dialog->findChild<QComboBox*>("method");
    auto* neighbours = dialog->findChild<QSpinBox*>("first");
    auto* radius = dialog->findChild<QDoubleSpinBox*>("second");
    auto* count = dialog->findChild<QLabel*>("previewCount");
    method->setFocus();
    QTest::keyClick(method, Qt::Key_Down);
    QCOMPARE(method->currentIndex(), 1);
    QVERIFY(waitUntil([&] { return count->text().contains("would be removed"); }, 20000));
    neighbours->setFocus();
    // A count out of range typed in: said in the dialog, nothing previewed, Remove off.
    QTest::keyClick(neighbours, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(neighbours, "0");
    auto* remove = dialog->findChild<QPushButton*>("removeButton");
    QVERIFY(waitUntil([&] { return count->text().contains("'0' is not a value from 1 to 500"); }, 5000));
    QVERIFY(!remove->isEnabled());
    QVERIFY(v->regionSelection().empty());
    QTest::keyClick(neighbours, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(neighbours, "12");
    QCOMPARE(neighbours->value(), 12);
    QVERIFY(waitUntil([&] { return count->text().contains("would be removed"); }, 20000));
    const double r = radius->value();
    const size_t expected = radiusOutliers(v->scene()->dense->points, {}, r, 12).size();
    qInfo("radius %.4g, 12 neighbours: %s; %zu of %zu dense points", r, qPrintable(count->text()),
          expected, dense0);
    QCOMPARE(v->regionSelection().dense.size(), expected);
    QVERIFY(expected > 0 && expected < dense0 / 4);
    save(w.grab().toImage(), "gui_outliers_radius_preview.png");
    QTest::mouseClick(dialog->findChild<QPushButton*>("removeButton"), Qt::LeftButton);
    QCOMPARE(v->scene()->dense->size(), dense0 - expected);
    QVERIFY2(w.undoStack()->undoText().contains("Radius outliers"),
             qPrintable(w.undoStack()->undoText()));
  }

  // A double click on a point makes it the centre of the view, flown to, at the same distance.
  void doubleClickCentresTheViewOnAPoint() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    renderNow(v);
    const QPoint at(int(v->width() * 0.45), int(v->height() * 0.55));
    const auto p = v->pickSurfacePoint(at);
    QVERIFY(p);
    const double distance = (v->cameraPosition() - v->focalPoint()).norm();
    QTest::mouseDClick(v, Qt::LeftButton, {}, at);
    QVERIFY(waitUntil([&] { return !v->flying(); }, 10000));
    QVERIFY((v->focalPoint() - *p).norm() < 1e-6 * distance);
    QVERIFY(std::abs((v->cameraPosition() - v->focalPoint()).norm() - distance) < 1e-6 * distance);
    const auto shown = v->projectToWidget(*p);
    QVERIFY(shown && QLineF(*shown, QRectF(v->rect()).center()).length() < 1.5);
  }

  // Deleting a camera with the mouse: a small rectangle around one camera (only the
  // camera layer shown), Delete; the photo leaves the model with its observations,
  // the model stays consistent, the Statistics panel follows, and Undo brings it back.
  void deleteACameraWithTheRectangle() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    for (Layer l : {Layer::kSparse, Layer::kDense, Layer::kMesh}) v->setLayerVisible(l, false);
    const size_t images0 = v->model()->images.size(), points0 = v->model()->points3D.size();
    // A camera the framed view shows (which ones depends on the reconstruction's frame).
    auto it = v->model()->images.begin();
    for (; it != v->model()->images.end(); ++it) {
      const auto p = v->projectToWidget(it->second.projectionCenter());
      if (p && v->rect().adjusted(10, 10, -10, -10).contains(p->toPoint())) break;
    }
    QVERIFY(it != v->model()->images.end());
    const uint32_t imageId = it->first;
    const std::string name = it->second.name;
    const auto at = v->projectToWidget(it->second.projectionCenter());
    QVERIFY(at && v->rect().contains(at->toPoint()));
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    v->setFocus();
    QTest::keyClick(v, Qt::Key_R);
    const QPoint a = (*at - QPointF(4, 4)).toPoint(), b = (*at + QPointF(4, 4)).toPoint();
    QTest::mousePress(v, Qt::LeftButton, {}, a);
    QTest::mouseMove(v, b);
    QTest::mouseRelease(v, Qt::LeftButton, {}, b);
    QCOMPARE(v->regionSelection().cameras, std::vector<uint32_t>{imageId});
    QCOMPARE(v->regionSelection().size(), size_t(1));
    QTest::keyClick(v, Qt::Key_Delete);
    const Reconstruction* model = v->model();
    QCOMPARE(model->images.size(), images0 - 1);
    QVERIFY(!model->images.count(imageId));
    model->checkConsistency();
    for (const auto& [pid, p] : model->points3D) {
      QVERIFY(p.track.size() >= 2);
      for (const auto& el : p.track) QVERIFY(el.image_id != imageId);
    }
    qInfo("deleted %s: %zu -> %zu photos, %zu -> %zu sparse points", name.c_str(), images0,
          model->images.size(), points0, model->points3D.size());
    QVERIFY(model->points3D.size() < points0);
    // The Statistics panel counts the photos left: one bar per registered photo.
    QCOMPARE(w.statsPanel()->pointsPerPhoto()->bins().size(), images0 - 1);
    QVERIFY2(w.undoStack()->undoText().contains("camera"), qPrintable(w.undoStack()->undoText()));
    save(w.grab().toImage(), "gui_camera_deleted.png");
    QTest::keyClick(v, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(v->model()->images.size(), images0);
    QCOMPARE(v->model()->points3D.size(), points0);
  }

  // Select Visible Only (V): the same rectangle takes only what is in front; every
  // point it leaves out has something drawn clearly nearer at its place.
  void visibleOnlySelectionLeavesHiddenPointsOut() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    renderNow(v);
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    v->setFocus();
    QTest::keyClick(v, Qt::Key_R);
    const QPoint a(int(v->width() * 0.3), int(v->height() * 0.3));
    const QPoint b(int(v->width() * 0.7), int(v->height() * 0.7));
    auto drag = [&] {
      QTest::mousePress(v, Qt::LeftButton, {}, a);
      QTest::mouseMove(v, b);
      QTest::mouseRelease(v, Qt::LeftButton, {}, b);
      return v->regionSelection().dense;
    };
    const std::vector<uint32_t> through = drag();
    QTest::keyClick(v, Qt::Key_V);
    QVERIFY(v->selectVisibleOnly());
    const std::vector<uint32_t> visible = drag();
    qInfo("the rectangle takes %zu dense points through the scene, %zu visible ones",
          through.size(), visible.size());
    QVERIFY(visible.size() > 100 && visible.size() < through.size() * 9 / 10);
    QVERIFY(std::includes(through.begin(), through.end(), visible.begin(), visible.end()));
    save(w.grab().toImage(), "gui_select_visible_only.png");
    std::vector<uint32_t> left;
    std::set_difference(through.begin(), through.end(), visible.begin(), visible.end(),
                        std::back_inserter(left));
    size_t checked = 0, nearer = 0;
    const Eigen::Vector3d eye = v->cameraPosition();
    for (size_t k = 0; k < left.size(); k += std::max<size_t>(1, left.size() / 200)) {
      const Eigen::Vector3d p = v->scene()->dense->points[left[k]].cast<double>();
      const auto at = v->projectToWidget(p);
      QVERIFY(at);
      const auto front = v->pickSurfacePoint(*at);
      ++checked;
      nearer += front && (*front - eye).norm() < 0.99 * (p - eye).norm();
    }
    qInfo("%zu of %zu points left out have something nearer in front", nearer, checked);
    // (pickSurfacePoint looks for points and mesh vertices within 6 px: a point hidden
    // by the inside of a large triangle has none; 96.5% found on the sample.)
    QVERIFY(nearer >= checked * 90 / 100);
    QTest::keyClick(v, Qt::Key_V);
    QVERIFY(!v->selectVisibleOnly());
  }

  // Filter Sparse Points… with keys and a click: "seen by fewer than" typed in, the
  // preview is exactly the points that fail either test, Remove takes them away.
  void sparseFilterDialogByKeysAndClicks() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    const size_t points0 = v->model()->points3D.size();
    w.findChild<QAction*>("sparseFilterAction")->trigger();
    auto* dialog = w.findChild<QDialog*>("sparseFilterDialog");
    QVERIFY(dialog && QTest::qWaitForWindowExposed(dialog));
    QVERIFY(!dialog->findChild<QComboBox*>("method")->isVisible());  // no method to choose here
    auto* views = dialog->findChild<QSpinBox*>("first");
    auto* error = dialog->findChild<QDoubleSpinBox*>("second");
    auto* count = dialog->findChild<QLabel*>("previewCount");
    views->setFocus();
    QTest::keyClick(views, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(views, "4");
    QCOMPARE(views->value(), 4);
    QVERIFY(waitUntil([&] { return count->text().contains("would be removed"); }, 20000));
    std::vector<uint64_t> expected = sparsePointsSeenByFewer(*v->model(), 4);
    const auto bad = sparsePointsWithErrorAbove(*v->model(), error->value());
    expected.insert(expected.end(), bad.begin(), bad.end());
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    qInfo("seen by fewer than 4 photos or error above %.1f px: %zu of %zu sparse points", error->value(),
          expected.size(), points0);
    QCOMPARE(v->regionSelection().sparse, expected);
    QVERIFY(!expected.empty() && expected.size() < points0);
    QTest::mouseClick(dialog->findChild<QPushButton*>("removeButton"), Qt::LeftButton);
    QCOMPARE(v->model()->points3D.size(), points0 - expected.size());
    QVERIFY2(w.undoStack()->undoText().contains("Filter sparse points"), qPrintable(w.undoStack()->undoText()));
  }

  // Outlier removal previews what would go (selected, red) and removes it as one step.
  void outlierRemovalPreviewsThenRemoves() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    const size_t dense0 = v->scene()->dense->size();
    const size_t preview = w.previewOutliers(10, 1.5);
    const size_t previewDense = v->regionSelection().dense.size();
    qInfo("outliers (10 neighbours, 1.5x): %zu selected, %zu of %zu dense points", preview,
          previewDense, dense0);
    QVERIFY(previewDense > 0 && previewDense < dense0 / 5);
    QVERIFY(w.removeOutliers(10, 1.5));
    QCOMPARE(v->scene()->dense->size(), dense0 - previewDense);
    QVERIFY2(w.undoStack()->undoText().contains("Statistical outliers"), qPrintable(w.undoStack()->undoText()));
    w.undoStack()->undo();
    QCOMPARE(v->scene()->dense->size(), dense0);
  }

  // Inspection: colour by height puts low points in blue and high ones in red along
  // the scene's up; views and reprojection error recolour the points; flat and
  // wireframe shading change the mesh; a screenshot is rendered at the size asked.
  void colourModesShadingAndScreenshot() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    v->setLayerVisible(Layer::kMesh, false);
    v->setLayerVisible(Layer::kCameras, false);
    const QImage rgb = renderNow(v);
    v->setColorMode(ColorMode::kHeight);
    const QImage height = renderNow(v);
    save(height, "gui_colour_height.png");
    QVERIFY(changedFraction(rgb, height) > 0.02);
    // Height along the scene's up: the ground (most of the cloud) is the low, blue end
    // and the statue on it the high, red end (a ramp along the screen instead would
    // split them about evenly).
    long red = countColour(height, QColor(220, 40, 30), 90), blue = countColour(height, QColor(40, 60, 220), 90);
    qInfo("height colours: %ld red-ish and %ld blue-ish pixels", red, blue);
    QVERIFY(red > 100 && blue > 3 * red);
    v->setColorMode(ColorMode::kViews);
    const QImage views = renderNow(v);
    QVERIFY(changedFraction(height, views) > 0.01);
    // Confidence: every dense point has its depth confidence (fused.ply.conf), in 0..1.
    const auto& confidence = v->scene()->denseConfidence;
    QCOMPARE(confidence.size(), v->scene()->dense->size());
    const auto [lo, hi] = std::minmax_element(confidence.begin(), confidence.end());
    qInfo("dense confidence from %.3f to %.3f", double(*lo), double(*hi));
    QVERIFY(*lo >= 0 && *hi <= 1 && *hi > *lo);
    v->setColorMode(ColorMode::kConfidence);
    const QImage conf = renderNow(v);
    save(conf, "gui_colour_confidence.png");
    QVERIFY(changedFraction(views, conf) > 0.01);
    v->setColorMode(ColorMode::kRgb);
    QVERIFY(changedFraction(rgb, renderNow(v)) < 0.01);

    v->setLayerVisible(Layer::kMesh, true);
    v->setLayerVisible(Layer::kDense, false);
    v->setLayerVisible(Layer::kSparse, false);
    v->setMeshShading(MeshShading::kSmooth);  // the mesh stage's mesh (textured is the default)
    const QImage smooth = renderNow(v);
    v->setMeshShading(MeshShading::kWireframe);
    const QImage wire = renderNow(v);
    save(wire, "gui_mesh_wireframe.png");
    QVERIFY(changedFraction(smooth, wire) > 0.01);
    v->setMeshShading(MeshShading::kSmooth);

    // Clipping at 30% of the height range cuts the statue and pillars off their base
    // (the ground behind them shows); at 100% nothing is cut.
    auto* clip = w.findChild<QAction*>("clipAction");
    auto* slider = w.findChild<QSlider*>("clipSlider");
    QVERIFY(clip && slider);
    // Through the toolbar: a click on Clip, then the slider moved with the keys
    // (two pages down from the middle: 30%).
    auto* bar = w.findChild<QToolBar*>("toolsBar");
    QVERIFY(bar && bar->widgetForAction(clip));
    QTest::mouseClick(bar->widgetForAction(clip), Qt::LeftButton);
    QVERIFY(clip->isChecked() && slider->isEnabled());
    slider->setFocus();
    QTest::keyClick(slider, Qt::Key_PageDown);
    QTest::keyClick(slider, Qt::Key_PageDown);
    QCOMPARE(slider->value(), 30);
    QVERIFY(v->clipHeight() && std::abs(*v->clipHeight() - 0.3) < 1e-9);
    const QImage clipped = renderNow(v);
    save(clipped, "gui_clipped.png");
    const double cut = changedFraction(smooth, clipped);
    QTest::keyClick(slider, Qt::Key_End);
    QCOMPARE(slider->value(), 100);
    const double none = changedFraction(smooth, renderNow(v));
    qInfo("clipping at 30%% of the height changes %.1f%% of the view, at 100%% %.2f%%", 100 * cut,
          100 * none);
    QVERIFY(cut > 0.01);
    QVERIFY(none < 0.002);
    // In front of a plane facing the view: at 50% the near half of the scene goes,
    // so the clipped view differs from the whole one.
    auto* axis = w.findChild<QComboBox*>("clipAxisCombo");
    QVERIFY(axis && axis->isEnabled());
    axis->setFocus();
    QTest::keyClick(axis, Qt::Key_Down);
    QCOMPARE(axis->currentIndex(), 1);
    QVERIFY(v->clipAxis() && (*v->clipAxis() - v->viewDirectionAxis()).norm() < 1e-9);
    slider->setFocus();
    QTest::keyClick(slider, Qt::Key_Home);
    for (int k = 0; k < 5; ++k) QTest::keyClick(slider, Qt::Key_PageUp);
    QCOMPARE(slider->value(), 50);
    const QImage front = renderNow(v);
    save(front, "gui_clipped_in_front.png");
    const double frontCut = changedFraction(smooth, front);
    qInfo("clipping the near half along the view changes %.1f%% of the view", 100 * frontCut);
    QVERIFY(frontCut > 0.01);
    QTest::mouseClick(bar->widgetForAction(clip), Qt::LeftButton);
    QVERIFY(!v->clipHeight());

    const QImage big = v->renderImage(QSize(1920, 1080));
    QCOMPARE(big.size(), QSize(1920, 1080));
    save(big, "gui_screenshot_1920.png");
    // The mesh fills a good part of it, not a blank background.
    QVERIFY(changedFraction(big, QImage(big.size(), big.format())) > 0.05);
    QVERIFY(!renderNow(v).isNull());  // the widget renders on at its own size
    QCOMPARE(v->lastFrame().size(), v->size() * v->devicePixelRatio());
  }

  // The texture stage's mesh drawn with its atlas (Mesh Shading > Textured, the
  // default). It stays textured while the view zooms and other layers come and go (Qt
  // once deleted the atlas in VTK's context and the mesh went black); edits to the mesh
  // made after it show the edited mesh with its colours instead, until they are undone.
  void texturedMeshDrawnWithItsAtlas() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    QVERIFY2(v->scene()->textured, "the sample project has no textured mesh");
    auto* textured = w.findChild<QAction*>("shading-Textured");
    QVERIFY(textured && textured->isChecked());
    for (Layer l : {Layer::kDense, Layer::kSparse, Layer::kCameras}) v->setLayerVisible(l, false);
    v->setLayerVisible(Layer::kMesh, false);
    const QImage empty = renderNow(v);
    v->setLayerVisible(Layer::kMesh, true);
    const QImage first = renderNow(v);
    save(first, "gui_textured.png");
    const double pixels = double(first.width()) * first.height();
    const double covered = changedFraction(empty, first);
    auto blackShare = [&](const QImage& img) { return double(countColour(img, Qt::black, 20)) / pixels; };
    qInfo("textured mesh covers %.1f%% of the view, %.3f%% of it black", 100 * covered,
          100 * blackShare(first) / covered);
    QVERIFY(covered > 0.05);
    QVERIFY(blackShare(first) < 0.01 * covered);
    // The mesh's own colours, shaded, differ from the photos' texture.
    auto* smooth = w.findChild<QAction*>("shading-Smooth");
    QVERIFY(smooth);
    smooth->trigger();
    const QImage vertex = renderNow(v);
    save(vertex, "gui_textured_off.png");
    QVERIFY(changedFraction(first, vertex) > 0.02);
    textured->trigger();
    QVERIFY(changedFraction(first, renderNow(v)) < 0.002);
    // Zoomed in and out with the wheel, a layer shown and hidden between frames.
    const QPointF centre(v->width() / 2.0, v->height() / 2.0);
    for (int step : {120, 120, 120, 120, -120, -120, -120, -120}) {
      QWheelEvent wheel(centre, v->mapToGlobal(centre), QPoint(), QPoint(0, step), Qt::NoButton, Qt::NoModifier,
                        Qt::NoScrollPhase, false);
      QApplication::sendEvent(v, &wheel);
      const QImage zoomed = renderNow(v);
      QVERIFY2(blackShare(zoomed) < 0.01, "the textured mesh went black while zooming");
      v->setLayerVisible(Layer::kSparse, step > 0);
      renderNow(v);
    }
    v->setLayerVisible(Layer::kSparse, false);
    const QImage back = renderNow(v);
    save(back, "gui_textured_after_zoom.png");
    qInfo("after zooming in and out: %.3f%% of the view black, %.2f%% changed", 100 * blackShare(back),
          100 * changedFraction(first, back));
    QVERIFY(blackShare(back) < 0.01 * covered);
    QVERIFY(changedFraction(first, back) < 0.02);
    // Faces deleted after texturing: the edited mesh with its colours stands in.
    RegionSelection some;
    for (uint32_t f = 0; f < v->scene()->mesh->faces.size(); f += 4) some.faces.push_back(f);
    const size_t faces = v->scene()->mesh->faces.size();
    v->setRegionSelection(std::move(some));
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    v->setFocus();
    QTest::keyClick(v, Qt::Key_Delete);
    QVERIFY(v->scene()->mesh->faces.size() < faces);
    QVERIFY(!v->scene()->textured);
    QVERIFY(changedFraction(first, renderNow(v)) > 0.02);
    QTest::keyClick(v, Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(v->scene()->textured);
    QVERIFY(changedFraction(first, renderNow(v)) < 0.002);
  }

  // Measuring: M, two clicks on the cloud pick the front-most points under the cursor;
  // the status bar gives their distance, and in metres once a scale is set from a
  // known length (kept with the project).
  void measureDistanceAndSetScale() {
    QTemporaryDir tmp;
    fs::path project;
    {
      MainWindow w;
      QVERIFY(openSampleProject(w, tmp));
      project = w.workspace()->root();
      Viewport* v = w.viewport();
      w.activateWindow();
      QVERIFY(QTest::qWaitForWindowActive(&w));
      v->setFocus();
      QTest::keyClick(v, Qt::Key_M);
      QCOMPARE(int(v->tool()), int(Tool::kMeasure));
      const QPoint a(int(v->width() * 0.45), int(v->height() * 0.5));
      const QPoint b(int(v->width() * 0.58), int(v->height() * 0.55));
      QTest::mouseClick(v, Qt::LeftButton, {}, a);
      QCOMPARE(v->measurement().size(), size_t(1));
      QTest::mouseClick(v, Qt::LeftButton, {}, b);
      QCOMPARE(v->measurement().size(), size_t(2));
      // Each picked point is drawn within a few pixels of where the user clicked.
      for (int k = 0; k < 2; ++k) {
        const auto p = v->projectToWidget(v->measurement()[size_t(k)]);
        QVERIFY(p && QLineF(*p, QPointF(k == 0 ? a : b)).length() <= 6.5);
      }
      const double units = (v->measurement()[1] - v->measurement()[0]).norm();
      auto* label = w.findChild<QLabel*>("measurement");
      QVERIFY2(label->text().contains(QString::number(units, 'g', 5)), qPrintable(label->text()));
      save(renderNow(v), "gui_measure.png");
      QVERIFY(w.setScaleFromMeasurement(2.5));
      QVERIFY2(label->text().endsWith("= 2.5 m"), qPrintable(label->text()));
    }
    // The scale is the project's: measuring after reopening gives metres.
    MainWindow w;
    w.resize(1400, 900);
    QVERIFY(showAndOpen(w, project));
    QCOMPARE(w.workspace()->appState().value("metres_per_unit", 0.0) > 0, true);
  }

  // Looking through a camera: each 3D point the photo sees is drawn where the photo
  // shows its keypoint (the photo is overlaid in its frame), within a few pixels.
  void lookThroughACameraLinesUpWithItsPhoto() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(openSampleProject(w, tmp));
    Viewport* v = w.viewport();
    const Reconstruction* model = v->model();
    QVERIFY(model && !model->images.empty());
    const auto& [imageId, image] = *std::next(model->images.begin(), 5);
    v->select({Selection::kCamera, imageId});
    // The view flies to the camera (frames drawn on the way), then shows the photo.
    QSignalSpy frames(v, &Viewport::frameRendered);
    const Eigen::Vector3d start = v->cameraPosition();
    QVERIFY(w.lookThroughSelectedCamera());
    QVERIFY(v->flying() && !v->photoOverlayShown());
    QVERIFY(waitUntil([&] { return !v->flying(); }, 10000));
    const double travelled = (v->cameraPosition() - start).norm();
    qInfo("flew %.2f units in %d frames", travelled, int(frames.count()));
    QVERIFY(frames.count() >= 3);
    QVERIFY((v->cameraPosition() - image.projectionCenter()).norm() < 1e-9 + 1e-9 * travelled);
    QVERIFY(v->photoOverlayShown());
    const QImage shot = renderNow(v);
    save(w.grab().toImage(), "gui_look_through_camera.png");
    const QRectF frame = v->photoFrame();
    const Camera& camera = model->cameras.at(image.camera_id);
    const double scale = frame.width() / camera.width;
    std::vector<double> errors;
    for (const Point2D& p2 : image.points2D) {
      if (p2.point3D_id == kInvalidPoint3DId) continue;
      const auto at = v->projectToWidget(model->points3D.at(p2.point3D_id).xyz);
      QVERIFY(at);
      const QPointF expected = frame.topLeft() + QPointF(p2.xy.x(), p2.xy.y()) * scale;
      errors.push_back(QLineF(*at, expected).length());
    }
    std::sort(errors.begin(), errors.end());
    const double median = errors[errors.size() / 2];
    qInfo("look through %s: %zu points, median %.2f px from their keypoints (photo drawn %.0fx%.0f)",
          image.name.c_str(), errors.size(), median, frame.width(), frame.height());
    QVERIFY(errors.size() > 50);
    QVERIFY(median < 3.0);
    // Moving the view ends the overlay.
    QTest::mousePress(v, Qt::RightButton, {}, v->rect().center());
    QTest::mouseRelease(v, Qt::RightButton, {}, v->rect().center());
    QVERIFY(!v->photoOverlayShown());
  }

  void openingANonProjectSaysWhy() {
    QTemporaryDir tmp;
    MainWindow w;
    QVERIFY(!w.openProject(tmp.path()));
    QVERIFY(w.jobsPanel()->log()->toPlainText().contains("not a Parallax project"));
  }
};

QTEST_MAIN(TestGui)
#include "test_gui.moc"
