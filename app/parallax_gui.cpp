// parallax: the desktop application.
//   parallax [PROJECT] [--screenshot FILE] [--layers cameras,sparse,dense,mesh]
// --screenshot renders PROJECT once, saves the window as FILE and exits (used
// by the quick start under Xvfb and by tests).
#include <QAction>
#include <QApplication>
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
  parser.process(app);

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
  auto showLayers = [&window, shown] {
    if (shown.isEmpty()) return;
    const std::pair<const char*, const char*> names[] = {{"cameras", "layer-Cameras"},
                                                         {"sparse", "layer-Sparse Points"},
                                                         {"dense", "layer-Dense Cloud"},
                                                         {"mesh", "layer-Mesh"}};
    for (const auto& [name, action] : names)
      if (auto* a = window.findChild<QAction*>(action)) a->setChecked(shown.contains(QString(name)));
    window.viewport()->fitView();
  };
  if (!parser.isSet(screenshot) && !shown.isEmpty())
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
