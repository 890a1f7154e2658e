#include "app/cli/cli.h"

#include <filesystem>
#include <iostream>

#include "pipeline/schema.h"
#include "pipeline/stage.h"
#include "plugin/plugin_manager.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace parallax::cli {

CLI::App* CommandTable::add(const std::string& name, const std::string& help, std::function<int()> run) {
  CLI::App* command = app_.add_subcommand(name, help);
  commands_.emplace_back(command, std::move(run));
  return command;
}

void CommandTable::addJson(CLI::App* command) {
  command->add_flag("--json", common_.json, "Print newline-delimited JSON events instead of a progress bar");
}

void CommandTable::addSet(CLI::App* command, std::vector<std::string>& assignments) {
  command->add_option("--set", assignments,
                      "Set a parameter: stage.param=value (repeatable; see `parallax-cli params`)");
}

int CommandTable::run() const {
  try {
    for (const auto& [command, run] : commands_)
      if (*command) return run();
  } catch (const Error& e) {
    std::cerr << "parallax-cli: error: " << e.what() << std::endl;
    return kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << "parallax-cli: internal error: " << e.what() << " (please report this)" << std::endl;
    return 3;
  }
  return kExitFailed;
}

std::shared_ptr<EventSink> makeSink(const Common& c) {
  if (c.json) return std::make_shared<JsonLinesSink>(std::cout);
  return std::make_shared<TerminalSink>();
}

void prepareEngine() {
  registerBuiltinStages();
  // The installed plugins' declarations first, as the GUI reads them: a plugin that does
  // not load still has its methods and parameters declared (its methods then fall back,
  // naming why), so the worker and the GUI agree on every stage's parameters and keys.
  for (const auto& problem : PluginManager::instance().declareInstalled())
    std::cerr << "warning: " << problem << "\n";
  for (const auto& problem : PluginManager::instance().loadDefault())
    std::cerr << "warning: " << problem << "\n";
}

void applyAssignments(Workspace& ws, const std::vector<std::string>& assignments) {
  for (const auto& text : assignments) {
    auto a = Schema::instance().parseAssignment(text);
    ws.setParamOverride(a.stage, a.param, a.value);
  }
}

void printRecovery(const Workspace& ws) {
  for (const auto& note : ws.recoveryNotes()) std::cerr << "recovered: " << note << "\n";
}

void checkPhotoPath(const std::string& p) {
  if (!fs::exists(p)) throw Error("photo path '" + p + "' does not exist");
}

int exitCode(RunResult r) {
  switch (r) {
    case RunResult::kSucceeded:
    case RunResult::kSkipped:
      return kExitOk;
    case RunResult::kCancelled:
      return kExitCancelled;
    case RunResult::kFailed:
      return kExitFailed;
  }
  return kExitFailed;
}

}  // namespace parallax::cli
