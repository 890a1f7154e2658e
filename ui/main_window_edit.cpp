// MainWindow's Edit menu: cleaning (the shared workflow of surface/clean_workflow.h,
// one undo step per action, saved at once), selection, the crop box, measuring and
// scale, and the clipping plane.
#include <QAction>
#include <QActionGroup>
#include <QComboBox>
#include <QInputDialog>
#include <QKeySequence>
#include <QLocale>
#include <QMenuBar>
#include <QSlider>
#include <QStatusBar>
#include <QToolBar>
#include <QUndoStack>

#include "ui/cleaning_dialog.h"
#include "ui/jobs_panel.h"
#include "ui/labels_panel.h"
#include "ui/main_window.h"
#include "ui/stats_panel.h"
#include "ui/viewport.h"
#include "util/error.h"

namespace parallax::ui {

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
  for (const auto& [first, last] : actionRanges(history_)) {
    std::vector<Edit> step(edits.begin() + long(first), edits.begin() + long(last));
    const QString text = stepText(step);
    undo_->push(new EditCommand(this, std::move(step), text, true));
    if (last <= applied) ++index;
  }
  undo_->setIndex(index);
  undo_->setClean();
  rebuildingUndo_ = false;
}

void MainWindow::showEdited() {
  SceneData shown = withEdits(loaded_, history_, &denseIds_, &faceIds_);
  labels_->setLabels(shown.labels, shownLabelCounts(shown));
  hideLabels(shown, labels_->hiddenLabels(), &denseIds_, &faceIds_);
  if (loaded_.textured && loaded_.texturedCurrent && !shown.textured && !texturedEditNoted_)
    jobs_->appendLog("viewport", "info",
                     "the textured mesh was made before these mesh edits: the edited mesh is shown with its "
                     "colours; run the Texture stage to texture it");
  texturedEditNoted_ = loaded_.textured && !shown.textured;
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

CleanLayers MainWindow::cleanLayers(bool visibleOnly) const {
  CleanLayers layers;
  const SceneData* scene = viewport_->scene();
  if (!scene) return layers;
  auto shown = [&](Layer l) { return !visibleOnly || viewport_->layerVisible(l); };
  if (scene->dense && shown(Layer::kDense)) {
    layers.dense = &*scene->dense;
    layers.denseIds = &denseIds_;
  }
  if (scene->mesh && shown(Layer::kMesh)) {
    layers.mesh = &*scene->mesh;
    layers.faceIds = &faceIds_;
  }
  if (scene->sparse && shown(Layer::kSparse)) layers.sparse = &*scene->sparse;
  // The sparse layer is edited only as the finished model (a live one has other ids).
  layers.sparseEditable = !loaded_.sparseIsLive;
  return layers;
}

bool MainWindow::pushEdits(const RegionSelection& r, const QString& what) {
  std::vector<Edit> edits = editsFor(cleanLayers(false), r, what.toStdString());
  if (!ws_ || edits.empty()) return false;
  if (busy()) {
    message("Wait for the running stages to finish before editing: they may rewrite what is shown.");
    return false;
  }
  const uint32_t group = nextActionGroup(history_);
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
  return pushEdits(r, "Delete");
}

bool MainWindow::cropToSelection() {
  if (viewport_->regionSelection().empty()) {
    statusBar()->showMessage("Nothing selected: select what to keep first", 4000);
    return false;
  }
  // Cropping trims geometry; cameras go only when deleted explicitly.
  RegionSelection outside = viewport_->invertedRegionSelection();
  outside.cameras.clear();
  return pushEdits(outside, "Crop to selection");
}

size_t MainWindow::previewStep(const CleanStep& step) {
  if (step.problem()) {
    viewport_->setRegionSelection({});
    return 0;
  }
  viewport_->setRegionSelection(selectForRemoval(cleanLayers(true), step));
  return viewport_->regionSelection().size();
}

bool MainWindow::applyStep(const CleanStep& step, const QString& none) {
  if (auto problem = step.problem()) {
    message(QString::fromStdString(*problem));
    return false;
  }
  if (previewStep(step) == 0) {
    statusBar()->showMessage(none, 4000);
    return false;
  }
  return pushEdits(viewport_->regionSelection(), QString::fromStdString(step.label()));
}

size_t MainWindow::previewCropBox() {
  if (!viewport_->scene() || !viewport_->cropBoxShown()) return 0;
  const size_t n = previewStep(CleanStep::cropBox(viewport_->cropBox()));
  statusBar()->showMessage(thousands(n) +
                           " outside the box would be removed (red). Drag the box's handles; "
                           "Enter applies, Esc cancels.");
  return n;
}

bool MainWindow::applyCropBox() {
  if (!viewport_->cropBoxShown()) return false;
  const CleanStep step = CleanStep::cropBox(viewport_->cropBox());
  const bool done = applyStep(step, "Nothing lies outside the box");
  if (done || viewport_->regionSelection().empty()) cropBoxAction_->setChecked(false);
  return done;
}

size_t MainWindow::previewOutliers(int neighbors, double factor) {
  return previewStep(CleanStep::statisticalOutliers(neighbors, factor));
}

bool MainWindow::removeOutliers(int neighbors, double factor) {
  return applyStep(CleanStep::statisticalOutliers(neighbors, factor), "No outliers with these settings");
}

size_t MainWindow::previewRadiusOutliers(double radius, int minNeighbors) {
  return previewStep(CleanStep::radiusOutliers(radius, minNeighbors));
}

bool MainWindow::removeRadiusOutliers(double radius, int minNeighbors) {
  return applyStep(CleanStep::radiusOutliers(radius, minNeighbors), "No outliers with these settings");
}

size_t MainWindow::previewSparseFilter(int minViews, double maxError) {
  return previewStep(CleanStep::sparseFilter(minViews, maxError));
}

bool MainWindow::removeSparseFilter(int minViews, double maxError) {
  return applyStep(CleanStep::sparseFilter(minViews, maxError), "No sparse points fail these tests");
}

void MainWindow::showCleaningDialog(bool sparseFilter) {
  CleaningDialog::Actions actions;
  actions.preview = [this](const CleanStep& s) { return previewStep(s); };
  actions.apply = [this](const CleanStep& s) { applyStep(s, "Nothing to remove with these settings"); };
  actions.cancel = [this] { viewport_->setRegionSelection({}); };
  // The radius is in scene units, scaled by the spacing of the dense cloud (or sparse
  // points): measured once, when the radius method is first chosen.
  actions.pointSpacing = [this, cached = std::make_shared<double>(0)] {
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
  auto* dialog = new CleaningDialog(sparseFilter ? CleaningDialog::kSparseFilter : CleaningDialog::kOutliers,
                                    std::move(actions), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
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
  buildClipTools(bar);
  editActions_ = {del, crop, outliers, filter, cropBoxAction_};
}

// Clipping plane: hide what lies above a height, to look inside or under the model.
void MainWindow::buildClipTools(QToolBar* bar) {
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
}

}  // namespace parallax::ui
