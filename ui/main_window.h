// The Parallax main window (DESIGN §6): photo browser (left), VTK viewport
// (centre), parameter editor (right), jobs and log (bottom), and the menus.
#pragma once

#include <QFutureWatcher>
#include <QLabel>
#include <QMainWindow>
#include <QTimer>
#include <functional>
#include <optional>

#include "scene/workspace.h"
#include "surface/clean_workflow.h"
#include "ui/scene_data.h"
#include "ui/viewport.h"

class QAction;
class QActionGroup;
class QDockWidget;
class QMenu;
class QUndoStack;

class QToolBar;

namespace parallax::ui {

class Viewport;
class PhotoBrowser;
class ParameterEditor;
class JobsPanel;
class StageJob;
class SelectionPanel;
class StatsPanel;
class DepthPanel;
class FieldPanel;
class LabelsPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Return false (and show why) when the folder cannot be used.
  bool openProject(const QString& path);
  bool newProject(const QString& path);
  void addPhotos(const QStringList& paths);
  // Queues every stale stage in pipeline order, as workers, one after another.
  void reconstruct();
  void runStage(const QString& stage);
  void cancelAll();
  bool busy() const;

  Viewport* viewport() const { return viewport_; }
  JobsPanel* jobsPanel() const { return jobs_; }
  PhotoBrowser* photoBrowser() const { return photos_; }
  ParameterEditor* parameterEditor() const { return params_; }
  SelectionPanel* selectionPanel() const { return selection_; }
  StatsPanel* statsPanel() const { return stats_; }
  DepthPanel* depthPanel() const { return depth_; }
  FieldPanel* fieldPanel() const { return field_; }
  QDockWidget* depthDock() const { return depthDock_; }
  const QList<StageJob*>& jobs() const { return allJobs_; }
  Workspace* workspace() { return ws_ ? &*ws_ : nullptr; }
  const SceneData& loadedScene() const { return loaded_; }  // as the stages wrote it
  // True once the scene of the current project is loaded into the viewport.
  bool sceneLoaded() const { return sceneLoaded_; }

  // Cleaning (DESIGN §6): every edit is one step on the undo stack and is saved in
  // the project at once (edits.json); exports write what the viewport shows.
  QUndoStack* undoStack() const { return undo_; }
  const EditHistory& editHistory() const { return history_; }
  // Removes the selected points, faces and cameras (one undo step); false if none.
  bool deleteSelection();
  // Selects every shown point and mesh face of a class (Labels panel); how many.
  size_t selectLabel(int32_t label);
  LabelsPanel* labelsPanel() const { return labels_; }
  // Removes everything of the visible layers that is not selected.
  bool cropToSelection();
  // Selects the statistical outliers of the dense cloud and sparse points shown
  // (a preview of what removeOutliers() takes away); returns how many.
  size_t previewOutliers(int neighbors, double factor);
  bool removeOutliers(int neighbors, double factor);
  // The same with radius outliers: fewer than `minNeighbors` other points within `radius`.
  size_t previewRadiusOutliers(double radius, int minNeighbors);
  bool removeRadiusOutliers(double radius, int minNeighbors);
  // Selects / removes sparse points seen by fewer than `minViews` photos or with a
  // mean reprojection error above `maxError` px (0: that test off).
  size_t previewSparseFilter(int minViews, double maxError);
  bool removeSparseFilter(int minViews, double maxError);
  // Crop box (Edit > Crop Box, B): while it is shown, what lies outside it is
  // selected (red) as a preview; Apply Crop Box (Enter) removes that as one step
  // (cameras stay) and hides the box; Esc or B again hides it without a change.
  size_t previewCropBox();
  bool applyCropBox();
  QString selectionSummary() const;
  // Looks through the camera selected in the viewport, its photo over the view.
  bool lookThroughSelectedCamera();
  // The measured distance ("0.532 units" or, with a scale set, "1.064 m").
  QString measurementText() const;
  // Sets metres per scene unit from the real length of the measured segment; false
  // without a measured segment. Saved with the project.
  bool setScaleFromMeasurement(double metres);

 signals:
  void sceneReloaded();
  void queueFinished();

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  void buildMenus();
  void updateActions();
  void updateRecentMenu();
  void rememberRecent(const QString& path);
  void reloadScene();
  void enqueue(const QString& stage);
  void startNext();
  void onJobDone(StageJob* job);
  void showExportDialog();
  void message(const QString& text);
  void buildEditMenu();
  void buildClipTools(QToolBar* bar);
  void showEdited();
  void rebuildUndoStack(const EditHistory& loaded);
  // The shown layers a cleaning step acts on (`visibleOnly`: those not hidden).
  CleanLayers cleanLayers(bool visibleOnly) const;
  // Makes a selection of what is shown one undo step of edits named `what`.
  bool pushEdits(const RegionSelection& selection, const QString& what);
  // Selects what a cleaning step would remove (the preview); how many.
  size_t previewStep(const CleanStep& step);
  // Removes what the step selects as one undo step, or says `none` when it selects nothing.
  bool applyStep(const CleanStep& step, const QString& none);
  void showCleaningDialog(bool sparseFilter);
  friend class EditCommand;

  std::optional<Workspace> ws_;
  Viewport* viewport_;
  PhotoBrowser* photos_;
  ParameterEditor* params_;
  JobsPanel* jobs_;
  SelectionPanel* selection_;
  StatsPanel* stats_;
  QDockWidget* selectionDock_;
  DepthPanel* depth_;
  QDockWidget* depthDock_;
  FieldPanel* field_;
  LabelsPanel* labels_;
  QDockWidget* fieldDock_;
  std::map<std::string, std::filesystem::path> photoPaths_;  // of the scene on show
  QLabel* statusLabel_;
  QList<StageJob*> queue_;
  QList<StageJob*> allJobs_;
  StageJob* running_ = nullptr;
  QFutureWatcher<SceneData>* sceneWatcher_ = nullptr;
  QTimer reloadTimer_;
  bool sceneLoaded_ = false;
  QMenu* recentMenu_ = nullptr;
  QList<QAction*> projectActions_;
  QAction* cancelAction_ = nullptr;
  // Cleaning.
  SceneData loaded_;                          // as the stages wrote it
  EditHistory history_;                       // the project's edits
  std::vector<uint32_t> denseIds_, faceIds_;  // file index of each dense point / face shown
  QUndoStack* undo_ = nullptr;
  bool rebuildingUndo_ = false;
  bool texturedEditNoted_ = false;  // the log said the edits hide the textured mesh
  int editGeneration_ = 0;  // counts saved edits, so a slower scene load cannot undo them
  QLabel* selectionLabel_ = nullptr;
  QLabel* measureLabel_ = nullptr;
  QList<QAction*> editActions_;
  QAction* cropBoxAction_ = nullptr;
  QAction* applyCropBoxAction_ = nullptr;
};

}  // namespace parallax::ui
