// parallax-cli's commands: a table of subcommands, each declared (options, help) and
// run from its group's file. The GUI starts `parallax-cli run-stage ... --json` as its
// workers, so everything the GUI does runs through here too.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/runner.h"
#include "scene/workspace.h"
#include "util/events.h"

namespace parallax::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitCancelled = 130;

struct Common {
  bool json = false;
};

// The subcommands and what each runs once the command line is parsed.
class CommandTable {
 public:
  explicit CommandTable(CLI::App& app) : app_(app) {}
  // A subcommand; `run` is called when it is the one given, after parsing.
  CLI::App* add(const std::string& name, const std::string& help, std::function<int()> run);
  // --json (newline-delimited JSON events) and --set stage.param=value on a subcommand.
  void addJson(CLI::App* command);
  void addSet(CLI::App* command, std::vector<std::string>& assignments);
  Common& common() { return common_; }
  // Runs the parsed subcommand; Error becomes a one-line message and exit code 1.
  int run() const;

 private:
  CLI::App& app_;
  Common common_;
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands_;
};

// The command groups, one file each.
void addProjectCommands(CommandTable& table);   // new, add-photos, set, status, params, run-stage, reconstruct, plugins
void addResultCommands(CommandTable& table);    // export, clean, sample
void addEvaluateCommands(CommandTable& table);  // evaluate-poses/-geometry/-features/-field, benchmark-hashgrid
void addTextureCommands(CommandTable& table);   // evaluate-texture

// Shared by the groups.
std::shared_ptr<EventSink> makeSink(const Common& c);
// Loads built-in stages and plugins; plugin load problems are warnings, not fatal.
void prepareEngine();
void applyAssignments(Workspace& ws, const std::vector<std::string>& assignments);
void printRecovery(const Workspace& ws);
void checkPhotoPath(const std::string& p);
int exitCode(RunResult r);

}  // namespace parallax::cli
