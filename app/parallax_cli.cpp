// parallax-cli: the headless front end, a table of commands (app/cli/, one file per
// group). Everything the GUI does runs through here too: the GUI starts
// `parallax-cli run-stage ... --json` as its workers.
#include <CLI/CLI.hpp>

#include "app/cli/cli.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Parallax: 3D reconstruction from photos.\n"
      "Quick start: parallax-cli sample statue /tmp/statue && parallax-cli reconstruct "
      "/tmp/statue/images /tmp/statue-project"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "parallax-cli 0.1.0");
  parallax::cli::CommandTable table(app);
  parallax::cli::addProjectCommands(table);
  parallax::cli::addResultCommands(table);
  parallax::cli::addEvaluateCommands(table);
  parallax::cli::addTextureCommands(table);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return table.run();
}
