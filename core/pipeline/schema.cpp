#include "pipeline/schema.h"

#include <cmath>
#include <sstream>

#include "params/stages.h"
#include "util/error.h"

namespace parallax {

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
    if (choices.empty()) return "none installed (this stage's methods come from plugins)";
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

const MethodSchema* StageSchema::method(const std::string& n) const {
  for (const auto& m : methods)
    if (m.name == n) return &m;
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
    s.addStages(nlohmann::json::parse(params::kStagesDeclaration), params::stagesStructDefaults());
    return s;
  }();
  return schema;
}

namespace {

ParamSchema parseParam(const std::string& stage, const nlohmann::json& jp,
                       const nlohmann::json& structDefaults) {
  ParamSchema p;
  p.name = jp.at("name").get<std::string>();
  std::string t = jp.at("type").get<std::string>();
  static const std::pair<const char*, ParamType> types[] = {
      {"bool", ParamType::kBool},     {"int", ParamType::kInt},   {"float", ParamType::kFloat},
      {"string", ParamType::kString}, {"enum", ParamType::kEnum}, {"path", ParamType::kPath}};
  bool known = false;
  for (const auto& [n, type] : types)
    if (t == n) p.type = type, known = true;
  if (!known) throw Error("parameter " + stage + "." + p.name + " has unknown type '" + t + "'");
  if (jp.contains("min")) p.min = jp["min"].get<double>();
  if (jp.contains("max")) p.max = jp["max"].get<double>();
  p.unit = jp.value("unit", "");
  p.help = jp.value("help", "");
  p.choices = jp.value("choices", std::vector<std::string>{});
  p.default_value = jp.at("default");
  if (structDefaults.is_object() && structDefaults.contains(stage) &&
      structDefaults[stage].contains(p.name))
    p.struct_default = structDefaults[stage][p.name];
  return p;
}

MethodSchema parseMethod(const nlohmann::json& jm, const std::string& plugin) {
  MethodSchema m;
  m.name = jm.at("name").get<std::string>();
  m.label = jm.value("label", m.name);
  m.help = jm.value("help", "");
  m.plugin = plugin;
  m.automatic = jm.value("auto", false);
  m.stage_default = jm.value("stage_default", false);
  return m;
}

}  // namespace

StageSchema& Schema::mutableStage(const std::string& name) {
  requireStage(name);
  for (auto& s : stages_)
    if (s.name == name) return s;
  throw Error("unknown stage '" + name + "'");  // not reached: requireStage threw
}

void Schema::addStages(const nlohmann::json& document, const nlohmann::json& structDefaults) {
  for (const auto& js : document.at("stages")) {
    StageSchema stage;
    stage.name = js.at("name").get<std::string>();
    if (this->stage(stage.name)) throw Error("stage '" + stage.name + "' is declared twice");
    stage.label = js.value("label", stage.name);
    stage.help = js.value("help", "");
    stage.after = js.value("after", std::vector<std::string>{});
    stage.outputs = js.value("outputs", std::map<std::string, std::string>{});
    stage.inputs = js.value("inputs", std::vector<std::string>{});
    for (const auto& in : stage.inputs) {
      const size_t dot = in.find('.');
      const StageSchema* from = dot == std::string::npos ? nullptr : this->stage(in.substr(0, dot));
      if (!from || !from->outputs.count(in.substr(dot + 1)))
        throw Error("stage '" + stage.name + "' reads '" + in +
                    "', which no stage declared before it writes (inputs name stage.output)");
    }
    for (const auto& up : stage.after)
      if (!this->stage(up))
        throw Error("stage '" + stage.name + "' comes after unknown stage '" + up + "'");
    for (const auto& jp : js.value("params", nlohmann::json::array()))
      stage.params.push_back(parseParam(stage.name, jp, structDefaults));
    if (js.contains("methods")) {
      const auto& jm = js["methods"];
      stage.method_param = jm.at("param").get<std::string>();
      stage.classical = jm.value("classical", "");
      stage.auto_choice = jm.value("auto", "");
      for (const auto& m : jm.value("builtin", nlohmann::json::array()))
        stage.methods.push_back(parseMethod(m, ""));
      if (!stage.param(stage.method_param))
        throw Error("stage '" + stage.name + "' picks its method with undeclared parameter '" +
                    stage.method_param + "'");
      for (auto& p : stage.params)
        if (p.name == stage.method_param)
          for (const auto& m : stage.methods) p.help += " " + m.name + ": " + m.help;
    }
    stages_.push_back(stage);
    // Defaults must satisfy their own declaration (a method chosen by default may come
    // from a plugin that adds it later).
    for (const auto& p : stages_.back().params) {
      const bool pluginMethod = p.name == stage.method_param &&
                                !stage.method(p.default_value.get<std::string>()) &&
                                (stage.auto_choice.empty() || p.default_value != stage.auto_choice);
      if (!pluginMethod) validate(stage.name, p.name, p.default_value);
    }
  }
}

void Schema::addMethods(const nlohmann::json& document, const nlohmann::json& structDefaults,
                        const std::string& plugin) {
  auto addParams = [&](const std::string& stageName, const nlohmann::json& params,
                       const std::string& method) {
    StageSchema& s = mutableStage(stageName);
    for (const auto& jp : params) {
      ParamSchema p = parseParam(stageName, jp, structDefaults);
      p.method = method;
      if (s.param(p.name))
        throw Error("parameter " + stageName + "." + p.name + " of method " + method +
                    " is declared twice");
      s.params.push_back(p);
      validate(stageName, p.name, p.default_value);
    }
  };
  for (const auto& jm : document.at("methods")) {
    const std::string stageName = jm.at("stage").get<std::string>();
    StageSchema& s = mutableStage(stageName);
    if (s.method_param.empty())
      throw Error("stage '" + stageName + "' has no methods for a plugin to add to");
    MethodSchema m = parseMethod(jm, plugin);
    if (const MethodSchema* known = s.method(m.name)) {
      if (known->plugin.empty() || known->plugin != plugin)
        throw Error("method " + stageName + "." + m.name + " is declared twice");
      // Declared from the file beside the plugin, now loaded: its structs' defaults join.
      auto typed = [&](const std::string& st, const nlohmann::json& params) {
        for (const auto& jp : params)
          for (auto& p : mutableStage(st).params)
            if (p.name == jp.at("name").get<std::string>() && structDefaults.contains(st) &&
                structDefaults[st].contains(p.name))
              p.struct_default = structDefaults[st][p.name];
      };
      typed(stageName, jm.value("params", nlohmann::json::array()));
      const nlohmann::json others = jm.value("stage_params", nlohmann::json::object());
      for (const auto& [other, params] : others.items()) typed(other, params);
      continue;
    }
    s.methods.push_back(m);
    for (auto& p : s.params) {
      if (p.name != s.method_param) continue;
      p.choices.push_back(m.name);
      p.help += " " + m.name + ": " + m.help;
      if (m.stage_default) p.default_value = m.name;
    }
    addParams(stageName, jm.value("params", nlohmann::json::array()), m.name);
    const nlohmann::json others = jm.value("stage_params", nlohmann::json::object());  // kept alive
    for (const auto& [other, params] : others.items()) addParams(other, params, m.name);
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
