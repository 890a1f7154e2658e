#include "pipeline/runner.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <random>

#include "pipeline/schema.h"
#include "pipeline/stage.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/hash.h"

using nlohmann::json;

namespace parallax {
namespace {

std::string nowIso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Names one run of a stage (a clock in nanoseconds, the process and a random draw).
std::string newRunId() {
  Hasher h;
  h.add(uint64_t(std::chrono::system_clock::now().time_since_epoch().count()))
      .add(uint64_t(::getpid()))
      .add(uint64_t(std::random_device{}()));
  return h.hex();
}

}  // namespace

json effectiveParams(const Workspace& ws, const std::string& stage) {
  const Schema& schema = Schema::instance();
  json params = schema.requireStage(stage).defaults();
  const StageSchema& declared = schema.requireStage(stage);
  const json overrides = ws.paramOverrides(stage);  // keep alive: items() does not own it
  for (const auto& [name, value] : overrides.items()) {
    // A value set for a method's parameter whose plugin this build lacks stays in
    // parallax.json, unused; a method it lacks is kept for resolveMethod to report.
    if (!declared.param(name)) continue;
    const bool automatic = !declared.auto_choice.empty() && value == declared.auto_choice;
    if (name == declared.method_param && value.is_string() && !declared.method(value.get<std::string>()) &&
        !automatic) {
      params[name] = value;
      continue;
    }
    params[name] = schema.validate(stage, name, value);
  }
  return params;
}

std::string currentStageKey(const Workspace& ws, const std::string& stage, StageKeyCache* cache) {
  StageKeyCache local;
  if (!cache) cache = &local;
  if (auto it = cache->find(stage); it != cache->end()) return it->second;
  const StageSchema& s = Schema::instance().requireStage(stage);
  Hasher h;
  h.add(stage).add(effectiveParams(ws, stage).dump());
  // An empty fingerprint adds nothing, so a stage whose inputs are only sometimes
  // there (cleaning edits) keeps its key while they are not.
  if (const auto* impl = StageRegistry::instance().find(stage); impl && impl->externalInputs)
    if (const std::string in = impl->externalInputs(ws); !in.empty()) h.add(in);
  for (const auto& up : s.after) {
    h.add(currentStageKey(ws, up, cache));
    // Which run made the upstream outputs: a stage run again with the same parameters
    // (another method available now, a forced rerun) may write different outputs, and
    // what was made from the old ones is then out of date. (Records from before run ids
    // have none, and keep their keys.)
    if (const std::string run = ws.stageRecord(up).value("run_id", ""); !run.empty()) h.add(run);
  }
  return (*cache)[stage] = h.hex();
}

StageState stageState(const Workspace& ws, const std::string& stage, StageKeyCache* cache) {
  StageKeyCache local;
  if (!cache) cache = &local;
  StageState st;
  json record = ws.stageRecord(stage);
  st.status = record.value("status", "never_run");
  std::string outputKey = record.value("output_key", "");
  if (outputKey.empty()) {
    st.reason = "has not run yet";
    return st;
  }
  std::string key;
  try {
    key = currentStageKey(ws, stage, cache);
  } catch (const Error& e) {
    st.reason = e.what();
    return st;
  }
  if (key == outputKey) {
    st.stale = false;
    return st;
  }
  // Explain: an upstream change, or this stage's own parameters/inputs.
  for (const auto& up : Schema::instance().requireStage(stage).after) {
    if (stageState(ws, up, cache).stale) {
      st.reason = "upstream stage '" + up + "' is out of date";
      return st;
    }
  }
  st.reason = record.value("params_hash", "") != hashHex(effectiveParams(ws, stage).dump())
                  ? "its parameters have changed since it ran"
                  : "its inputs have changed since it ran";
  return st;
}

std::vector<std::string> pipelineStages(const std::string& until) {
  std::vector<std::string> names;
  const Schema& schema = Schema::instance();
  if (!until.empty()) schema.requireStage(until);
  for (const auto& s : schema.stages()) {
    if (!StageRegistry::instance().find(s.name)) continue;
    names.push_back(s.name);
    if (s.name == until) break;
  }
  return names;
}

RunResult runStage(Workspace& ws, const std::string& stage,
                   const std::shared_ptr<EventSink>& sink) {
  Reporter report(sink, stage);
  report.send({{"event", "started"}, {"pid", long(::getpid())}});
  std::string key, paramsHash;
  json params;
  try {
    const StageSchema& schema = Schema::instance().requireStage(stage);
    const StageImplementation* impl = StageRegistry::instance().find(stage);
    if (!impl)
      throw Error("stage '" + stage + "' has no implementation loaded (is its plugin installed?)");
    StageKeyCache keys;
    for (const auto& up : schema.after) {
      StageState upState = stageState(ws, up, &keys);
      if (upState.stale) throw Error("run stage '" + up + "' first (" + upState.reason + ")");
    }
    params = effectiveParams(ws, stage);
    paramsHash = hashHex(params.dump());
    key = currentStageKey(ws, stage, &keys);
    ws.updateStageRecord(stage, [&](json& r) {
      r["status"] = "running";
      r["pid"] = long(::getpid());
      r["started"] = nowIso();
      r.erase("message");
    });
    throwIfCancelled();
    StageContext ctx{ws, params, report};
    StageOutcome outcome = impl->run(ctx);
    ws.updateStageRecord(stage, [&](json& r) {
      r["status"] = outcome.skipped ? "skipped" : "succeeded";
      r["output_key"] = key;
      if (!outcome.unchanged || r.value("run_id", "").empty()) r["run_id"] = newRunId();
      r["params_hash"] = paramsHash;
      r["finished"] = nowIso();
      r["elapsed_s"] = report.elapsedSeconds();
      r["summary"] = outcome.summary;
      r["outputs"] = outcome.outputs;
      r.erase("pid");
    });
    if (outcome.skipped) {
      report.send({{"event", "skipped"}, {"reason", outcome.summary}});
      return RunResult::kSkipped;
    }
    report.send({{"event", "succeeded"},
                 {"elapsed_s", report.elapsedSeconds()},
                 {"summary", outcome.summary}});
    return RunResult::kSucceeded;
  } catch (const Cancelled& e) {
    ws.updateStageRecord(stage, [&](json& r) {
      r["status"] = "cancelled";
      r["message"] = e.what();
      r.erase("pid");
    });
    report.send({{"event", "cancelled"}, {"reason", e.what()}});
    return RunResult::kCancelled;
  } catch (const std::exception& e) {
    std::string reason = e.what();
    try {
      ws.updateStageRecord(stage, [&](json& r) {
        if (r.value("status", "") == "running")
          r["status"] = "failed";
        else if (!r.contains("status"))
          r["status"] = "never_run";
        r["message"] = reason;
        r.erase("pid");
      });
    } catch (const std::exception&) {
      // The project file itself may be the problem; the event below still reports.
    }
    report.send({{"event", "failed"}, {"reason", reason}});
    return RunResult::kFailed;
  }
}

RunResult runPipeline(Workspace& ws, const std::string& until,
                      const std::shared_ptr<EventSink>& sink) {
  RunResult last = RunResult::kSucceeded;
  StageKeyCache keys;  // running a stage never changes any stage's key
  for (const auto& stage : pipelineStages(until)) {
    StageState st = stageState(ws, stage, &keys);
    if (!st.stale) {
      Reporter(sink, stage).send({{"event", "up_to_date"}, {"reason", "up to date, not re-run"}});
      continue;
    }
    last = runStage(ws, stage, sink);
    if (last == RunResult::kFailed || last == RunResult::kCancelled) return last;
  }
  return RunResult::kSucceeded;
}

}  // namespace parallax
