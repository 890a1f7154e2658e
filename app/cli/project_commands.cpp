// parallax-cli's project commands: new, add-photos, set, status, params, run-stage,
// reconstruct, plugins.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "app/cli/cli.h"
#include "io/image_probe.h"
#include "pipeline/methods.h"
#include "pipeline/runner.h"
#include "pipeline/schema.h"
#include "pipeline/stage.h"
#include "plugin/plugin_manager.h"
#include "util/cancel.h"
#include "util/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace parallax::cli {
namespace {

int newProject(const std::string& project, const std::vector<std::string>& photos) {
  for (const auto& p : photos) checkPhotoPath(p);
  Workspace ws = Workspace::create(project);
  for (const auto& p : photos) ws.addPhotoRoot(p);
  ws.save();
  std::cout << "created project " << ws.root().string() << "\n";
  return kExitOk;
}

int addPhotos(const std::string& project, const std::vector<std::string>& photos) {
  for (const auto& p : photos) checkPhotoPath(p);
  Workspace ws = Workspace::open(project);
  printRecovery(ws);
  for (const auto& p : photos) ws.addPhotoRoot(p);
  ws.save();
  return kExitOk;
}

int setParams(const std::string& project, const std::vector<std::string>& assignments) {
  prepareEngine();
  Workspace ws = Workspace::open(project);
  printRecovery(ws);
  applyAssignments(ws, assignments);
  ws.save();
  return kExitOk;
}

int status(const std::string& project, const Common& common) {
  prepareEngine();
  Workspace ws = Workspace::open(project);
  json out = {{"project", ws.root().string()},
              {"recovered", ws.recoveryNotes()},
              {"stages", json::array()}};
  StageKeyCache keys;
  for (const auto& stage : pipelineStages()) {
    StageState st = stageState(ws, stage, &keys);
    json record = ws.stageRecord(stage);
    out["stages"].push_back({{"stage", stage},
                             {"status", st.status},
                             {"stale", st.stale},
                             {"reason", st.reason},
                             {"summary", record.value("summary", "")},
                             {"message", record.value("message", "")}});
  }
  if (common.json) {
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  std::cout << "project " << ws.root().string() << "\n";
  for (const auto& note : ws.recoveryNotes()) std::cout << "  recovered: " << note << "\n";
  for (const auto& s : out["stages"]) {
    std::cout << "  " << std::left << std::setw(14) << s["stage"].get<std::string>()
              << std::setw(12) << s["status"].get<std::string>()
              << (s["stale"].get<bool>() ? "stale: " + s["reason"].get<std::string>()
                                         : "up to date");
    if (!s["summary"].get<std::string>().empty())
      std::cout << " — " << s["summary"].get<std::string>();
    if (!s["message"].get<std::string>().empty())
      std::cout << " (" << s["message"].get<std::string>() << ")";
    std::cout << "\n";
  }
  return kExitOk;
}

int params(const std::string& stageFilter, const Common& common) {
  prepareEngine();
  const Schema& schema = Schema::instance();
  if (!stageFilter.empty()) schema.requireStage(stageFilter);
  json out = json::array();
  for (const auto& s : schema.stages()) {
    if (!stageFilter.empty() && s.name != stageFilter) continue;
    json js = {{"stage", s.name},
               {"label", s.label},
               {"help", s.help},
               {"after", s.after},
               {"inputs", s.inputs},
               {"outputs", s.outputs},
               {"methods", json::array()},
               {"params", json::array()}};
    for (const auto& m : s.methods)
      js["methods"].push_back({{"name", m.name}, {"label", m.label}, {"plugin", m.plugin},
                               {"installed", m.plugin.empty() || MethodRegistry::instance().entry(s.name, m.name)}});
    for (const auto& p : s.params) {
      js["params"].push_back({{"name", p.name},
                              {"type", p.typeName()},
                              {"default", p.default_value},
                              {"allowed", p.rangeText()},
                              {"help", p.help}});
      if (!p.method.empty()) js["params"].back()["method"] = p.method;
    }
    out.push_back(js);
  }
  if (common.json) {
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& s : out) {
    std::cout << s["stage"].get<std::string>() << " — " << s["label"].get<std::string>() << "\n  "
              << s["help"].get<std::string>() << "\n";
    for (const auto& p : s["params"])
      std::cout << "    " << s["stage"].get<std::string>() << "." << p["name"].get<std::string>()
                << " (" << p["type"].get<std::string>() << ", default " << p["default"].dump()
                << ", " << p["allowed"].get<std::string>() << ")\n        "
                << p["help"].get<std::string>() << "\n";
  }
  return kExitOk;
}

int runStage(const std::string& project, const std::string& stage,
             const std::vector<std::string>& assignments, const Common& common) {
  installCancelSignalHandlers();
  prepareEngine();
  Schema::instance().requireStage(stage);
  Workspace ws = Workspace::open(project);
  printRecovery(ws);
  if (!assignments.empty()) {
    applyAssignments(ws, assignments);
    ws.save();
  }
  return exitCode(parallax::runStage(ws, stage, makeSink(common)));
}

int reconstruct(const std::string& photos, const std::string& project, const std::string& until,
                const std::vector<std::string>& assignments, const Common& common) {
  installCancelSignalHandlers();
  prepareEngine();
  checkPhotoPath(photos);
  Workspace ws =
      Workspace::isProject(project) ? Workspace::open(project) : Workspace::create(project);
  printRecovery(ws);
  ws.addPhotoRoot(photos);
  applyAssignments(ws, assignments);
  ws.save();
  RunResult r = runPipeline(ws, until, makeSink(common));
  if (r == RunResult::kSucceeded && !common.json)
    std::cerr << "project: " << ws.root().string() << "\n";
  return exitCode(r);
}


int plugins(const Common& common) {
  prepareEngine();
  json out = json::array();
  for (const auto& p : PluginManager::instance().plugins()) {
    json jp = {{"name", p.name},
               {"version", p.version},
               {"library", p.library},
               {"models", json::array()}};
    for (const auto& m : p.models) {
      json jm = {{"file", m.relative_path}, {"description", m.description}};
      try {
        jm["path"] = locateModel(m).string();
      } catch (const Error& e) {
        jm["missing"] = e.what();
      }
      jp["models"].push_back(jm);
    }
    out.push_back(jp);
  }
  if (common.json) {
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "plugin folders:";
  for (const auto& d : PluginManager::pluginDirs()) std::cout << " " << d.string();
  std::cout << "\nmodel folders:";
  for (const auto& d : modelDirs()) std::cout << " " << d.string();
  std::cout << "\n";
  if (out.empty()) std::cout << "no plugins loaded\n";
  for (const auto& p : out) {
    std::cout << p["name"].get<std::string>() << " " << p["version"].get<std::string>() << " ("
              << p["library"].get<std::string>() << ")\n";
    for (const auto& m : p["models"])
      std::cout << "  " << m["file"].get<std::string>() << ": "
                << (m.contains("path") ? m["path"].get<std::string>()
                                       : "MISSING — " + m["missing"].get<std::string>())
                << "\n";
  }
  return kExitOk;
}

}  // namespace

void addProjectCommands(CommandTable& t) {
  struct Args {
    std::string project, stage, photos, until;
    std::vector<std::string> files, assignments;
  };
  auto a = std::make_shared<Args>();
  Common& common = t.common();

  auto* cNew = t.add("new", "Create a project folder, optionally with photo folders/files",
                     [a] { return newProject(a->project, a->files); });
  cNew->add_option("project", a->project, "Project folder to create")->required();
  cNew->add_option("photos", a->files, "Photo folders or files");

  auto* cAdd = t.add("add-photos", "Add photo folders or files to a project",
                     [a] { return addPhotos(a->project, a->files); });
  cAdd->add_option("project", a->project, "Project folder")->required();
  cAdd->add_option("photos", a->files, "Photo folders or files")->required();

  auto* cSet = t.add("set", "Store parameter values in a project (stage.param=value ...)",
                     [a] { return setParams(a->project, a->assignments); });
  cSet->add_option("project", a->project, "Project folder")->required();
  cSet->add_option("assignments", a->assignments, "stage.param=value")->required();

  auto* cStatus = t.add("status", "Show each stage's state, what is stale and why, and any recovery notes",
                        [a, &common] { return status(a->project, common); });
  cStatus->add_option("project", a->project, "Project folder")->required();
  t.addJson(cStatus);

  auto* cParams = t.add("params", "List stages and their parameters (type, default, range, help)",
                        [a, &common] { return params(a->stage, common); });
  cParams->add_option("stage", a->stage, "Only this stage");
  t.addJson(cParams);

  auto* cRun = t.add("run-stage", "Run one stage of a project (the GUI's worker process)",
                     [a, &common] { return runStage(a->project, a->stage, a->assignments, common); });
  cRun->add_option("project", a->project, "Project folder")->required();
  cRun->add_option("stage", a->stage, "Stage name (see `parallax-cli params`)")->required();
  t.addJson(cRun);
  t.addSet(cRun, a->assignments);

  auto* cRec = t.add("reconstruct", "Run the whole pipeline headless: photos -> project (only stale stages run)",
                     [a, &common] { return reconstruct(a->photos, a->project, a->until, a->assignments, common); });
  cRec->add_option("photos", a->photos, "Photo folder or file")->required();
  cRec->add_option("project", a->project, "Project folder (created if absent)")->required();
  cRec->add_option("--until", a->until, "Stop after this stage");
  t.addJson(cRec);
  t.addSet(cRec, a->assignments);

  auto* cPlugins = t.add("plugins", "List plugins, their model files and whether each is found",
                         [&common] { return plugins(common); });
  t.addJson(cPlugins);
}

}  // namespace parallax::cli
