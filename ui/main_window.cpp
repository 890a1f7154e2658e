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
  const std::pair<const char*, MeshShading> shadings[] = {{"&Smooth", MeshShading::kSmooth},
                                                          {"&Flat", MeshShading::kFlat},
                                                          {"&Wireframe", MeshShading::kWireframe}};
  for (const auto& [label, mode] : shadings) {
    QAction* a = shading->addAction(label);
    a->setCheckable(true);
    a->setChecked(mode == MeshShading::kSmooth);
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
    QString text = QString::fromStdString(ws_->root().string());
    QStringList states;
    StageKeyCache keys;
    for (const auto& stage : pipelineStages()) {
      StageState st = stageState(*ws_, stage, &keys);
      states << QString::fromStdString(stage) + ": " +
                    (st.stale
                         ? QString::fromStdString(st.status == "never_run" ? "not run" : "stale")
                         : "ok");
    }
    statusLabel_->setText(text + "   |   " + states.join("   "));
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

// ---- cleaning ------------------------------------------------------------------

namespace {

QString thousands(size_t n) { return QLocale(QLocale::English).toString(qulonglong(n)); }

bool sameHistory(const EditHistory& a, const EditHistory& b) {
  if (a.applied() != b.applied() || a.edits().size() != b.edits().size()) return false;
  for (size_t i = 0; i < a.edits().size(); ++i)
    if (a.edits()[i].target != b.edits()[i].target || a.edits()[i].label != b.edits()[i].label ||
        a.edits()[i].removed != b.edits()[i].removed)
      return false;
  return true;
}

// "Delete: 1,204 dense points, 310 mesh faces" for the edits of one action.
QString stepText(const std::vector<Edit>& edits) {
  QStringList parts;
  for (const Edit& e : edits) parts << QString::fromStdString(e.label).section(": ", 1);
  return QString::fromStdString(edits.front().label).section(": ", 0, 0) + ": " + parts.join(", ");
}

}  // namespace

// One step on the undo stack: the edits one action made (a deletion may touch the
// dense cloud, the mesh and the sparse model at once).
class EditCommand : public QUndoCommand {
 public:
  EditCommand(MainWindow* w, std::vector<Edit> edits, const QString& text, bool inHistory)
      : QUndoCommand(text), w_(w), edits_(std::move(edits)), inHistory_(inHistory) {}
  void redo() override {
    for (Edit& e : edits_) {
      if (inHistory_)
        w_->history_.redo();
      else
        w_->history_.push(e, w_->ws_->root());
    }
    inHistory_ = true;
    commit();
  }
  void undo() override {
    for (size_t i = 0; i < edits_.size(); ++i) w_->history_.undo();
    commit();
  }

 private:
  void commit() {
    if (w_->rebuildingUndo_ || !w_->ws_) return;
    ++w_->editGeneration_;
    try {
      w_->history_.save(w_->ws_->root());
    } catch (const std::exception& e) {
      w_->message(QString("The edit could not be saved: ") + e.what());
    }
    w_->showEdited();
  }
  MainWindow* w_;
  std::vector<Edit> edits_;
  bool inHistory_;
};

void MainWindow::rebuildUndoStack(const EditHistory& loaded) {
  if (sameHistory(loaded, history_)) return;
  rebuildingUndo_ = true;
  undo_->clear();
  history_ = loaded;
  const size_t applied = history_.applied();
  history_.setApplied(0);
  // Edits of one action (same group) are one step again; the index counts steps.
  int index = 0;
  const auto& edits = history_.edits();
  for (size_t i = 0; i < edits.size();) {
    size_t j = i + 1;
    while (j < edits.size() && edits[i].group != 0 && edits[j].group == edits[i].group) ++j;
    std::vector<Edit> step(edits.begin() + long(i), edits.begin() + long(j));
    const QString text = stepText(step);
    undo_->push(new EditCommand(this, std::move(step), text, true));
    if (j <= applied) ++index;
    i = j;
  }
  undo_->setIndex(index);
  undo_->setClean();
  rebuildingUndo_ = false;
}

void MainWindow::showEdited() {
  SceneData shown = withEdits(loaded_, history_, &denseIds_, &faceIds_);
  labels_->setLabels(shown.labels, shownLabelCounts(shown));
  hideLabels(shown, labels_->hiddenLabels(), &denseIds_, &faceIds_);
  viewport_->setScene(shown);
  if (viewport_->cropBoxShown()) previewCropBox();  // the new scene's elements outside it
  stats_->setModel(shown.sparse ? &*shown.sparse : nullptr, shown.photoPaths.size(),
                   shown.sparseIsLive);
  selectionLabel_->setText(selectionSummary());
}

size_t MainWindow::selectLabel(int32_t label) {
  const SceneData* shown = viewport_->scene();
  RegionSelection r;
  if (shown && shown->dense && shown->dense->hasLabels())
    for (size_t i = 0; i < shown->dense->size(); ++i)
      if (shown->dense->labels[i] == label) r.dense.push_back(uint32_t(i));
  if (shown && shown->mesh && shown->mesh->hasLabels())
    for (size_t f = 0; f < shown->mesh->faces.size(); ++f)
      if (shown->mesh->labels[size_t(shown->mesh->faces[f][0])] == label) r.faces.push_back(uint32_t(f));
  const size_t n = r.dense.size() + r.faces.size();
  viewport_->setRegionSelection(std::move(r));
  selectionLabel_->setText(selectionSummary());
  if (n == 0)
    statusBar()->showMessage("No shown point or face is labelled '" +
                             QString::fromStdString(shown ? shown->labels.name(label) : "?") + "'", 4000);
  return n;
}

QString MainWindow::selectionSummary() const {
  const RegionSelection& r = viewport_->regionSelection();
  if (r.empty()) return {};
  QStringList parts;
  if (!r.dense.empty()) parts << thousands(r.dense.size()) + " dense points";
  if (!r.faces.empty()) parts << thousands(r.faces.size()) + " mesh faces";
  if (!r.sparse.empty()) parts << thousands(r.sparse.size()) + " sparse points";
  if (!r.cameras.empty()) parts << thousands(r.cameras.size()) + " cameras";
  return "Selected: " + parts.join(", ");
}

std::vector<Edit> MainWindow::editsFor(const RegionSelection& r, const QString& what) const {
  std::vector<Edit> edits;
  auto add = [&](EditTarget target, std::vector<uint64_t> ids) {
    if (ids.empty()) return;
    const std::string label = what.toStdString() + ": " + thousands(ids.size()).toStdString() +
                              " " + editTargetName(target);
    edits.push_back({target, label, std::move(ids)});
  };
  std::vector<uint64_t> dense, faces;
  for (uint32_t i : r.dense)
    if (i < denseIds_.size()) dense.push_back(denseIds_[i]);
  for (uint32_t i : r.faces)
    if (i < faceIds_.size()) faces.push_back(faceIds_[i]);
  add(EditTarget::kDensePoints, std::move(dense));
  add(EditTarget::kMeshFaces, std::move(faces));
  // The sparse layer is edited only as the finished model (a live one has other ids).
  if (!loaded_.sparseIsLive) {
    add(EditTarget::kSparsePoints, {r.sparse.begin(), r.sparse.end()});
    add(EditTarget::kCameras, {r.cameras.begin(), r.cameras.end()});
  }
  return edits;
}

bool MainWindow::pushEdits(std::vector<Edit> edits) {
  if (!ws_ || edits.empty()) return false;
  if (busy()) {
    message("Wait for the running stages to finish before editing: they may rewrite what is shown.");
    return false;
  }
  uint32_t group = 1;
  for (const Edit& e : history_.edits()) group = std::max(group, e.group + 1);
  for (Edit& e : edits) e.group = group;
  const QString text = stepText(edits);
  undo_->push(new EditCommand(this, std::move(edits), text, false));
  return true;
}

bool MainWindow::deleteSelection() {
  const RegionSelection r = viewport_->regionSelection();
  if (r.empty()) {
    statusBar()->showMessage("Nothing selected: drag with the rectangle or lasso tool first", 4000);
    return false;
  }
  return pushEdits(editsFor(r, "Delete"));
}

bool MainWindow::cropToSelection() {
  if (viewport_->regionSelection().empty()) {
    statusBar()->showMessage("Nothing selected: select what to keep first", 4000);
    return false;
  }
  // Cropping trims geometry; cameras go only when deleted explicitly.
  RegionSelection outside = viewport_->invertedRegionSelection();
  outside.cameras.clear();
  return pushEdits(editsFor(outside, "Crop to selection"));
}

size_t MainWindow::previewCropBox() {
  RegionSelection r;
  const SceneData* scene = viewport_->scene();
  if (!scene || !viewport_->cropBoxShown()) return 0;
  const CropBox box = viewport_->cropBox();
  if (scene->dense && viewport_->layerVisible(Layer::kDense))
    for (uint64_t i : pointsOutside(scene->dense->points, {}, box)) r.dense.push_back(uint32_t(i));
  if (scene->mesh && viewport_->layerVisible(Layer::kMesh))
    for (uint64_t i : facesOutside(*scene->mesh, {}, box)) r.faces.push_back(uint32_t(i));
  if (scene->sparse && viewport_->layerVisible(Layer::kSparse))
    r.sparse = sparsePointsOutside(*scene->sparse, box);
  std::sort(r.sparse.begin(), r.sparse.end());
  viewport_->setRegionSelection(r);
  statusBar()->showMessage(thousands(r.size()) +
                           " outside the box would be removed (red). Drag the box's handles; "
                           "Enter applies, Esc cancels.");
  return r.size();
}

bool MainWindow::applyCropBox() {
  if (!viewport_->cropBoxShown()) return false;
  const size_t outside = previewCropBox();
  const bool done = removePreviewed(outside, "Crop to box", "Nothing lies outside the box");
  if (done || outside == 0) cropBoxAction_->setChecked(false);
  return done;
}

size_t MainWindow::previewOutlierSet(
    const std::function<std::vector<uint64_t>(const std::vector<Eigen::Vector3f>&)>& find) {
  RegionSelection r;
  const SceneData* scene = viewport_->scene();
  if (scene && scene->dense && viewport_->layerVisible(Layer::kDense))
    for (uint64_t i : find(scene->dense->points)) r.dense.push_back(uint32_t(i));
  if (scene && scene->sparse && viewport_->layerVisible(Layer::kSparse)) {
    std::vector<Eigen::Vector3f> pts;
    std::vector<uint64_t> ids;
    for (const auto& [id, p] : scene->sparse->points3D) {
      pts.push_back(p.xyz.cast<float>());
      ids.push_back(id);
    }
    for (uint64_t k : find(pts)) r.sparse.push_back(ids[k]);
  }
  viewport_->setRegionSelection(r);
  return r.size();
}

size_t MainWindow::previewOutliers(int neighbors, double factor) {
  return previewOutlierSet([&](const std::vector<Eigen::Vector3f>& pts) {
    return statisticalOutliers(pts, {}, neighbors, factor);
  });
}

bool MainWindow::removePreviewed(size_t previewed, const QString& what, const QString& none) {
  if (previewed == 0) {
    statusBar()->showMessage(none, 4000);
    return false;
  }
  return pushEdits(editsFor(viewport_->regionSelection(), what));
}

bool MainWindow::removeOutliers(int neighbors, double factor) {
  return removePreviewed(previewOutliers(neighbors, factor), "Remove outliers",
                         "No outliers with these settings");
}

size_t MainWindow::previewRadiusOutliers(double radius, int minNeighbors) {
  return previewOutlierSet([&](const std::vector<Eigen::Vector3f>& pts) {
    return radiusOutliers(pts, {}, radius, minNeighbors);
  });
}

bool MainWindow::removeRadiusOutliers(double radius, int minNeighbors) {
  return removePreviewed(previewRadiusOutliers(radius, minNeighbors), "Remove radius outliers",
                         "No outliers with these settings");
}

size_t MainWindow::previewSparseFilter(int minViews, double maxError) {
  RegionSelection r;
  const SceneData* scene = viewport_->scene();
  if (scene && scene->sparse) {
    std::vector<uint64_t> ids;
    if (minViews > 0) ids = sparsePointsSeenByFewer(*scene->sparse, size_t(minViews));
    if (maxError > 0) {
      const auto more = sparsePointsWithErrorAbove(*scene->sparse, maxError);
      ids.insert(ids.end(), more.begin(), more.end());
    }
    r.sparse = ids;
  }
  viewport_->setRegionSelection(r);
  return viewport_->regionSelection().size();
}

bool MainWindow::removeSparseFilter(int minViews, double maxError) {
  return removePreviewed(previewSparseFilter(minViews, maxError), "Filter sparse points",
                         "No sparse points fail these tests");
}

// Outlier removal (statistical or radius) or the sparse filter, with a preview: what
// would go is selected (red) while the dialog is open, recomputed a moment after the
// values stop changing; Remove makes it an edit.
void MainWindow::showCleaningDialog(bool sparseFilter) {
  auto* dialog = new QDialog(this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setObjectName(sparseFilter ? "sparseFilterDialog" : "outlierDialog");
  dialog->setWindowTitle(sparseFilter ? "Filter sparse points" : "Remove outliers");
  auto* form = new QFormLayout(dialog);
  auto* method = new QComboBox(dialog);
  method->setObjectName("method");
  auto* first = new QSpinBox(dialog);
  auto* second = new QDoubleSpinBox(dialog);
  first->setObjectName("first");
  second->setObjectName("second");
  auto* firstLabel = new QLabel(dialog);
  auto* secondLabel = new QLabel(dialog);
  // The radius is in scene units, scaled by the spacing of the dense cloud (or sparse
  // points): measured once, when the radius method is first chosen.
  auto spacingOf = [this, cached = std::make_shared<double>(0)] {
    if (*cached > 0) return *cached;
    if (const SceneData* scene = viewport_->scene()) {
      if (scene->dense && scene->dense->size() > 1) {
        *cached = medianSpacing(scene->dense->points);
      } else if (scene->sparse) {
        std::vector<Eigen::Vector3f> pts;
        for (const auto& [id, p] : scene->sparse->points3D) pts.push_back(p.xyz.cast<float>());
        *cached = medianSpacing(pts);
      }
    }
    if (!(*cached > 0)) *cached = 0.01;
    return *cached;
  };
  auto setMethod = [=](int m) {
    const QSignalBlocker b1(first), b2(second);
    if (sparseFilter) {
      first->setRange(0, 100);
      first->setValue(3);
      second->setRange(0, 100);
      second->setDecimals(2);
      second->setValue(2.0);
      second->setSuffix(" px");
      firstLabel->setText("Seen by fewer than (photos, 0 = off)");
      secondLabel->setText("Reprojection error above (0 = off)");
    } else if (m == 0) {
      first->setRange(2, 200);
      first->setValue(20);
      second->setRange(0.5, 20);
      second->setDecimals(2);
      second->setSingleStep(0.1);
      second->setValue(2.0);
      second->setSuffix("");
      firstLabel->setText("Neighbours");
      secondLabel->setText("Distance factor (x the neighbours')");
    } else {
      first->setRange(1, 500);
      first->setValue(6);
      const double spacing = spacingOf();
      // Decimals enough for a tenth of the spacing.
      const int decimals = std::clamp(int(std::ceil(-std::log10(spacing / 10))), 2, 8);
      second->setDecimals(decimals);
      second->setRange(spacing / 10, spacing * 1000);
      second->setSingleStep(spacing);
      second->setValue(5 * spacing);
      second->setSuffix(" units");
      firstLabel->setText("At least this many neighbours");
      secondLabel->setText(QString("Within radius (point spacing %1)").arg(spacing, 0, 'g', 3));
    }
  };
  if (!sparseFilter) {
    method->addItems({"Statistical: far from its neighbours", "Radius: too few neighbours within a radius"});
    form->addRow("Method", method);
  } else {
    method->hide();  // one test each, no method to choose
  }
  setMethod(0);
  form->addRow(firstLabel, first);
  form->addRow(secondLabel, second);
  auto* count = new QLabel(dialog);
  count->setObjectName("previewCount");
  form->addRow(count);
  auto preview = [=] {
    const size_t n = sparseFilter ? previewSparseFilter(first->value(), second->value())
                     : method->currentIndex() == 0
                         ? previewOutliers(first->value(), second->value())
                         : previewRadiusOutliers(second->value(), first->value());
    count->setText(thousands(n) + " would be removed (shown in red)");
  };
  // Typing a value changes it digit by digit: preview once it rests.
  auto* settle = new QTimer(dialog);
  settle->setObjectName("previewTimer");
  settle->setSingleShot(true);
  settle->setInterval(250);
  connect(settle, &QTimer::timeout, dialog, preview);
  auto later = [=] {
    count->setText("…");
    settle->start();
  };
  connect(method, qOverload<int>(&QComboBox::currentIndexChanged), dialog, [=](int m) {
    setMethod(m);
    later();
  });
  connect(first, qOverload<int>(&QSpinBox::valueChanged), dialog, later);
  connect(second, qOverload<double>(&QDoubleSpinBox::valueChanged), dialog, later);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, dialog);
  QPushButton* remove = buttons->addButton("Remove", QDialogButtonBox::AcceptRole);
  remove->setObjectName("removeButton");
  form->addRow(buttons);
  connect(buttons, &QDialogButtonBox::rejected, dialog, [=] {
    viewport_->setRegionSelection({});
    dialog->reject();
  });
  connect(buttons, &QDialogButtonBox::accepted, dialog, [=] {
    settle->stop();
    if (sparseFilter)
      removeSparseFilter(first->value(), second->value());
    else if (method->currentIndex() == 0)
      removeOutliers(first->value(), second->value());
    else
      removeRadiusOutliers(second->value(), first->value());
    dialog->accept();
  });
  preview();
  dialog->open();
}

bool MainWindow::lookThroughSelectedCamera() {
  const Selection s = viewport_->selection();
  if (s.kind != Selection::kCamera || !viewport_->model()) {
    statusBar()->showMessage("Click a camera in the viewport first, then View > Look Through Selected Camera", 5000);
    return false;
  }
  const auto& im = viewport_->model()->images.at(uint32_t(s.id));
  QImage photo;
  if (auto it = photoPaths_.find(im.name); it != photoPaths_.end())
    photo.load(QString::fromStdString(it->second.string()));
  if (photo.isNull())
    statusBar()->showMessage("The photo " + QString::fromStdString(im.name) + " cannot be read; showing the view without it", 5000);
  else if (std::max(photo.width(), photo.height()) > 2048)
    photo = photo.scaled(2048, 2048, Qt::KeepAspectRatio, Qt::SmoothTransformation);
  return viewport_->lookThroughCamera(uint32_t(s.id), photo, /*animate=*/true);
}

QString MainWindow::measurementText() const {
  const auto& m = viewport_->measurement();
  if (m.size() < 2) return m.empty() ? QString() : "Measure: click the second point";
  const double units = (m[1] - m[0]).norm();
  QString text = "Distance: " + QString::number(units, 'g', 5) + " units";
  const double scale = ws_ ? ws_->appState().value("metres_per_unit", 0.0) : 0.0;
  if (scale > 0) text += " = " + QString::number(units * scale, 'g', 5) + " m";
  return text;
}

bool MainWindow::setScaleFromMeasurement(double metres) {
  const auto& m = viewport_->measurement();
  if (!ws_ || m.size() != 2 || !(metres > 0)) return false;
  const double units = (m[1] - m[0]).norm();
  if (units <= 0) return false;
  nlohmann::json app = ws_->appState();
  app["metres_per_unit"] = metres / units;
  ws_->setAppState(app);
  try {
    ws_->save();
  } catch (const Error& e) {
    message(e.what());
    return false;
  }
  measureLabel_->setText(measurementText());
  return true;
}

void MainWindow::buildEditMenu() {
  QMenu* edit = menuBar()->addMenu("&Edit");
  QAction* undo = undo_->createUndoAction(this, "&Undo");
  undo->setShortcut(QKeySequence::Undo);
  undo->setObjectName("undoAction");
  QAction* redo = undo_->createRedoAction(this, "&Redo");
  redo->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
  redo->setObjectName("redoAction");
  edit->addAction(undo);
  edit->addAction(redo);
  edit->addSeparator();

  auto* tools = new QActionGroup(this);
  QToolBar* bar = addToolBar("Tools");
  bar->setObjectName("toolsBar");
  const std::tuple<const char*, const char*, Tool, QKeySequence> toolList[] = {
      {"&Navigate", "toolNavigate", Tool::kNavigate, QKeySequence(Qt::Key_N)},
      {"&Rectangle Select", "toolRectangle", Tool::kRectangle, QKeySequence(Qt::Key_R)},
      {"&Lasso Select", "toolLasso", Tool::kLasso, QKeySequence(Qt::Key_L)},
      {"&Measure", "toolMeasure", Tool::kMeasure, QKeySequence(Qt::Key_M)}};
  for (const auto& [label, name, tool, key] : toolList) {
    QAction* a = edit->addAction(label);
    a->setObjectName(name);
    a->setCheckable(true);
    a->setShortcut(key);
    a->setChecked(tool == Tool::kNavigate);
    a->setToolTip(QString(label).remove('&') +
                  (tool == Tool::kMeasure    ? " (click two points)"
                   : tool == Tool::kNavigate ? ""
                                             : " (drag; Shift adds, Ctrl takes away)"));
    tools->addAction(a);
    bar->addAction(a);
    const Tool t = tool;
    connect(a, &QAction::triggered, this, [this, t] { viewport_->setTool(t); });
  }
  QAction* visibleOnly = edit->addAction("Select &Visible Only");
  visibleOnly->setObjectName("selectVisibleOnly");
  visibleOnly->setCheckable(true);
  visibleOnly->setShortcut(QKeySequence(Qt::Key_V));
  visibleOnly->setToolTip("Rectangle and lasso take only what is in front (V); off: through the scene");
  connect(visibleOnly, &QAction::toggled, this, [this](bool on) { viewport_->setSelectVisibleOnly(on); });
  bar->addAction(visibleOnly);
  edit->addSeparator();
  QAction* all = edit->addAction("Select &All", QKeySequence::SelectAll, this,
                                 [this] { viewport_->setRegionSelection(viewport_->allOfVisibleLayers()); });
  QAction* invert = edit->addAction("&Invert Selection", QKeySequence(Qt::CTRL | Qt::Key_I), this,
                                    [this] { viewport_->setRegionSelection(viewport_->invertedRegionSelection()); });
  QAction* none = edit->addAction("&Clear Selection", QKeySequence(Qt::CTRL | Qt::Key_D), this,
                                  [this] { viewport_->setRegionSelection({}); });
  edit->addSeparator();
  QAction* del = edit->addAction("&Delete Selection", QKeySequence::Delete, this,
                                 &MainWindow::deleteSelection);
  del->setObjectName("deleteAction");
  QAction* crop = edit->addAction("Crop to Selectio&n", QKeySequence(Qt::CTRL | Qt::Key_K), this,
                                  &MainWindow::cropToSelection);
  crop->setObjectName("cropAction");
  cropBoxAction_ = edit->addAction("Crop &Box");
  cropBoxAction_->setObjectName("cropBoxAction");
  cropBoxAction_->setCheckable(true);
  cropBoxAction_->setShortcut(QKeySequence(Qt::Key_B));
  cropBoxAction_->setToolTip("Crop Box (B): drag the box's handles, Enter keeps what is inside");
  applyCropBoxAction_ = edit->addAction("&Apply Crop Box");
  applyCropBoxAction_->setObjectName("applyCropBoxAction");
  applyCropBoxAction_->setShortcuts({QKeySequence(Qt::Key_Return), QKeySequence(Qt::Key_Enter)});
  applyCropBoxAction_->setEnabled(false);
  QAction* turnLeft = edit->addAction("Turn Crop Box &Left", QKeySequence(Qt::Key_BracketLeft), this,
                                      [this] { viewport_->turnCropBox(5); });
  QAction* turnRight = edit->addAction("Turn Crop Box &Right", QKeySequence(Qt::Key_BracketRight), this,
                                       [this] { viewport_->turnCropBox(-5); });
  turnLeft->setObjectName("turnCropBoxLeft");
  turnRight->setObjectName("turnCropBoxRight");
  QAction* cancelBox = new QAction(this);
  cancelBox->setShortcut(QKeySequence(Qt::Key_Escape));
  addAction(cancelBox);
  connect(cancelBox, &QAction::triggered, this, [this] { cropBoxAction_->setChecked(false); });
  for (QAction* a : {turnLeft, turnRight}) a->setEnabled(false);
  connect(cropBoxAction_, &QAction::toggled, this, [this, turnLeft, turnRight](bool on) {
    applyCropBoxAction_->setEnabled(on);
    turnLeft->setEnabled(on);
    turnRight->setEnabled(on);
    viewport_->showCropBox(on);
    if (!on) {
      viewport_->setRegionSelection({});
      statusBar()->clearMessage();
    }
  });
  connect(applyCropBoxAction_, &QAction::triggered, this, &MainWindow::applyCropBox);
  connect(viewport_, &Viewport::cropBoxChanged, this, &MainWindow::previewCropBox);
  QAction* scale = edit->addAction("Set &Scale from Measurement…", this, [this] {
    if (viewport_->measurement().size() != 2) {
      message("Measure a known distance first: Edit > Measure (M), then click its two ends.");
      return;
    }
    bool ok = false;
    const double metres = QInputDialog::getDouble(this, "Set scale", "Real length of the measured segment (m)",
                                                  1.0, 1e-6, 1e6, 4, &ok);
    if (ok) setScaleFromMeasurement(metres);
  });
  scale->setObjectName("scaleAction");
  QAction* outliers = edit->addAction("Remove &Outliers…", this, [this] { showCleaningDialog(false); });
  outliers->setObjectName("outliersAction");
  QAction* filter = edit->addAction("&Filter Sparse Points…", this, [this] { showCleaningDialog(true); });
  filter->setObjectName("sparseFilterAction");
  for (QAction* a : {all, invert, none, del, crop, cropBoxAction_, applyCropBoxAction_, cancelBox,
                     turnLeft, turnRight})
    a->setShortcutContext(Qt::WindowShortcut);
  bar->addSeparator();
  bar->addAction(del);
  bar->addAction(crop);
  bar->addAction(cropBoxAction_);
  // Clipping plane: hide what lies above a height, to look inside or under the model.
  bar->addSeparator();
  QAction* clip = bar->addAction("Clip");
  clip->setObjectName("clipAction");
  clip->setCheckable(true);
  clip->setToolTip("Hide everything above the height set by the slider (or in front of it)");
  auto* slider = new QSlider(Qt::Horizontal, bar);
  slider->setObjectName("clipSlider");
  slider->setRange(0, 100);
  slider->setValue(50);
  slider->setMaximumWidth(160);
  slider->setEnabled(false);
  bar->addWidget(slider);
  // Along the scene's up, or along the view as it is when chosen: then the slider
  // cuts away the near part of the scene, and the view can turn to look at the cut.
  auto* axis = new QComboBox(bar);
  axis->setObjectName("clipAxisCombo");
  axis->addItems({"above (scene up)", "in front (this view)"});
  axis->setToolTip("Clip what lies above a height, or what lies in front of a plane facing the current view");
  axis->setEnabled(false);
  bar->addWidget(axis);
  connect(axis, qOverload<int>(&QComboBox::activated), this, [this](int i) {
    viewport_->setClipAxis(i == 1 ? std::optional<Eigen::Vector3d>(viewport_->viewDirectionAxis())
                                  : std::nullopt);
  });
  auto applyClip = [this, clip, slider, axis] {
    slider->setEnabled(clip->isChecked());
    axis->setEnabled(clip->isChecked());
    viewport_->setClipHeight(clip->isChecked() ? std::optional<double>(slider->value() / 100.0)
                                               : std::nullopt);
  };
  connect(clip, &QAction::toggled, this, applyClip);
  connect(slider, &QSlider::valueChanged, this, applyClip);
  editActions_ = {del, crop, outliers, filter, cropBoxAction_};
}

}  // namespace parallax::ui
