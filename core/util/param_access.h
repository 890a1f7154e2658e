// What the generated parameter structs (tools/paramgen) use to read and check
// their values. Messages match the schema's validation (pipeline/schema.cpp), so a
// value rejected by a struct's check() reads as one rejected when it was set.
#pragma once

#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "util/error.h"

namespace parallax::params::detail {

template <class T>
T read(const nlohmann::json& values, const char* stage, const char* name) {
  const auto it = values.find(name);
  if (it == values.end())
    throw Error(std::string("parameter ") + stage + "." + name +
                " is missing from the values given (a stage reads its effective parameters, "
                "which hold every declared one)");
  try {
    if constexpr (std::is_same_v<T, int>) return int(it->template get<long long>());
    return it->template get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string("parameter ") + stage + "." + name + " = " + it->dump() +
                " has the wrong type");
  }
}

inline std::string numberText(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

inline void checkRange(const char* stage, const char* name, double v, bool hasMin, double min,
                       bool hasMax, double max) {
  if (std::isfinite(v) && (!hasMin || v >= min) && (!hasMax || v <= max)) return;
  throw Error(std::string(stage) + "." + name + " = " + numberText(v) +
              " is out of range; allowed: [" + (hasMin ? numberText(min) : "-inf") + ", " +
              (hasMax ? numberText(max) : "inf") + "]");
}

inline void checkChoice(const char* stage, const char* name, const std::string& v,
                        std::initializer_list<const char*> choices) {
  std::string allowed;
  for (const char* c : choices) {
    if (v == c) return;
    allowed += (allowed.empty() ? "" : ", ") + std::string(c);
  }
  throw Error(std::string(stage) + "." + name + " = " + v +
              " is not a known choice; allowed: one of " + allowed);
}

}  // namespace parallax::params::detail
