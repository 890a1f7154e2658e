// The stage-parameter schema: resources/stages.json declares every stage (its
// parameters, inputs, outputs, built-in methods) and each plugin's <method>.json its
// method and the parameters it adds. One declaration per parameter — type, default,
// range, unit, help — from which validation, CLI parsing, the GUI editor,
// parallax.json and the generated typed structs (tools/paramgen) all work.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace parallax {

enum class ParamType { kBool, kInt, kFloat, kString, kEnum, kPath };

struct ParamSchema {
  std::string name;
  ParamType type = ParamType::kString;
  nlohmann::json default_value;
  std::optional<double> min, max;
  std::string unit;
  std::string help;
  std::vector<std::string> choices;  // for kEnum
  std::string method;  // the method that declared it ("" for the stage's own)
  // The default its generated struct initialises it with (null when no struct was
  // given with the declaration); test_schema checks it equals default_value.
  nlohmann::json struct_default;

  std::string typeName() const;
  std::string rangeText() const;  // "[0.2, 5] x longest side", "one of A, B", "true or false"
};

struct MethodSchema {
  std::string name;    // "sift", "patchmatch"
  std::string label;   // "SIFT", "classical PatchMatch"
  std::string help;
  std::string plugin;  // "" when built into core
  bool automatic = false;  // a candidate for the stage's automatic choice ("auto")
  bool stage_default = false;  // the stage's default method when installed
};

struct StageSchema {
  std::string name;
  std::string label;
  std::string help;
  std::vector<std::string> after;  // upstream stages whose outputs this one reads
  std::vector<ParamSchema> params;
  // Workspace paths (relative to the project) the stage writes, by name, and the
  // other stages' outputs it reads ("fusion.fused"). Code names them through the
  // generated files::<Stage> constants.
  std::map<std::string, std::string> outputs;
  std::vector<std::string> inputs;
  // Stages with several methods: the parameter that picks one, the classical method
  // used when a learned one is unavailable ("" if none), the choice that means "the
  // best one installed" ("" if none), and the methods declared so far.
  std::string method_param, classical, auto_choice;
  std::vector<MethodSchema> methods;

  const ParamSchema* param(const std::string& name) const;
  const MethodSchema* method(const std::string& name) const;
  nlohmann::json defaults() const;
};

class Schema {
 public:
  // The built-in schema plus any stages plugins added.
  static Schema& instance();
  // Adds a stage document ({"stages": [...]}); `structDefaults` ({stage: {param:
  // default}}) are the generated structs' defaults. Throws Error on a malformed one.
  void addStages(const nlohmann::json& document, const nlohmann::json& structDefaults = {});
  // Adds a method document ({"methods": [...]}, a plugin's <method>.json): each method
  // joins its stage's choices, its parameters join that stage (and the stages named in
  // its stage_params).
  void addMethods(const nlohmann::json& document, const nlohmann::json& structDefaults = {},
                  const std::string& plugin = "");

  const std::vector<StageSchema>& stages() const { return stages_; }
  const StageSchema* stage(const std::string& name) const;
  const StageSchema& requireStage(const std::string& name) const;  // Error lists the known stages

  // Converts and checks a value for stage.param. Throws Error that names the
  // parameter, the value and what is allowed.
  nlohmann::json validate(const std::string& stage, const std::string& param,
                          const nlohmann::json& value) const;
  // Parses "stage.param=value" text (CLI) into (stage, param, validated value).
  struct Assignment {
    std::string stage, param;
    nlohmann::json value;
  };
  Assignment parseAssignment(const std::string& text) const;

 private:
  StageSchema& mutableStage(const std::string& name);
  std::vector<StageSchema> stages_;
};

}  // namespace parallax
