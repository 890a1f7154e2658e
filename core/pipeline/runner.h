// Running stages in-process: effective parameters, stage keys, staleness, and
// the run itself with its record in parallax.json. `parallax-cli run-stage`
// (the GUI's worker) and `parallax-cli reconstruct` are thin wrappers over this.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scene/workspace.h"
#include "util/events.h"

namespace parallax {

// Schema defaults overlaid with the project's overrides, each validated
// (a hand-edited parallax.json with a bad value gives the usual message).
nlohmann::json effectiveParams(const Workspace& ws, const std::string& stage);

// Hash of the stage's parameters, external inputs and upstream keys. Stages are
// up to date when this equals the key recorded with their outputs.
// Keys already computed during one query: a stage's key includes every upstream
// key, and the import key lists the photo folders, so callers asking about
// several stages share one cache instead of recomputing the chain.
using StageKeyCache = std::map<std::string, std::string>;
std::string currentStageKey(const Workspace& ws, const std::string& stage,
                            StageKeyCache* cache = nullptr);

struct StageState {
  std::string status;  // never_run, running, succeeded, skipped, failed, cancelled, interrupted
  bool stale = true;
  std::string reason;  // why it is stale ("parameter changed", "upstream 'import' changed", ...)
};
StageState stageState(const Workspace& ws, const std::string& stage,
                      StageKeyCache* cache = nullptr);

// Stage names in pipeline order, from the first up to and including `until` ("" = all).
std::vector<std::string> pipelineStages(const std::string& until = "");

enum class RunResult { kSucceeded, kSkipped, kFailed, kCancelled };

// Runs one stage: records "running" (with this pid), calls the implementation,
// and records the outcome. Errors become a "failed" event and record — never an
// exception — so callers just report. Upstream stages must be up to date.
RunResult runStage(Workspace& ws, const std::string& stage, const std::shared_ptr<EventSink>& sink);

// Runs every stale stage up to `until`, stopping at the first failure.
RunResult runPipeline(Workspace& ws, const std::string& until,
                      const std::shared_ptr<EventSink>& sink);

}  // namespace parallax
