#include "pipeline/schema.h"

#include <cmath>
#include <sstream>

#include "util/error.h"

namespace parallax {

extern const char* kStagesJson;  // generated from resources/stages.json

std::string ParamSchema::typeName() const {
  switch (type) {
    case ParamType::kBool:
      return "bool";
    case ParamType::kInt:
      return "int";
    case ParamType::kFloat:
      return "float";
    case ParamType::kString:
      return "string";
    case ParamType::kEnum:
      return "enum";
    case ParamType::kPath:
      return "path";
  }
  return "";
}

static std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string ParamSchema::rangeText() const {
  if (type == ParamType::kBool) return "true or false";
  if (type == ParamType::kEnum) {
    std::string s = "one of ";
    for (size_t i = 0; i < choices.size(); ++i) s += (i ? ", " : "") + choices[i];
    return s;
  }
  if (type == ParamType::kInt || type == ParamType::kFloat) {
    std::string s = "[" + (min ? number(*min) : "-inf") + ", " + (max ? number(*max) : "inf") + "]";
    if (!unit.empty()) s += " " + unit;
    return s;
  }
  return type == ParamType::kPath ? "a file or folder path" : "text";
}

const ParamSchema* StageSchema::param(const std::string& n) const {
  for (const auto& p : params)
    if (p.name == n) return &p;
  return nullptr;
}

nlohmann::json StageSchema::defaults() const {
  nlohmann::json d = nlohmann::json::object();
  for (const auto& p : params) d[p.name] = p.default_value;
  return d;
}

Schema& Schema::instance() {
  static Schema schema = [] {
    Schema s;
    s.addStages(nlohmann::json::parse(kStagesJson));
    return s;
  }();
  return schema;
}

void Schema::addStages(const nlohmann::json& document) {
  for (const auto& js : document.at("stages")) {
    StageSchema stage;
    stage.name = js.at("name").get<std::string>();
    if (this->stage(stage.name)) throw Error("stage '" + stage.name + "' is declared twice");
    stage.label = js.value("label", stage.name);
    stage.help = js.value("help", "");
    stage.after = js.value("after", std::vector<std::string>{});
    for (const auto& up : stage.after)
      if (!this->stage(up))
        throw Error("stage '" + stage.name + "' comes after unknown stage '" + up + "'");
    for (const auto& jp : js.value("params", nlohmann::json::array())) {
      ParamSchema p;
      p.name = jp.at("name").get<std::string>();
      std::string t = jp.at("type").get<std::string>();
      static const std::pair<const char*, ParamType> types[] = {
          {"bool", ParamType::kBool},     {"int", ParamType::kInt},   {"float", ParamType::kFloat},
          {"string", ParamType::kString}, {"enum", ParamType::kEnum}, {"path", ParamType::kPath}};
      bool known = false;
      for (const auto& [n, type] : types)
        if (t == n) p.type = type, known = true;
      if (!known)
        throw Error("parameter " + stage.name + "." + p.name + " has unknown type '" + t + "'");
      if (jp.contains("min")) p.min = jp["min"].get<double>();
      if (jp.contains("max")) p.max = jp["max"].get<double>();
      p.unit = jp.value("unit", "");
      p.help = jp.value("help", "");
      p.choices = jp.value("choices", std::vector<std::string>{});
      p.default_value = jp.at("default");
      stage.params.push_back(p);
    }
    stages_.push_back(stage);
    // Defaults must satisfy their own declaration.
    for (const auto& p : stages_.back().params) validate(stage.name, p.name, p.default_value);
  }
}

const StageSchema* Schema::stage(const std::string& name) const {
  for (const auto& s : stages_)
    if (s.name == name) return &s;
  return nullptr;
}

const StageSchema& Schema::requireStage(const std::string& name) const {
  if (const auto* s = stage(name)) return *s;
  std::string known;
  for (const auto& s : stages_) known += (known.empty() ? "" : ", ") + s.name;
  throw Error("unknown stage '" + name + "' (stages: " + known + ")");
}

nlohmann::json Schema::validate(const std::string& stageName, const std::string& paramName,
                                const nlohmann::json& value) const {
  const StageSchema& s = requireStage(stageName);
  const ParamSchema* p = s.param(paramName);
  if (!p) {
    std::string known;
    for (const auto& q : s.params) known += (known.empty() ? "" : ", ") + q.name;
    throw Error("unknown parameter '" + stageName + "." + paramName + "' (" + stageName +
                " has: " + (known.empty() ? "no parameters" : known) + ")");
  }
  const std::string full = stageName + "." + paramName;
  const std::string shown = value.is_string()   ? value.get<std::string>()
                            : value.is_number() ? number(value.get<double>())
                                                : value.dump();
  auto bad = [&](const std::string& why) {
    return Error(full + " = " + shown + " is " + why + "; allowed: " + p->rangeText());
  };
  switch (p->type) {
    case ParamType::kBool:
      if (value.is_boolean()) return value;
      throw bad("not a boolean");
    case ParamType::kInt:
    case ParamType::kFloat: {
      if (!value.is_number()) throw bad("not a number");
      double v = value.get<double>();
      if (!std::isfinite(v)) throw bad("not finite");
      if (p->type == ParamType::kInt && std::floor(v) != v) throw bad("not a whole number");
      if ((p->min && v < *p->min) || (p->max && v > *p->max)) throw bad("out of range");
      return p->type == ParamType::kInt ? nlohmann::json(static_cast<long long>(v))
                                        : nlohmann::json(v);
    }
    case ParamType::kEnum: {
      if (!value.is_string()) throw bad("not a choice");
      for (const auto& c : p->choices)
        if (c == value.get<std::string>()) return value;
      throw bad("not a known choice");
    }
    case ParamType::kString:
    case ParamType::kPath:
      if (value.is_string()) return value;
      throw bad("not text");
  }
  return value;
}

Schema::Assignment Schema::parseAssignment(const std::string& text) const {
  size_t eq = text.find('='), dot = text.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq)
    throw Error("'" + text +
                "' is not of the form stage.param=value (e.g. import.single_camera=true)");
  Assignment a;
  a.stage = text.substr(0, dot);
  a.param = text.substr(dot + 1, eq - dot - 1);
  std::string raw = text.substr(eq + 1);
  const StageSchema& s = requireStage(a.stage);
  const ParamSchema* p = s.param(a.param);
  if (!p) validate(a.stage, a.param, raw);  // throws the unknown-parameter message
  nlohmann::json v = raw;
  if (p->type == ParamType::kBool) {
    if (raw == "true" || raw == "1" || raw == "on" || raw == "yes")
      v = true;
    else if (raw == "false" || raw == "0" || raw == "off" || raw == "no")
      v = false;
  } else if (p->type == ParamType::kInt || p->type == ParamType::kFloat) {
    try {
      size_t used = 0;
      double d = std::stod(raw, &used);
      if (used == raw.size()) v = d;
    } catch (const std::exception&) {
    }
  }
  a.value = validate(a.stage, a.param, v);
  return a;
}

}  // namespace parallax
