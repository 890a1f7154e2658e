// paramgen: turns a parameter declaration (resources/stages.json, or a plugin's
// <method>.json) into a C++ header of typed parameter structs, so that every
// default, range and choice is written once, in the declaration (as F3D
// generates its options from options.json).
//
//   paramgen DECLARATION.json OUT.h NAME
//
// For a stage document ({"stages": [...]}) each stage becomes params::<Stage>
// with one field per parameter, its declared default as the initialiser,
// from(json) that reads the stage's effective values, check() that rejects a
// value outside its declared range or choices, and toJson(). For a method
// document ({"methods": [...]}) each (method, stage it adds parameters to)
// becomes params::<Method><Stage>. The header also holds the declaration text
// (k<Name>Declaration) and <name>StructDefaults(): each struct's default-constructed
// values, which the schema checks against the declaration when it loads it.
#include <cctype>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

using nlohmann::json;

namespace {

std::string camel(const std::string& snake) {
  std::string out;
  bool up = true;
  for (char c : snake) {
    if (c == '_' || c == '-') {
      up = true;
      continue;
    }
    out += up ? char(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

std::string cppString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string cppType(const std::string& type) {
  if (type == "bool") return "bool";
  if (type == "int") return "int";
  if (type == "float") return "double";
  if (type == "enum" || type == "string" || type == "path") return "std::string";
  throw std::runtime_error("unknown parameter type '" + type + "'");
}

std::string cppValue(const std::string& type, const json& v) {
  if (type == "bool") return v.get<bool>() ? "true" : "false";
  if (type == "int") {
    const double d = v.get<double>();
    if (d != double(int(d))) throw std::runtime_error("int default " + v.dump() + " is not an int");
    return std::to_string(int(d));
  }
  if (type == "float") {
    std::string s = json(v.get<double>()).dump();  // shortest text that reads back exactly
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
  }
  return cppString(v.get<std::string>());
}

// One struct: `name` in parallax::params, reading `stage`'s parameters `params`.
void writeStruct(std::ostream& o, const std::string& name, const std::string& stage,
                 const json& params, const std::set<std::string>& openChoices) {
  o << "struct " << name << " {\n";
  o << "  static constexpr const char* kStage = " << cppString(stage) << ";\n";
  for (const auto& p : params) {
    const std::string t = p.at("type");
    o << "  " << cppType(t) << " " << p.at("name").get<std::string>() << " = "
      << cppValue(t, p.at("default")) << ";\n";
  }
  o << "\n  // Reads the stage's effective values (every parameter present, already validated).\n";
  o << "  static " << name << " from(const nlohmann::json& values) {\n    " << name << " s;\n";
  for (const auto& p : params) {
    const std::string n = p.at("name");
    o << "    s." << n << " = detail::read<" << cppType(p.at("type")) << ">(values, kStage, "
      << cppString(n) << ");\n";
  }
  o << "    return s;\n  }\n";
  o << "  // Throws Error naming the parameter, its value and what is allowed.\n";
  o << "  void check() const {\n";
  for (const auto& p : params) {
    const std::string n = p.at("name"), t = p.at("type");
    if (t == "int" || t == "float") {
      o << "    detail::checkRange(kStage, " << cppString(n) << ", double(" << n << "), "
        << (p.contains("min") ? "true, " + cppValue("float", p["min"]) : "false, 0.0") << ", "
        << (p.contains("max") ? "true, " + cppValue("float", p["max"]) : "false, 0.0") << ");\n";
    } else if (t == "enum" && !openChoices.count(n)) {
      o << "    detail::checkChoice(kStage, " << cppString(n) << ", " << n << ", {";
      bool first = true;
      for (const auto& c : p.at("choices")) {
        o << (first ? "" : ", ") << cppString(c.get<std::string>());
        first = false;
      }
      o << "});\n";
    }
  }
  o << "  }\n";
  o << "  nlohmann::json toJson() const {\n    nlohmann::json j = nlohmann::json::object();\n";
  for (const auto& p : params) {
    const std::string n = p.at("name");
    o << "    j[" << cppString(n) << "] = " << n << ";\n";
  }
  o << "    return j;\n  }\n};\n\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: paramgen DECLARATION.json OUT.h NAME\n";
    return 2;
  }
  try {
    std::ifstream in(argv[1]);
    if (!in) throw std::runtime_error(std::string("cannot read ") + argv[1]);
    std::stringstream text;
    text << in.rdbuf();
    const json doc = json::parse(text.str());
    const std::string name = argv[3];

    std::ostringstream o;
    o << "// Generated by paramgen from " << argv[1] << "; do not edit: change the declaration.\n"
      << "#pragma once\n\n#include <nlohmann/json.hpp>\n#include <string>\n\n"
      << "#include \"util/param_access.h\"\n\n"
      << "namespace parallax::params {\n\n";
    json structs = json::array();  // [struct name, stage]
    if (doc.contains("stages")) {
      for (const auto& s : doc["stages"]) {
        std::set<std::string> open;
        if (s.contains("methods")) open.insert(s["methods"].at("param").get<std::string>());
        const std::string st = s.at("name");
        writeStruct(o, camel(st), st, s.value("params", json::array()), open);
        structs.push_back({camel(st), st});
      }
    }
    for (const auto& m : doc.value("methods", json::array())) {
      const std::string method = m.at("name"), stage = m.at("stage");
      writeStruct(o, camel(method) + camel(stage), stage, m.value("params", json::array()), {});
      structs.push_back({camel(method) + camel(stage), stage});
      const json others = m.value("stage_params", json::object());  // items() does not own it
      for (const auto& [other, params] : others.items()) {
        writeStruct(o, camel(method) + camel(other), other, params, {});
        structs.push_back({camel(method) + camel(other), other});
      }
    }
    // Each stage's outputs: the workspace paths it writes, named once.
    if (doc.contains("stages")) {
      o << "}  // namespace parallax::params\n\nnamespace parallax::files {\n\n";
      for (const auto& s : doc["stages"]) {
        o << "struct " << camel(s.at("name")) << " {\n";
        const json outputs = s.value("outputs", json::object());  // items() does not own it
        for (const auto& [key, path] : outputs.items())
          o << "  static constexpr const char* " << key << " = " << cppString(path) << ";\n";
        o << "};\n";
      }
      o << "\n}  // namespace parallax::files\n\nnamespace parallax::params {\n\n";
    }
    o << "// The declaration these structs were generated from.\n"
      << "inline const char* const k" << camel(name) << "Declaration = R\"PARALLAX_JSON("
      << text.str() << ")PARALLAX_JSON\";\n\n";
    o << "// {stage: {parameter: default}} as the structs above initialise them.\n"
      << "inline nlohmann::json " << name << "StructDefaults() {\n"
      << "  nlohmann::json d = nlohmann::json::object();\n";
    for (const auto& s : structs)
      o << "  d[" << cppString(s[1]) << "].update(" << s[0].get<std::string>() << "{}.toJson());\n";
    o << "  return d;\n}\n\n}  // namespace parallax::params\n";

    // Only rewrite when the text changed, so dependants are not rebuilt for nothing.
    std::string old;
    if (std::ifstream prev(argv[2]); prev) {
      std::stringstream p;
      p << prev.rdbuf();
      old = p.str();
    }
    if (old != o.str()) std::ofstream(argv[2]) << o.str();
  } catch (const std::exception& e) {
    std::cerr << "paramgen: " << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
