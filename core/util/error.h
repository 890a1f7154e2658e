// Errors that reach the user. Every message says what is wrong and what to do;
// stages throw these and the stage runner reports them as a failed job.
#pragma once

#include <stdexcept>
#include <string>

namespace parallax {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Thrown at a safe point after cancellation was requested (SIGTERM, Ctrl+C, GUI cancel).
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled by request; previous outputs are kept") {}
};

}  // namespace parallax
