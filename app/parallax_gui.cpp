// parallax: the desktop application.
//   parallax [PROJECT] [--screenshot FILE] [--layers cameras,sparse,dense,mesh]
// --screenshot renders PROJECT once, saves the window as FILE and exits (used
// by the quick start under Xvfb and by tests).
#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <map>
#include <QCommandLineParser>
#include <QSurfaceFormat>
#include <QTimer>
#include <iostream>

#include "pipeline/stage.h"
#include "ui/main_window.h"
#include "ui/viewport.h"

int main(int argc, char** argv) {
  // VTK needs a 3.2 core profile with depth and stencil (DESIGN §8).
  QSurfaceFormat format;
  format.setRenderableType(QSurfaceFormat::OpenGL);
  format.setVersion(3, 2);
  format.setProfile(QSurfaceFormat::CoreProfile);
  format.setDepthBufferSize(24);
  format.setStencilBufferSize(8);
  format.setSamples(0);
  QSurfaceFormat::setDefaultFormat(format);

  QApplication app(argc, argv);
  QApplication::setApplicationName("Parallax");
  QApplication::setOrganizationName("Parallax");
  QCommandLineParser parser;
  parser.setApplicationDescription("Parallax: 3D reconstruction from photos");
  parser.addHelpOption();
  parser.addPositionalArgument("project", "Project folder to open");
  QCommandLineOption screenshot(
      "screenshot", "Save a screenshot of the window to FILE once the scene is shown, then quit.",
      "FILE");
  parser.addOption(screenshot);
  QCommandLineOption layers(
      "layers", "Show only these layers (comma-separated: cameras, sparse, dense, mesh) and frame them.",
      "LIST");
  parser.addOption(layers);
  QCommandLineOption colour("colour",
                            "Colour the points and mesh by MODE: rgb, height, views, error, confidence "
                            "or label (with the Labels legend shown).",
                            "MODE");
  parser.addOption(colour);
  parser.process(app);
  const std::map<QString, QString> colourActions = {{"rgb", "colour-RGB"},
                                                    {"height", "colour-Height"},
                                                    {"views", "colour-Number of Views"},
                                                    {"error", "colour-Reprojection Error"},
                                                    {"confidence", "colour-Confidence"},
                                                    {"label", "colour-Label"}};
  const QString colourMode = parser.value(colour).trimmed().toLower();
  if (parser.isSet(colour) && !colourActions.count(colourMode)) {
    std::cerr << "parallax: unknown colour mode '" << colourMode.toStdString()
              << "' in --colour; use rgb, height, views, error, confidence or label" << std::endl;
    return 2;
  }

  parallax::registerBuiltinStages();
  parallax::ui::MainWindow window;
  window.show();
  const QStringList args = parser.positionalArguments();
  if (!args.isEmpty() && !window.openProject(args.first())) {
    if (parser.isSet(screenshot)) return 1;
  }
  QStringList shown;
  if (parser.isSet(layers)) {
    for (const QString& l : parser.value(layers).split(',', Qt::SkipEmptyParts)) {
      if (!QStringList{"cameras", "sparse", "dense", "mesh"}.contains(l.trimmed())) {
        std::cerr << "parallax: unknown layer '" << l.toStdString()
                  << "' in --layers; use cameras, sparse, dense, mesh" << std::endl;
        return 2;
      }
      shown << l.trimmed();
    }
  }
  // Through the View menu's layer toggles, so the menu says what is shown.
  const QString colourAction = parser.isSet(colour) ? colourActions.at(colourMode) : QString();
  auto showLayers = [&window, shown, colourAction] {
    if (!colourAction.isEmpty())
      if (auto* a = window.findChild<QAction*>(colourAction)) a->trigger();
    if (colourAction == "colour-Label")
      if (auto* d = window.findChild<QDockWidget*>("labelsDock")) d->raise();
    if (shown.isEmpty()) return;
    const std::pair<const char*, const char*> names[] = {{"cameras", "layer-Cameras"},
                                                         {"sparse", "layer-Sparse Points"},
                                                         {"dense", "layer-Dense Cloud"},
                                                         {"mesh", "layer-Mesh"}};
    for (const auto& [name, action] : names)
      if (auto* a = window.findChild<QAction*>(action)) a->setChecked(shown.contains(QString(name)));
    window.viewport()->fitView();
  };
  if (!parser.isSet(screenshot) && (!shown.isEmpty() || !colourAction.isEmpty()))
    QObject::connect(&window, &parallax::ui::MainWindow::sceneReloaded, &window, showLayers,
                     Qt::SingleShotConnection);
  if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    auto save = [&window, file, showLayers] {
      showLayers();
      QTimer::singleShot(500, &window, [&window, file] {
        window.viewport()->update();
        QTimer::singleShot(500, &window, [&window, file] {
          bool ok = window.grab().save(file);
          std::cout << (ok ? "screenshot saved to " : "could not save screenshot to ")
                    << file.toStdString() << std::endl;
          QApplication::exit(ok ? 0 : 1);
        });
      });
    };
    if (window.sceneLoaded() || args.isEmpty())
      save();
    else
      QObject::connect(&window, &parallax::ui::MainWindow::sceneReloaded, &window, save,
                       Qt::SingleShotConnection);
  }
  return app.exec();
}
