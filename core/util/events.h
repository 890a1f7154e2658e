// Stage events: progress (done/total/message/ETA), log lines, previews and the
// final outcome. The worker protocol of DESIGN §5 is these events as JSON lines.
#pragma once

#include <chrono>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace parallax {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void send(const nlohmann::json& event) = 0;
};

// Newline-delimited JSON, flushed per event (for `--json` and GUI workers).
class JsonLinesSink : public EventSink {
 public:
  explicit JsonLinesSink(std::ostream& out) : out_(out) {}
  void send(const nlohmann::json& event) override;

 private:
  std::ostream& out_;
  std::mutex mutex_;
};

// Human output: a progress bar redrawn in place on a terminal, log lines below.
class TerminalSink : public EventSink {
 public:
  TerminalSink();
  void send(const nlohmann::json& event) override;

 private:
  void clearBar();
  bool tty_;
  bool barShown_ = false;
  std::mutex mutex_;
};

// Keeps every event (tests, and the in-process runner's summary).
class CollectingSink : public EventSink {
 public:
  void send(const nlohmann::json& event) override;
  std::vector<nlohmann::json> events() const;

 private:
  mutable std::mutex mutex_;
  std::vector<nlohmann::json> events_;
};

// What a stage uses to talk to the user. Thread-safe; progress events are
// throttled to ~10 per second except the first and the last.
class Reporter {
 public:
  Reporter(std::shared_ptr<EventSink> sink, std::string stage);

  void progress(size_t done, size_t total, const std::string& message);
  void info(const std::string& message) { log("info", message); }
  void warning(const std::string& message) { log("warning", message); }
  void log(const std::string& level, const std::string& message);
  // Tells a viewer that `what` (e.g. "sparse", "mesh", "images") changed on disk.
  void preview(const std::string& what, const std::string& path = "");
  void send(nlohmann::json event);

  const std::string& stage() const { return stage_; }
  double elapsedSeconds() const;

 private:
  std::shared_ptr<EventSink> sink_;
  std::string stage_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point lastProgress_{};
  std::chrono::steady_clock::time_point phaseStart_{};  // the current phase's first report
  size_t phaseTotal_ = 0, phaseFirst_ = 0, phaseDone_ = 0;
  std::mutex mutex_;
};

}  // namespace parallax
