// Stage implementations and their registry: each stage declared in the schema has
// one implementation in core (stages/); the ways of doing it are methods
// (pipeline/methods.h), which plugins add.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scene/workspace.h"
#include "util/events.h"

namespace parallax {

struct StageContext {
  Workspace& workspace;
  const nlohmann::json& params;  // effective values, validated against the schema
  Reporter& report;
};

struct StageOutcome {
  std::string summary;  // one line for the job list ("42 photos imported, 2 skipped")
  nlohmann::json outputs = nlohmann::json::object();  // facts later stages and the GUI read
  bool skipped = false;  // nothing to do for this project (reason in `summary`)
  // Every output kept from the stage's previous run with the same key (nothing written):
  // what was made from them stays up to date.
  bool unchanged = false;
};

struct StageImplementation {
  std::string stage;  // schema name
  std::function<StageOutcome(StageContext&)> run;
  // Fingerprint of what the stage reads from outside the project (photo files,
  // sample folders). Part of the stage key, so changed inputs make it stale.
  std::function<std::string(const Workspace&)> externalInputs;
};

class StageRegistry {
 public:
  static StageRegistry& instance();
  void add(StageImplementation impl);
  const StageImplementation* find(const std::string& stage) const;
  std::vector<std::string> stages() const;

 private:
  std::map<std::string, StageImplementation> impls_;
};

// Registers core's stages once (idempotent).
void registerBuiltinStages();

}  // namespace parallax
