// scene/workspace + pipeline/runner: project layout, atomic saves, recovery after
// a killed process, stage keys and staleness.
#include <QProcess>
#include <QtTest>
#include <fstream>

#include "io/colmap_model.h"
#include "io/project_export.h"
#include "io/ply.h"
#include "scene/edits.h"
#include "surface/clean_workflow.h"
#include "pipeline/runner.h"
#include "pipeline/stage.h"
#include "test_support.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace parallax;
using nlohmann::json;

class TestWorkspace : public QObject {
  Q_OBJECT
 private slots:
  // The project's mesh is the newest surface: a NeuS mesh trained after the Poisson mesh
  // is what the viewport shows and export writes, until the mesh stage runs again; mesh
  // edits made on one are set aside, not applied to the other.
  void newestSurfaceIsTheProjectsMesh() {
    QTemporaryDir tmp;
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    const fs::path poisson = ws.denseDir() / "meshed-poisson.ply", neus = ws.root() / "fields" / "neus" / "mesh.ply";
    QCOMPARE(projectMeshFile(ws.root()), ws.referenceDir() / "mesh.ply");
    QVERIFY(exportableData(ws).empty());
    TriangleMesh tri;
    tri.points = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}};
    tri.faces = {{0, 1, 2}, {1, 3, 2}};
    fs::create_directories(neus.parent_path());
    writePly(neus, tri);
    QCOMPARE(projectMeshFile(ws.root()), neus);
    QCOMPARE(exportableData(ws), std::vector<std::string>{"mesh"});
    std::string summary;
    exportProject(ws, "mesh", "obj", test::tempPath(tmp, "out.obj"), &summary);
    QVERIFY2(summary.find("2 faces from fields/neus/mesh.ply") != std::string::npos, summary.c_str());
    // An edit on the NeuS mesh, then a Poisson mesh computed after it.
    EditHistory edits = EditHistory::load(ws.root());
    QVERIFY(edits.push({EditTarget::kMeshFaces, "Delete 1 face", {1}}, ws.root()));
    edits.save(ws.root());
    QCOMPARE(int(applyEdits(EditHistory::load(ws.root()), readPly(neus)).faces.size()), 1);
    fs::create_directories(poisson.parent_path());
    tri.faces.push_back({0, 3, 2});
    writePly(poisson, tri);
    fs::last_write_time(poisson, fs::last_write_time(neus) + std::chrono::seconds(5));
    QCOMPARE(projectMeshFile(ws.root()), poisson);
    std::vector<std::string> notes;
    QCOMPARE(int(applyEdits(EditHistory::load(ws.root(), &notes), readPly(poisson)).faces.size()), 3);
    QVERIFY(!notes.empty());
  }

  void initTestCase() { registerBuiltinStages(); }

  void createMakesColmapLayout() {
    QTemporaryDir tmp;
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    for (const char* sub : {"sparse", "dense", "exports", "parallax.json"})
      QVERIFY(fs::exists(ws.root() / sub));
    QVERIFY_THROWS_EXCEPTION(Error, Workspace::create(ws.root()));  // already a project
  }

  void saveAndReopenKeepsRootsParamsAndAppState() {
    QTemporaryDir tmp;
    fs::path root = test::tempPath(tmp, "p");
    {
      Workspace ws = Workspace::create(root);
      ws.addPhotoRoot("/photos/a/");
      ws.addPhotoRoot("/photos/a");
      ws.setParamOverride("import", "single_camera", true);
      ws.setAppState({{"selected_stage", "import"}});
      ws.save();
    }
    Workspace ws = Workspace::open(root);
    QCOMPARE(ws.photoRoots().size(), size_t(1));
    QCOMPARE(ws.photoRoots()[0].string(), std::string("/photos/a"));
    QCOMPARE(ws.paramOverrides("import")["single_camera"], json(true));
    QCOMPARE(ws.appState()["selected_stage"], json("import"));
    QVERIFY(ws.recoveryNotes().empty());
  }

  void openNonProjectAndDamagedProject() {
    QTemporaryDir tmp;
    try {
      Workspace::open(test::tempPath(tmp));
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY(QString(e.what()).contains("not a Parallax project"));
    }
    fs::path root = test::tempPath(tmp, "p");
    Workspace::create(root);
    writeFileAtomic(root / "parallax.json", "{\"format\": \"parallax-project\", \"vers");
    try {
      Workspace::open(root);
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("damaged") && QString(e.what()).contains("untouched"),
               e.what());
    }
  }

  void recoversFromAKilledRun() {
    QTemporaryDir tmp;
    fs::path root = test::tempPath(tmp, "p");
    Workspace ws = Workspace::create(root);
    ws.updateStageRecord("import", [](json& r) {
      r["status"] = "running";
      r["pid"] = 999999999;  // no such process
      r["output_key"] = "abc";
    });
    // What a writer killed mid-way leaves: a temporary file, and a folder swap cut in half.
    std::ofstream(root / (std::string(kTempMarker) + "database.db-999999999-0")) << "partial";
    fs::create_directories(root / "sparse" / (std::string(kTempMarker) + "0.old-999999999-1"));
    std::ofstream(root / "sparse" / (std::string(kTempMarker) + "0.old-999999999-1") / "cameras.bin")
        << "old";
    Workspace reopened = Workspace::open(root);
    QString notes;
    for (const auto& n : reopened.recoveryNotes()) notes += QString::fromStdString(n) + "\n";
    QVERIFY2(notes.contains("stage 'import' was interrupted") &&
                 notes.contains("previous outputs are intact"),
             qPrintable(notes));
    QVERIFY2(notes.contains("restored 'sparse/0'"), qPrintable(notes));
    QVERIFY(notes.contains("removed an incomplete file"));
    QVERIFY(fs::exists(root / "sparse" / "0" / "cameras.bin"));
    QCOMPARE(reopened.stageRecord("import")["status"], json("interrupted"));
    QVERIFY(Workspace::open(root).recoveryNotes().empty());  // repaired once, for good
  }

  // An mvs worker killed mid-run: the last finished depth maps it had set aside come
  // back, and its own wait in stereo.partial.
  void killedDepthMapRunPutsTheFinishedMapsBack() {
    QTemporaryDir tmp;
    fs::path root = test::tempPath(tmp, "p");
    Workspace ws = Workspace::create(root);
    ws.updateStageRecord("mvs", [](json& r) {
      r["status"] = "running";
      r["pid"] = 999999999;  // no such process
      r["output_key"] = "abc";
    });
    const fs::path dense = ws.denseDir();
    fs::create_directories(dense / "stereo" / "depth_maps");
    fs::create_directories(dense / "stereo.previous" / "depth_maps");
    std::ofstream(dense / "stereo" / "depth_maps" / "a.bin") << "new, half done";
    std::ofstream(dense / "stereo.previous" / "depth_maps" / "a.bin") << "finished";
    Workspace reopened = Workspace::open(root);
    QCOMPARE(readFile(dense / "stereo" / "depth_maps" / "a.bin"), std::string("finished"));
    QCOMPARE(readFile(dense / "stereo.partial" / "depth_maps" / "a.bin"), std::string("new, half done"));
    QVERIFY(!fs::exists(dense / "stereo.previous"));
    QString notes;
    for (const auto& n : reopened.recoveryNotes()) notes += QString::fromStdString(n) + "\n";
    QVERIFY2(notes.contains("put back the depth maps") && notes.contains("stage 'mvs' was interrupted"),
             qPrintable(notes));
    QVERIFY(Workspace::open(root).recoveryNotes().empty());
  }

  void openingDuringARunLeavesTheWritersFilesAlone() {
    QTemporaryDir tmp;
    fs::path root = test::tempPath(tmp, "p");
    Workspace::create(root);
    QProcess writer;  // stands in for a worker that is writing right now
    writer.start("sleep", {"30"});
    QVERIFY(writer.waitForStarted());
    const fs::path busy = root / (std::string(kTempMarker) + "database.db-" + std::to_string(writer.processId()) + "-0");
    std::ofstream(busy) << "being written";
    QCOMPARE(tempWriterPid(busy.filename().string()), long(writer.processId()));
    QVERIFY(Workspace::open(root).recoveryNotes().empty());
    QVERIFY(fs::exists(busy));
    writer.kill();
    writer.waitForFinished();
    QCOMPARE(Workspace::open(root).recoveryNotes().size(), size_t(1));
    QVERIFY(!fs::exists(busy));
  }

  void parameterChangeMakesStageAndDownstreamStale() {
    QTemporaryDir tmp;
    fs::path root = test::sampleProject(tmp);
    Workspace ws = Workspace::open(root);
    QVERIFY(!stageState(ws, "import").stale);
    QVERIFY(!stageState(ws, "ground_truth").stale);
    ws.setParamOverride("import", "camera_model", "PINHOLE");
    QVERIFY(stageState(ws, "import").stale);
    QCOMPARE(stageState(ws, "import").reason, std::string("its parameters have changed since it ran"));
    QVERIFY(stageState(ws, "ground_truth").stale);
    QVERIFY(QString::fromStdString(stageState(ws, "ground_truth").reason)
                .contains("upstream stage 'import'"));
    // A downstream-only change leaves upstream alone.
    ws.clearParamOverride("import", "camera_model");
    ws.setParamOverride("ground_truth", "max_points", 10);
    QVERIFY(!stageState(ws, "import").stale);
    QVERIFY(stageState(ws, "ground_truth").stale);
  }

  void rerunRecomputesOnlyStaleStages() {
    QTemporaryDir tmp;
    fs::path root = test::sampleProject(tmp);
    Workspace ws = Workspace::open(root);
    const std::string importFinished = ws.stageRecord("import")["finished"];
    auto dbTime = fs::last_write_time(ws.databasePath());
    ws.setParamOverride("ground_truth", "max_points", 50);
    ws.save();
    auto sink = std::make_shared<CollectingSink>();
    QCOMPARE(int(runPipeline(ws, "", sink)), int(RunResult::kSucceeded));
    QCOMPARE(fs::last_write_time(ws.databasePath()), dbTime);
    bool importUpToDate = false;
    for (const auto& e : sink->events())
      if (e["stage"] == "import" && e["event"] == "up_to_date") importUpToDate = true;
    QVERIFY(importUpToDate);
    QVERIFY(readColmapModel(ws.referenceDir() / "sparse").points3D.size() <= 50);
    QVERIFY(!stageState(ws, "ground_truth").stale);
  }

  // A stage run again with the same parameters may write different outputs (a method
  // that has become available, a forced rerun): what was made from them is out of date.
  void rerunningAStageMakesDownstreamStale() {
    QTemporaryDir tmp;
    fs::path root = test::sampleProject(tmp);
    Workspace ws = Workspace::open(root);
    QVERIFY(!stageState(ws, "ground_truth").stale);
    QCOMPARE(int(runStage(ws, "import", nullptr)), int(RunResult::kSucceeded));
    QVERIFY(!stageState(ws, "import").stale);
    QVERIFY(stageState(ws, "ground_truth").stale);
    QCOMPARE(stageState(ws, "ground_truth").reason,
             std::string("its inputs have changed since it ran"));
    QCOMPARE(int(runStage(ws, "ground_truth", nullptr)), int(RunResult::kSucceeded));
    QVERIFY(!stageState(ws, "ground_truth").stale);
    QVERIFY(!stageState(Workspace::open(root), "ground_truth").stale);  // as saved
  }

  void addedPhotoMakesImportStale() {
    QTemporaryDir tmp;
    fs::path photos = test::tempPath(tmp, "photos");
    fs::create_directories(photos);
    fs::copy_file(test::sampleDir() / "images" / "view_000.png", photos / "a.png");
    fs::copy_file(test::sampleDir() / "images" / "view_001.png", photos / "b.png");
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    ws.addPhotoRoot(photos);
    ws.save();
    QCOMPARE(int(runStage(ws, "import", nullptr)), int(RunResult::kSucceeded));
    QVERIFY(!stageState(ws, "import").stale);
    fs::copy_file(test::sampleDir() / "images" / "view_002.png", photos / "c.png");
    QVERIFY(stageState(ws, "import").stale);
    QCOMPARE(stageState(ws, "import").reason, std::string("its inputs have changed since it ran"));
  }

  void runningDownstreamBeforeUpstreamSaysWhatToRun() {
    QTemporaryDir tmp;
    Workspace ws = Workspace::create(test::tempPath(tmp, "p"));
    auto sink = std::make_shared<CollectingSink>();
    QCOMPARE(int(runStage(ws, "ground_truth", sink)), int(RunResult::kFailed));
    QVERIFY(QString::fromStdString(sink->events().back()["reason"])
                .contains("run stage 'import' first"));
    QCOMPARE(int(runStage(ws, "import", sink)), int(RunResult::kFailed));
    QVERIFY(QString::fromStdString(sink->events().back()["reason"]).contains("no photos"));
  }

  // Cleaning edits: undo, redo, a new edit dropping the undone ones, and the history
  // as it was after closing and reopening the project.
  void editsUndoRedoAndSurviveReopening() {
    QTemporaryDir tmp;
    const fs::path root = test::tempPath(tmp, "p");
    fs::create_directories(root / "dense");
    PointCloud cloud;
    for (int i = 0; i < 1000; ++i) {
      cloud.points.emplace_back(float(i % 10), float(i / 10 % 10), float(i / 100));
      cloud.colors.push_back({uint8_t(i % 256), 0, 0});
    }
    writePly(root / "dense" / "fused.ply", cloud);

    EditHistory h = EditHistory::load(root);
    QVERIFY(h.edits().empty());
    std::vector<uint32_t> ids;
    PointCloud shown = applyEdits(h, cloud, &ids);
    // Crop to x < 5: the 500 points with x >= 5 go.
    QVERIFY(h.push({EditTarget::kDensePoints, "crop",
                    pointsOutside(shown.points, ids,
                                  CropBox::axisAligned({-1, -1, -1}, {4.5, 10, 10}))},
                   root));
    shown = applyEdits(h, cloud, &ids);
    QCOMPARE(shown.size(), size_t(500));
    QVERIFY(std::all_of(shown.points.begin(), shown.points.end(), [](auto& p) { return p.x() < 5; }));
    // Selection on what is shown names file indices: delete the first 10 shown points.
    QVERIFY(h.push({EditTarget::kDensePoints, "delete", {ids.begin(), ids.begin() + 10}}, root));
    QVERIFY(!h.push({EditTarget::kDensePoints, "nothing", {}}, root));
    h.save(root);

    h = EditHistory::load(root);
    QCOMPARE(h.edits().size(), size_t(2));
    QCOMPARE(h.applied(), size_t(2));
    QCOMPARE(h.edits()[1].label, std::string("delete"));
    shown = applyEdits(h, cloud, &ids);
    QCOMPARE(shown.size(), size_t(490));
    QCOMPARE(shown.colors[0], cloud.colors[ids[0]]);  // attributes follow their points
    h.undo();
    QCOMPARE(applyEdits(h, cloud).size(), size_t(500));
    h.save(root);
    h = EditHistory::load(root);
    QCOMPARE(h.applied(), size_t(1));  // the undone edit is kept for redo
    QVERIFY(h.canRedo());
    h.redo();
    QCOMPARE(applyEdits(h, cloud).size(), size_t(490));
    h.undo();
    h.undo();
    QVERIFY(h.push({EditTarget::kDensePoints, "other", {0, 1, 2}}, root));
    QCOMPARE(h.edits().size(), size_t(1));  // the redoable edits went
    QVERIFY(!h.canRedo());
    QCOMPARE(applyEdits(h, cloud).size(), size_t(997));
  }

  // A layer computed again (fusion rerun) no longer has the points its edits name:
  // they are set aside with a message, other layers' edits stay; a damaged history
  // is kept aside and named.
  void editsOfARecomputedLayerAreSetAside() {
    QTemporaryDir tmp;
    const fs::path root = test::tempPath(tmp, "p");
    fs::create_directories(root / "dense");
    TriangleMesh mesh;
    mesh.points = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}, {2, 2, 0}};
    mesh.faces = {{0, 1, 2}, {1, 3, 2}, {3, 4, 2}};
    writePly(root / "dense" / "meshed-poisson.ply", mesh);
    PointCloud cloud;
    cloud.points = {{0, 0, 0}, {1, 1, 1}};
    writePly(root / "dense" / "fused.ply", cloud);
    EditHistory h;
    QVERIFY(h.push({EditTarget::kMeshFaces, "faces", {2}}, root));
    QVERIFY(h.push({EditTarget::kDensePoints, "points", {1}}, root));
    h.save(root);
    // Face 2 gone: vertex 4 is no longer used and goes; faces keep their corners.
    std::vector<uint32_t> keptFaces;
    const TriangleMesh edited = applyEdits(h, mesh, &keptFaces);
    QCOMPARE(edited.points.size(), size_t(4));
    QCOMPARE(edited.faces.size(), size_t(2));
    QCOMPARE(keptFaces, (std::vector<uint32_t>{0, 1}));
    for (size_t f = 0; f < 2; ++f)
      for (int k = 0; k < 3; ++k)
        QCOMPARE(edited.points[size_t(edited.faces[f][k])], mesh.points[size_t(mesh.faces[f][k])]);

    cloud.points.emplace_back(2, 2, 2);  // fusion ran again
    writePly(root / "dense" / "fused.ply", cloud);
    std::vector<std::string> notes;
    h = EditHistory::load(root, &notes);
    QCOMPARE(h.edits().size(), size_t(1));
    QCOMPARE(h.edits()[0].target, EditTarget::kMeshFaces);
    QCOMPARE(notes.size(), size_t(1));
    QVERIFY2(notes[0].find("dense points") != std::string::npos &&
                 notes[0].find("edits-superseded.json") != std::string::npos,
             notes[0].c_str());
    QVERIFY(fs::exists(root / "edits-superseded.json"));

    writeFileAtomic(root / "edits.json", "{\"edits\": [");
    notes.clear();
    h = EditHistory::load(root, &notes);
    QVERIFY(h.edits().empty());
    QCOMPARE(notes.size(), size_t(1));
    QVERIFY2(notes[0].find("edits.json.damaged") != std::string::npos, notes[0].c_str());
    QVERIFY(fs::exists(root / "edits.json.damaged"));
  }

  // Deleting a camera takes its observations; points then seen by one photo go.
  // The cleaning measures on a known cloud: a 50 x 50 grid 0.1 apart with five far
  // strays. The spacing is the grid's; a radius of three spacings wanting four
  // neighbours finds exactly the strays; a box turned 45 degrees keeps the diamond
  // of grid points it covers.
  void cleaningFindsStraysAndCropsToATurnedBox() {
    std::vector<Eigen::Vector3f> pts;
    for (int i = 0; i < 50; ++i)
      for (int j = 0; j < 50; ++j) pts.emplace_back(0.1f * float(i), 0.1f * float(j), 0.f);
    for (int k = 0; k < 5; ++k) pts.emplace_back(10.f + 3.f * float(k), -5.f, 2.f);
    QVERIFY(std::abs(medianSpacing(pts) - 0.1) < 1e-4);
    const auto strays = radiusOutliers(pts, {}, 0.3, 4);
    QCOMPARE(strays.size(), size_t(5));
    for (uint64_t i : strays) QVERIFY(i >= 2500);
    // With file indices: the ids are passed through.
    std::vector<uint32_t> ids(pts.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = uint32_t(1000 + i);
    QCOMPARE(radiusOutliers(pts, ids, 0.3, 4).front(), uint64_t(3500));
    CropBox box;
    box.world_from_box = Eigen::Translation3d(2.45, 2.45, 0) *
                         Eigen::AngleAxisd(M_PI / 4, Eigen::Vector3d::UnitZ());
    const auto outside = pointsOutside(pts, {}, box);
    size_t diamond = 0;  // |dx| + |dy| <= 0.5 * sqrt(2): the turned unit square
    for (const auto& p : pts)
      diamond += std::abs(p.x() - 2.45) + std::abs(p.y() - 2.45) <= 0.5 * std::sqrt(2.0) + 1e-6;
    QCOMPARE(pts.size() - outside.size(), diamond);
    // Counted by hand: offsets +-0.05, +-0.15, ... from the centre with |dx| + |dy| <= 0.707
    // give 28 + 24 + 20 + 16 + 12 + 8 + 4 grid points (about area 1 x 100 per unit area).
    QCOMPARE(diamond, size_t(112));
  }

  // The cleaning workflow the GUI and `parallax-cli clean` share: a step acts on the
  // layers as shown (after earlier edits), its edits name file indices, the edits of
  // one step on the cloud and the mesh are one action (one group, undone together),
  // and out-of-range values are refused with a message before anything is touched.
  void cleaningStepsBecomeOneActionOnFileIndices() {
    QTemporaryDir tmp;
    const fs::path root = test::tempPath(tmp, "p");
    fs::create_directories(root / "dense");
    PointCloud cloud;  // x = 0..9 in a 10 x 10 x 10 grid, and one stray far away
    for (int i = 0; i < 1000; ++i) cloud.points.emplace_back(float(i % 10), float(i / 10 % 10), float(i / 100));
    cloud.points.emplace_back(100.f, 100.f, 100.f);
    writePly(root / "dense" / "fused.ply", cloud);
    TriangleMesh mesh;  // one triangle at x = 1 and one at x = 8
    mesh.points = {{1, 0, 0}, {1.2f, 0, 0}, {1, 0.2f, 0}, {8, 0, 0}, {8.2f, 0, 0}, {8, 0.2f, 0}};
    mesh.faces = {{0, 1, 2}, {3, 4, 5}};
    writePly(root / "dense" / "meshed-poisson.ply", mesh);
    EditHistory h;
    CleaningSession session(root, h, false, true, true);

    // The stray first: a statistical outlier of the cloud (the mesh is not a cloud).
    const CleanStep outliers = CleanStep::statisticalOutliers(8, 3.0);
    CleanLayers shown = session.shown();
    SceneElements remove = selectForRemoval(shown, outliers);
    QCOMPARE(remove.dense, std::vector<uint32_t>{1000});
    QVERIFY(remove.faces.empty());
    QCOMPARE(pushAction(h, editsFor(shown, remove, outliers.label()), root).size(), size_t(1));
    QCOMPARE(h.edits().back().label, std::string("Statistical outliers: 1 dense points"));

    // Then a box keeping x < 5: the cloud's far half and the far triangle, one action.
    shown = session.shown();
    QCOMPARE(shown.dense->size(), size_t(1000));
    const CleanStep crop = CleanStep::cropBox(CropBox::axisAligned({-1, -1, -1}, {4.5, 10, 10}));
    remove = selectForRemoval(shown, crop);
    QCOMPARE(remove.dense.size(), size_t(500));
    QCOMPARE(remove.faces, std::vector<uint32_t>{1});
    const auto added = pushAction(h, editsFor(shown, remove, crop.label()), root);
    QCOMPARE(added.size(), size_t(2));
    QVERIFY(added[0].group != 0 && added[0].group == added[1].group);
    QVERIFY(added[0].group != h.edits().front().group);
    QCOMPARE(actionRanges(h), (std::vector<std::pair<size_t, size_t>>{{0, 1}, {1, 3}}));
    shown = session.shown();
    QCOMPARE(shown.dense->size(), size_t(500));
    QCOMPARE(shown.mesh->faces.size(), size_t(1));
    QVERIFY(std::all_of(shown.dense->points.begin(), shown.dense->points.end(),
                        [](const Eigen::Vector3f& p) { return p.x() < 5; }));

    // Deleting shown points names their indices in the file: the shown points are
    // those with x < 5, so shown index 5 is file index 10.
    SceneElements first;
    first.dense = {0, 5};
    const auto deleted = editsFor(shown, first, "Delete");
    QCOMPARE(deleted.size(), size_t(1));
    QCOMPARE(deleted[0].removed, (std::vector<uint64_t>{(*shown.denseIds)[0], (*shown.denseIds)[5]}));
    QCOMPARE((*shown.denseIds)[5], uint32_t(10));

    // Values out of range: a message, nothing selected.
    QVERIFY(CleanStep::statisticalOutliers(0, 2).problem());
    QVERIFY(CleanStep::radiusOutliers(-1, 4).problem());
    QVERIFY(CleanStep::sparseFilter(0, 0).problem());
    QVERIFY(!CleanStep::sparseFilter(3, 0).problem());
    QVERIFY_THROWS_EXCEPTION(Error, selectForRemoval(shown, CleanStep::radiusOutliers(0, 4)));
    QCOMPARE(CleanStep::sparseFilter(3, 2).label(),
             std::string("Filter sparse points (fewer than 3 photos, error above 2 px)"));
  }

  void deletingACameraKeepsTheModelConsistent() {
    Reconstruction model;
    model.cameras[1] = Camera::pinhole(100, 100, 100, 100, 50, 50);
    model.cameras[1].camera_id = 1;
    for (uint32_t id = 1; id <= 3; ++id) {
      Image im;
      im.image_id = id;
      im.name = "v" + std::to_string(id);
      im.camera_id = 1;
      im.points2D.resize(2);
      model.images[id] = im;
    }
    auto addPoint = [&](uint64_t pid, std::vector<uint32_t> images, uint32_t feature) {
      Point3D p;
      for (uint32_t im : images) {
        p.track.push_back({im, feature});
        model.images[im].points2D[feature].point3D_id = pid;
      }
      model.points3D[pid] = p;
    };
    addPoint(10, {1, 2, 3}, 0);  // keeps two observations
    addPoint(11, {1, 2}, 1);     // left with one: removed
    QCOMPARE(deleteImageFromModel(model, 1), size_t(1));
    model.checkConsistency();
    QCOMPARE(model.images.size(), size_t(2));
    QVERIFY(model.points3D.count(10) && !model.points3D.count(11));
    QCOMPARE(model.points3D[10].track.size(), size_t(2));
    QCOMPARE(model.images[2].points2D[1].point3D_id, kInvalidPoint3DId);
  }
};

QTEST_GUILESS_MAIN(TestWorkspace)
#include "test_workspace.moc"
