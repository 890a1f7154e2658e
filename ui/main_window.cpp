#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QFormLayout>
#include <QInputDialog>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QStatusBar>
#include <QActionGroup>
#include <QDoubleSpinBox>
#include <QSignalBlocker>
#include <QToolBar>
#include <QUndoStack>
#include <QUndoView>
#include <QtConcurrent/QtConcurrent>
#include <iostream>

#include "io/project_export.h"
#include "pipeline/runner.h"
#include "plugin/plugin_manager.h"
#include "surface/cleaning.h"
#include "ui/depth_panel.h"
#include "ui/field_panel.h"
#include "ui/labels_panel.h"
#include "ui/jobs_panel.h"
#include "ui/parameter_editor.h"
#include "ui/photo_browser.h"
#include "ui/selection_panel.h"
#include "ui/stats_panel.h"
#include "ui/stage_job.h"
#include "ui/viewport.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  // The plugins' methods and parameters, from the declarations beside them: the GUI
  // offers what the workers can run without loading LibTorch itself.
  for (const auto& problem : PluginManager::instance().declareInstalled())
    std::cerr << "parallax: " << problem << std::endl;
  setWindowTitle("Parallax");
  resize(1400, 900);
  viewport_ = new Viewport(this);
  viewport_->setObjectName("viewport");
  setCentralWidget(viewport_);

  // A panel in a dock of its own, named for saved layouts and tests.
  auto dock = [this](const QString& title, const QString& name, QWidget* panel,
                     Qt::DockWidgetArea area) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(name);
    d->setWidget(panel);
    addDockWidget(area, d);
    return d;
  };
  photos_ = new PhotoBrowser(this);
  dock("Photos", "photosDock", photos_, Qt::LeftDockWidgetArea);
  params_ = new ParameterEditor(this);
  QDockWidget* paramDock = dock("Parameters", "parametersDock", params_, Qt::RightDockWidgetArea);
  stats_ = new StatsPanel(this);
  QDockWidget* statsDock = dock("Statistics", "statisticsDock", stats_, Qt::RightDockWidgetArea);
  selection_ = new SelectionPanel(this);
  selectionDock_ = dock("Selection", "selectionDock", selection_, Qt::RightDockWidgetArea);
  depth_ = new DepthPanel(this);
  depthDock_ = dock("Depth", "depthDock", depth_, Qt::RightDockWidgetArea);
  tabifyDockWidget(paramDock, statsDock);
  tabifyDockWidget(statsDock, selectionDock_);
  undo_ = new QUndoStack(this);
  auto* historyView = new QUndoView(undo_, this);
  historyView->setEmptyLabel("Results as computed");
  historyView->setObjectName("historyView");
  QDockWidget* historyDock = dock("History", "historyDock", historyView, Qt::RightDockWidgetArea);
  tabifyDockWidget(selectionDock_, depthDock_);
  field_ = new FieldPanel(this);
  fieldDock_ = dock("Field", "fieldDock", field_, Qt::RightDockWidgetArea);
  tabifyDockWidget(depthDock_, fieldDock_);
  tabifyDockWidget(fieldDock_, historyDock);
  labels_ = new LabelsPanel(this);
  QDockWidget* labelsDock = dock("Labels", "labelsDock", labels_, Qt::RightDockWidgetArea);
  tabifyDockWidget(historyDock, labelsDock);
  connect(labels_, &LabelsPanel::hiddenChanged, this, [this] { showEdited(); });
  connect(labels_, &LabelsPanel::selectRequested, this, [this](int32_t label) { selectLabel(label); });
  connect(labels_, &LabelsPanel::colourByLabelRequested, this, [this] {
    if (auto* a = findChild<QAction*>("colour-Label")) a->trigger();
  });
  connect(field_, &FieldPanel::pauseRequested, this, [this] {
    if (running_ && running_->stage() == "field") running_->cancel();
  });
  connect(field_, &FieldPanel::resumeRequested, this, [this] { runStage("field"); });
  paramDock->raise();
  connect(viewport_, &Viewport::selectionChanged, this, [this](const Selection& s) {
    selection_->showSelection(viewport_->model(), s, photoPaths_);
    if (s.kind != Selection::kNone) selectionDock_->raise();
    if (s.kind == Selection::kCamera && viewport_->model()) {
      auto it = viewport_->model()->images.find(uint32_t(s.id));
      if (it != viewport_->model()->images.end())
        depth_->showPhoto(QString::fromStdString(it->second.name));
    }
  });
  connect(photos_, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
    if (item) depth_->showPhoto(item->text());
  });

  jobs_ = new JobsPanel(this);
  dock("Jobs and log", "jobsDock", jobs_, Qt::BottomDockWidgetArea);

  statusLabel_ = new QLabel("No project open — File ▸ New Project or Open Project", this);
  statusBar()->addWidget(statusLabel_, 1);
  selectionLabel_ = new QLabel(this);
  selectionLabel_->setObjectName("selectionCount");
  statusBar()->addPermanentWidget(selectionLabel_);
  measureLabel_ = new QLabel(this);
  measureLabel_->setObjectName("measurement");
  statusBar()->addPermanentWidget(measureLabel_);
  connect(viewport_, &Viewport::measurementChanged, this,
          [this] { measureLabel_->setText(measurementText()); });
  connect(viewport_, &Viewport::regionSelectionChanged, this, [this] {
    selectionLabel_->setText(selectionSummary());
    updateActions();
  });

  reloadTimer_.setSingleShot(true);
  reloadTimer_.setInterval(250);  // coalesce bursts of preview events
  connect(&reloadTimer_, &QTimer::timeout, this, &MainWindow::reloadScene);
  connect(photos_, &PhotoBrowser::photosDropped, this, &MainWindow::addPhotos);
  connect(params_, &ParameterEditor::parameterChanged, this, [this] {
    if (!ws_) return;
    try {
      ws_->save();  // workers read parameters from disk
    } catch (const Error& e) {
      message(e.what());
    }
  });
  connect(params_, &ParameterEditor::runStageRequested, this, &MainWindow::runStage);
  buildMenus();
  updateActions();
}

MainWindow::~MainWindow() {
  for (StageJob* job : allJobs_) job->disconnect(this);
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu("&File");
  file->addAction("&New Project…", QKeySequence::New, this, [this] {
    QString dir = QFileDialog::getExistingDirectory(this, "New project folder (empty)");
    if (!dir.isEmpty()) newProject(dir);
  });
  file->addAction("&Open Project…", QKeySequence::Open, this, [this] {
    QString dir = QFileDialog::getExistingDirectory(this, "Open project folder");
    if (!dir.isEmpty()) openProject(dir);
  });
  recentMenu_ = file->addMenu("Open &Recent");
  updateRecentMenu();
  QAction* save = file->addAction("&Save", QKeySequence::Save, this, [this] {
    if (!ws_) return;
    nlohmann::json app = ws_->appState();
    app["window"] = {{"width", width()}, {"height", height()}};
    app["selected_stage"] = params_->currentStage().toStdString();
    ws_->setAppState(app);
    try {
      ws_->save();
      statusBar()->showMessage("Saved", 2000);
    } catch (const Error& e) {
      message(e.what());
    }
  });
  QAction* add =
      file->addAction("&Add Photos…", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A), this, [this] {
        QStringList files = QFileDialog::getOpenFileNames(
            this, "Add photos", {},
            "Photos (*.jpg *.jpeg *.png *.tif *.tiff *.JPG *.JPEG *.PNG *.TIF *.TIFF)");
        if (!files.isEmpty()) addPhotos(files);
      });
  QAction* addFolder = file->addAction("Add Photo &Folder…", this, [this] {
    QString dir = QFileDialog::getExistingDirectory(this, "Add a folder of photos");
    if (!dir.isEmpty()) addPhotos({dir});
  });
  QAction* exportAction = file->addAction("&Export…", QKeySequence(Qt::CTRL | Qt::Key_E), this,
                                          &MainWindow::showExportDialog);
  QAction* shot = file->addAction("Save &Screenshot…", this, [this] {
    QDialog dialog(this);
    dialog.setWindowTitle("Save screenshot");
    auto* form = new QFormLayout(&dialog);
    auto* w = new QSpinBox(&dialog);
    auto* h = new QSpinBox(&dialog);
    w->setRange(16, 8192);
    h->setRange(16, 8192);
    w->setValue(1920);
    h->setValue(1080);
    w->setSuffix(" px");
    h->setSuffix(" px");
    form->addRow("Width", w);
    form->addRow("Height", h);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted) return;
    const QString file = QFileDialog::getSaveFileName(this, "Save screenshot", "screenshot.png",
                                                      "PNG images (*.png)");
    if (file.isEmpty()) return;
    const QImage image = viewport_->renderImage(QSize(w->value(), h->value()));
    if (image.isNull() || !image.save(file, "PNG"))
      message("Could not write the screenshot to '" + file + "': check the folder is writable.");
    else
      statusBar()->showMessage(QString("Saved %1 (%2 x %3)").arg(file).arg(image.width()).arg(image.height()), 5000);
  });
  shot->setObjectName("screenshotAction");
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);

  buildEditMenu();

  QMenu* view = menuBar()->addMenu("&View");
  QAction* fit =
      view->addAction("&Fit View", QKeySequence(Qt::Key_F), viewport_, &Viewport::fitView);
  fit->setShortcutContext(Qt::WindowShortcut);
  view->addSeparator();
  const std::pair<const char*, Layer> layers[] = {{"&Cameras", Layer::kCameras},
                                                  {"&Sparse Points", Layer::kSparse},
                                                  {"&Dense Cloud", Layer::kDense},
                                                  {"&Mesh", Layer::kMesh}};
  for (const auto& [label, layer] : layers) {
    QAction* a = view->addAction(label);
    a->setCheckable(true);
    a->setChecked(true);
    a->setObjectName(QString("layer-") + QString(label).remove('&'));
    Layer l = layer;
    connect(a, &QAction::toggled, this, [this, l](bool on) { viewport_->setLayerVisible(l, on); });
  }
  QAction* look = view->addAction("&Look Through Selected Camera", QKeySequence(Qt::Key_C), this,
                                  &MainWindow::lookThroughSelectedCamera);
  look->setObjectName("lookThroughAction");
  QMenu* colour = view->addMenu("&Colour By");
  auto* colourGroup = new QActionGroup(this);
  const std::pair<const char*, ColorMode> colours[] = {{"&RGB", ColorMode::kRgb},
                                                      {"&Height", ColorMode::kHeight},
                                                      {"Number of &Views", ColorMode::kViews},
                                                      {"Reprojection &Error", ColorMode::kError},
                                                      {"&Confidence", ColorMode::kConfidence},
                                                      {"&Label", ColorMode::kLabel}};
  for (const auto& [label, mode] : colours) {
    QAction* a = colour->addAction(label);
    a->setCheckable(true);
    a->setChecked(mode == ColorMode::kRgb);
    a->setObjectName(QString("colour-") + QString(label).remove('&'));
    colourGroup->addAction(a);
    const ColorMode m = mode;
    connect(a, &QAction::triggered, this, [this, m] { viewport_->setColorMode(m); });
  }
  QMenu* shading = view->addMenu("Mesh S&hading");
  auto* shadingGroup = new QActionGroup(this);
  const std::pair<const char*, MeshShading> shadings[] = {{"&Textured", MeshShading::kTextured},
                                                          {"&Smooth", MeshShading::kSmooth},
                                                          {"&Flat", MeshShading::kFlat},
                                                          {"&Wireframe", MeshShading::kWireframe}};
  for (const auto& [label, mode] : shadings) {
    QAction* a = shading->addAction(label);
    a->setCheckable(true);
    a->setChecked(mode == MeshShading::kTextured);
    a->setObjectName(QString("shading-") + QString(label).remove('&'));
    if (mode == MeshShading::kTextured)
      a->setToolTip("The texture stage's mesh with its atlas (vertex colours before the texture stage has run)");
    shadingGroup->addAction(a);
    const MeshShading m = mode;
    connect(a, &QAction::triggered, this, [this, m] { viewport_->setMeshShading(m); });
  }
  QMenu* size = view->addMenu("Point &Size");
  for (int px : {1, 2, 3, 5, 8})
    size->addAction(QString::number(px) + " px", this, [this, px] { viewport_->setPointSize(px); });

  QMenu* run = menuBar()->addMenu("&Run");
  QAction* rec = run->addAction("&Reconstruct", QKeySequence(Qt::CTRL | Qt::Key_R), this,
                                &MainWindow::reconstruct);
  QAction* runSel =
      run->addAction("Run &Selected Stage", this, [this] { runStage(params_->currentStage()); });
  cancelAction_ = run->addAction("&Cancel All Jobs", QKeySequence(Qt::Key_Escape), this,
                                 &MainWindow::cancelAll);

  QMenu* help = menuBar()->addMenu("&Help");
  help->addAction("&About Parallax", this, [this] {
    QMessageBox::about(
        this, "About Parallax",
        "Parallax 0.1 — 3D reconstruction from photos.\nStages run as separate worker processes "
        "(parallax-cli run-stage), so a failing stage never takes the window down.");
  });
  projectActions_ = {save, add, addFolder, exportAction, rec, runSel};
}

void MainWindow::updateActions() {
  for (QAction* a : projectActions_) a->setEnabled(ws_.has_value());
  for (QAction* a : editActions_) a->setEnabled(ws_.has_value() && !busy());
  if (cancelAction_) cancelAction_->setEnabled(busy());
  field_->setTraining(running_ && running_->stage() == "field", ws_.has_value() && !busy());
  if (ws_) {
    QString text = QString::fromStdString(ws_->root().string()).toHtmlEscaped();
    QStringList states;
    StageKeyCache keys;
    for (const auto& stage : pipelineStages()) {
      StageState st = stageState(*ws_, stage, &keys);
      // A failed stage says so (in red), whatever else has changed since.
      const QString state = st.status == "failed"      ? "<span style='color:#d22'><b>failed</b></span>"
                            : !st.stale                ? "ok"
                            : st.status == "never_run" ? "not run"
                                                       : "stale";
      states << QString::fromStdString(stage) + ": " + state;
    }
    statusLabel_->setTextFormat(Qt::RichText);
    statusLabel_->setText(text + "&nbsp;&nbsp;&nbsp;|&nbsp;&nbsp;&nbsp;" + states.join("&nbsp;&nbsp;&nbsp;"));
  }
  params_->refreshState();
}

void MainWindow::updateRecentMenu() {
  recentMenu_->clear();
  QStringList recent = QSettings("Parallax", "Parallax").value("recentProjects").toStringList();
  for (const QString& path : recent)
    recentMenu_->addAction(path, this, [this, path] { openProject(path); });
  recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::rememberRecent(const QString& path) {
  QSettings settings("Parallax", "Parallax");
  QStringList recent = settings.value("recentProjects").toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > 10) recent.removeLast();
  settings.setValue("recentProjects", recent);
  updateRecentMenu();
}

void MainWindow::message(const QString& text) {
  jobs_->appendLog("parallax", "error", text);
  statusBar()->showMessage(text.section('\n', 0, 0), 10000);
  if (isVisible()) {  // non-modal: a message never blocks running jobs or the event loop
    auto* box = new QMessageBox(QMessageBox::Warning, "Parallax", text, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
  }
}

bool MainWindow::openProject(const QString& path) {
  if (busy()) {
    message("Wait for the running jobs to finish (or cancel them) before opening another project.");
    return false;
  }
  try {
    ws_ = Workspace::open(path.toStdString());
  } catch (const Error& e) {
    message(QString::fromStdString(e.what()));
    return false;
  }
  for (const auto& note : ws_->recoveryNotes())
    jobs_->appendLog("project", "warning", "recovered: " + QString::fromStdString(note));
  if (!ws_->recoveryNotes().empty() && isVisible()) {
    QStringList notes;
    for (const auto& n : ws_->recoveryNotes()) notes << "• " + QString::fromStdString(n);
    auto* box =
        new QMessageBox(QMessageBox::Information, "Project recovered",
                        "The project was left incomplete by an earlier run:\n" + notes.join("\n"),
                        QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
  }
  setWindowTitle("Parallax — " + QString::fromStdString(ws_->root().filename().string()));
  params_->setWorkspace(&*ws_);
  QString stage = QString::fromStdString(ws_->appState().value("selected_stage", ""));
  if (!stage.isEmpty()) params_->selectStage(stage);
  rememberRecent(QString::fromStdString(ws_->root().string()));
  photos_->loadProject(ws_->root());
  depth_->setProject(ws_->root());
  field_->setProject(ws_->root());
  viewport_->clearScene();
  rebuildingUndo_ = true;
  undo_->clear();
  rebuildingUndo_ = false;
  history_ = EditHistory();
  loaded_ = SceneData();
  sceneLoaded_ = false;
  reloadScene();
  updateActions();
  return true;
}

bool MainWindow::newProject(const QString& path) {
  try {
    Workspace::create(path.toStdString());
  } catch (const Error& e) {
    message(QString::fromStdString(e.what()));
    return false;
  }
  return openProject(path);
}

void MainWindow::addPhotos(const QStringList& paths) {
  if (!ws_) {
    message("Create or open a project first (File ▸ New Project), then add photos.");
    return;
  }
  for (const QString& p : paths) ws_->addPhotoRoot(p.toStdString());
  try {
    ws_->save();
  } catch (const Error& e) {
    message(QString::fromStdString(e.what()));
    return;
  }
  jobs_->appendLog("project", "info",
                   QString("added %1 photo path(s); importing").arg(paths.size()));
  runStage("import");
}

void MainWindow::reloadScene() {
  if (!ws_) return;
  if (sceneWatcher_ && sceneWatcher_->isRunning()) {
    reloadTimer_.start();  // try again once the current load is done
    return;
  }
  delete sceneWatcher_;
  sceneWatcher_ = new QFutureWatcher<SceneData>(this);
  connect(sceneWatcher_, &QFutureWatcher<SceneData>::finished, this, [this, generation = editGeneration_] {
    SceneData data = sceneWatcher_->result();
    for (const auto& p : data.problems)
      jobs_->appendLog("viewport", "warning", "could not show " + QString::fromStdString(p));
    for (const auto& n : data.editNotes)
      jobs_->appendLog("edits", "warning", QString::fromStdString(n));
    if (data.textured) {
      const StageState texture = stageState(*ws_, "texture");
      data.texturedCurrent = !texture.stale;
      if (texture.stale)
        jobs_->appendLog("viewport", "info",
                         "the textured mesh is out of date (" + QString::fromStdString(texture.reason) +
                             "): the mesh is shown with its colours until the Texture stage runs again");
    }
    photoPaths_ = data.photoPaths;
    loaded_ = std::move(data);
    // An edit made while this load ran is newer than the history it read.
    if (editGeneration_ == generation) rebuildUndoStack(loaded_.edits);
    showEdited();
    // The selected camera or point may have moved (a live model grows): show it anew.
    selection_->showSelection(viewport_->model(), viewport_->selection(), photoPaths_);
    sceneLoaded_ = true;
    emit sceneReloaded();
  });
  sceneWatcher_->setFuture(QtConcurrent::run(loadSceneData, ws_->root()));
}

bool MainWindow::busy() const { return running_ != nullptr || !queue_.isEmpty(); }

void MainWindow::enqueue(const QString& stage) {
  auto* job = new StageJob(QString::fromStdString(ws_->root().string()), stage, this);
  connect(job, &StageJob::done, this, &MainWindow::onJobDone);
  connect(job, &StageJob::preview, this, [this, job](const QString& what, const QString& path) {
    if (what == "images")
      photos_->loadProject(ws_->root());
    else if (what == "depth")
      depth_->showLiveMap(path);  // the 3D scene has not changed
    else if (what == "field_render") {
      field_->showLive(path);  // nor while a field trains, until its mesh
      if (!job->property("fieldShown").toBool()) fieldDock_->raise();  // once a run: then the user's choice
      job->setProperty("fieldShown", true);
    }
    else
      reloadTimer_.start();
  });
  jobs_->addJob(job);
  queue_.append(job);
  allJobs_.append(job);
}

void MainWindow::startNext() {
  if (running_ || queue_.isEmpty()) {
    updateActions();
    return;
  }
  running_ = queue_.takeFirst();
  running_->start();
  updateActions();
}

void MainWindow::reconstruct() {
  if (!ws_) return;
  if (busy()) {
    message("Jobs are already running; cancel them or wait.");
    return;
  }
  try {
    ws_->save();
    bool any = false;
    bool upstreamQueued = false;
    StageKeyCache keys;
    for (const auto& stage : pipelineStages()) {
      if (upstreamQueued || stageState(*ws_, stage, &keys).stale) {
        enqueue(QString::fromStdString(stage));
        any = upstreamQueued = true;
      }
    }
    if (!any) jobs_->appendLog("reconstruct", "info", "everything is up to date");
  } catch (const Error& e) {
    message(QString::fromStdString(e.what()));
  }
  startNext();
}

void MainWindow::runStage(const QString& stage) {
  if (!ws_) return;
  if (busy()) {
    message("Jobs are already running; cancel them or wait.");
    return;
  }
  ws_->save();
  enqueue(stage);
  startNext();
}

void MainWindow::cancelAll() {
  for (StageJob* job : queue_) job->cancel();
  queue_.clear();
  if (running_) running_->cancel();
  updateActions();
}

void MainWindow::onJobDone(StageJob* job) {
  if (job != running_) return;  // a queued job cancelled before it started
  running_ = nullptr;
  try {
    // Reopen rather than re-read: the worker has exited, so whatever it left
    // half-done (a crash, a kill) is repaired and reported now, not at next launch.
    ws_ = Workspace::open(ws_->root());
    for (const auto& note : ws_->recoveryNotes())
      jobs_->appendLog("project", "warning", "recovered: " + QString::fromStdString(note));
  } catch (const Error& e) {
    jobs_->appendLog("project", "error", QString::fromStdString(e.what()));
  }
  photos_->loadProject(ws_->root());
  reloadScene();
  // Maps rewritten or removed by the stage: show the current photo's maps as they now are.
  if (job->stage() == "mvs" || job->stage() == "undistort") {
    if (!depth_->photo().isEmpty()) depth_->showPhoto(depth_->photo());
  }
  const bool ok =
      job->state() == StageJob::State::kSucceeded || job->state() == StageJob::State::kSkipped;
  if (!ok) {
    // A failed or cancelled stage stops the chain; what ran before stays valid.
    for (StageJob* queued : queue_) queued->cancel();
    queue_.clear();
  }
  startNext();
  if (!busy()) emit queueFinished();
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (busy()) {
    auto answer =
        QMessageBox::question(this, "Parallax", "Jobs are running. Cancel them and quit?");
    if (answer != QMessageBox::Yes) {
      e->ignore();
      return;
    }
    cancelAll();
  }
  e->accept();
}

void MainWindow::showExportDialog() {
  if (!ws_) return;
  std::vector<std::string> available = exportableData(*ws_);
  if (available.empty()) {
    message("Nothing to export yet: run Reconstruct first.");
    return;
  }
  QDialog dialog(this);
  dialog.setWindowTitle("Export");
  auto* form = new QFormLayout(&dialog);
  auto* what = new QComboBox(&dialog);
  for (const auto& w : available) what->addItem(QString::fromStdString(w));
  auto* format = new QComboBox(&dialog);
  format->addItems({"glb", "obj", "ply", "gltf", "colmap"});
  auto* path = new QLineEdit(QString::fromStdString(ws_->exportsDir().string()) + "/", &dialog);
  auto* browse = new QPushButton("Browse…", &dialog);
  auto* row = new QHBoxLayout;
  row->addWidget(path);
  row->addWidget(browse);
  connect(browse, &QPushButton::clicked, &dialog, [&] {
    QString f = QFileDialog::getSaveFileName(&dialog, "Export to", path->text());
    if (!f.isEmpty()) path->setText(f);
  });
  form->addRow("Content", what);
  form->addRow("Format", format);
  form->addRow("File or folder", row);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
  form->addRow(buttons);
  connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  if (dialog.exec() != QDialog::Accepted) return;
  const std::string w = what->currentText().toStdString(), f = format->currentText().toStdString();
  const fs::path out = path->text().toStdString();
  fs::create_directories(ws_->exportsDir());
  Workspace snapshot = *ws_;
  auto* watcher = new QFutureWatcher<QString>(this);
  connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher] {
    jobs_->appendLog("export", "info", watcher->result());
    statusBar()->showMessage(watcher->result(), 5000);
    watcher->deleteLater();
  });
  watcher->setFuture(QtConcurrent::run([snapshot, w, f, out]() -> QString {
    try {
      std::string summary;
      fs::path written = exportProject(snapshot, w, f, out, &summary);
      return QString::fromStdString("wrote " + written.string() + " (" + summary + ")");
    } catch (const std::exception& e) {
      return QString::fromStdString(std::string("export failed: ") + e.what());
    }
  }));
}

}  // namespace parallax::ui
