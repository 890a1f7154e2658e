// The Parallax main window (DESIGN §6): photo browser (left), VTK viewport
// (centre), parameter editor (right), jobs and log (bottom), and the menus.
#pragma once

#include <QFutureWatcher>
#include <QLabel>
#include <QMainWindow>
#include <QTimer>
#include <optional>

#include "scene/workspace.h"
#include "ui/scene_data.h"

class QAction;
class QDockWidget;
class QMenu;

namespace parallax::ui {

class Viewport;
class PhotoBrowser;
class ParameterEditor;
class JobsPanel;
class StageJob;
class SelectionPanel;
class StatsPanel;
class DepthPanel;

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
  QDockWidget* depthDock() const { return depthDock_; }
  const QList<StageJob*>& jobs() const { return allJobs_; }
  Workspace* workspace() { return ws_ ? &*ws_ : nullptr; }
  // True once the scene of the current project is loaded into the viewport.
  bool sceneLoaded() const { return sceneLoaded_; }

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
};

}  // namespace parallax::ui
