// The stage-parameter schema (resources/stages.json, embedded at build time):
// one declaration per parameter — type, default, range, unit, help — from which
// validation, CLI parsing, the GUI editor and parallax.json all work.
#pragma once

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

  std::string typeName() const;
  std::string rangeText() const;  // "[0.2, 5] x longest side", "one of A, B", "true or false"
};

struct StageSchema {
  std::string name;
  std::string label;
  std::string help;
  std::vector<std::string> after;  // upstream stages whose outputs this one reads
  std::vector<ParamSchema> params;

  const ParamSchema* param(const std::string& name) const;
  nlohmann::json defaults() const;
};

class Schema {
 public:
  // The built-in schema plus any stages plugins added.
  static Schema& instance();
  // Parses a schema document ({"stages": [...]}); throws Error on malformed declarations.
  void addStages(const nlohmann::json& document);

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
  std::vector<StageSchema> stages_;
};

}  // namespace parallax
