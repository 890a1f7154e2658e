#include "pipeline/methods.h"

#include "pipeline/schema.h"
#include "util/error.h"

namespace parallax {

MethodRegistry& MethodRegistry::instance() {
  static MethodRegistry registry;
  return registry;
}

void MethodRegistry::addEntry(Entry entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto key = std::make_pair(entry.stage, entry.name);
  entries_.erase(key);
  entries_.emplace(key, std::move(entry));
}

const MethodRegistry::Entry* MethodRegistry::entry(const std::string& stage,
                                                   const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find({stage, name});
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> MethodRegistry::names(const std::string& stage) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [key, e] : entries_)
    if (key.first == stage) out.push_back(key.second);
  return out;
}

namespace {

std::string labelOf(const StageSchema& s, const std::string& method) {
  const MethodSchema* m = s.method(method);
  return m ? m->label : method;
}

// "" when stage.method is usable, else why not.
std::string unusable(const StageSchema& s, const std::string& method, const nlohmann::json& params) {
  const MethodRegistry::Entry* e = MethodRegistry::instance().entry(s.name, method);
  if (!e)
    return "no installed plugin provides " + s.name + "." + method +
           " (`parallax-cli plugins` lists what is installed and what failed to load)";
  if (!e->check) return "";
  try {
    e->check(params);
    return "";
  } catch (const Error& error) {
    return error.what();
  }
}

}  // namespace

ResolvedMethod resolveMethod(const std::string& stage, const nlohmann::json& params) {
  const StageSchema& s = Schema::instance().requireStage(stage);
  if (s.method_param.empty()) throw Error("stage '" + stage + "' has no methods");
  const std::string requested = params.at(s.method_param).get<std::string>();
  ResolvedMethod out;
  auto classical = [&](const std::string& why) {
    if (s.classical.empty())
      throw Error(stage + "." + requested + " cannot run: " + why);
    out.name = s.classical;
    out.label = labelOf(s, s.classical);
    out.classical = true;
    if (!why.empty())
      out.warning = labelOf(s, requested) + " (" + stage + "." + requested + ") unavailable: " + why +
                    ". Using " + out.label + " (" + stage + "." + s.classical + ") instead.";
    return out;
  };
  if (requested == s.classical) return classical("");
  if (!s.auto_choice.empty() && requested == s.auto_choice) {
    // The first automatic candidate that can run; a candidate that cannot is reported,
    // none installed is the plain classical choice.
    for (const auto& m : s.methods) {
      if (!m.automatic) continue;
      const std::string why = unusable(s, m.name, params);
      if (why.empty()) return {m.name, m.label, false, ""};
      ResolvedMethod r = classical("");
      r.warning = m.label + " (" + stage + "." + m.name + ", the automatic choice) unavailable: " +
                  why + ". Using " + r.label + " (" + stage + "." + s.classical + ") instead.";
      return r;
    }
    return classical("");
  }
  const MethodSchema* declared = s.method(requested);
  if (declared && declared->plugin.empty() && !MethodRegistry::instance().entry(stage, requested))
    return {requested, declared->label, false, ""};  // built into the stage's own code
  const std::string why = unusable(s, requested, params);
  if (why.empty()) return {requested, labelOf(s, requested), false, ""};
  return classical(why);
}

}  // namespace parallax
