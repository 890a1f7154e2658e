#include "util/events.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace parallax {

void JsonLinesSink::send(const nlohmann::json& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  out_ << event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  out_.flush();
}

TerminalSink::TerminalSink() : tty_(::isatty(STDERR_FILENO) != 0) {}

void TerminalSink::clearBar() {
  if (barShown_) {
    std::fprintf(stderr, "\r\033[K");
    barShown_ = false;
  }
}

static std::string formatSeconds(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

void TerminalSink::send(const nlohmann::json& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string type = e.value("event", "");
  const std::string stage = e.value("stage", "");
  if (type == "progress") {
    size_t done = e.value("done", size_t{0}), total = e.value("total", size_t{0});
    std::string msg = e.value("message", "");
    if (!tty_) return;  // bars in a log file are noise; the final outcome is printed below
    const int width = 30;
    int filled = total ? int(width * double(done) / double(total)) : 0;
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::string eta = e.contains("eta_s") ? " ETA " + formatSeconds(e["eta_s"].get<double>()) : "";
    std::fprintf(stderr, "\r\033[K%-10s [%s] %zu/%zu%s %s", stage.c_str(), bar.c_str(), done, total,
                 eta.c_str(), msg.substr(0, 60).c_str());
    barShown_ = true;
  } else if (type == "log") {
    std::string level = e.value("level", "info");
    clearBar();
    std::fprintf(stderr, "%s%s: %s\n", level == "info" ? "" : (level + ": ").c_str(), stage.c_str(),
                 e.value("message", "").c_str());
  } else if (type == "succeeded") {
    clearBar();
    std::fprintf(stderr, "%s: done in %s%s\n", stage.c_str(),
                 formatSeconds(e.value("elapsed_s", 0.0)).c_str(),
                 e.contains("summary") ? (" — " + e["summary"].get<std::string>()).c_str() : "");
  } else if (type == "failed") {
    clearBar();
    std::fprintf(stderr, "%s: FAILED: %s\n", stage.c_str(), e.value("reason", "").c_str());
  } else if (type == "skipped") {
    clearBar();
    std::fprintf(stderr, "%s: %s\n", stage.c_str(), e.value("reason", "").c_str());
  }
  std::fflush(stderr);
}

void CollectingSink::send(const nlohmann::json& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  events_.push_back(event);
}

std::vector<nlohmann::json> CollectingSink::events() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_;
}

Reporter::Reporter(std::shared_ptr<EventSink> sink, std::string stage)
    : sink_(std::move(sink)), stage_(std::move(stage)), start_(std::chrono::steady_clock::now()) {}

double Reporter::elapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Reporter::send(nlohmann::json event) {
  if (!sink_) return;
  if (!event.contains("stage")) event["stage"] = stage_;
  sink_->send(event);
}

void Reporter::progress(size_t done, size_t total, const std::string& message) {
  auto now = std::chrono::steady_clock::now();
  double eta = -1;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // A stage counts its phases one after another (5 steps, then 11 photos, ...): the
    // rate is measured within the phase, from its first report; none before a second.
    if (total != phaseTotal_ || done < phaseDone_) {
      phaseTotal_ = total;
      phaseFirst_ = done;
      phaseStart_ = now;
    }
    phaseDone_ = done;
    bool edge = done == 0 || done >= total;
    if (!edge && now - lastProgress_ < std::chrono::milliseconds(100)) return;
    lastProgress_ = now;
    if (done > phaseFirst_ && total >= done)
      eta = std::chrono::duration<double>(now - phaseStart_).count() / double(done - phaseFirst_) * double(total - done);
  }
  nlohmann::json e{{"event", "progress"}, {"done", done}, {"total", total}, {"message", message}};
  e["elapsed_s"] = elapsedSeconds();
  if (eta >= 0) e["eta_s"] = eta;
  send(std::move(e));
}

void Reporter::log(const std::string& level, const std::string& message) {
  send({{"event", "log"}, {"level", level}, {"message", message}});
}

void Reporter::preview(const std::string& what, const std::string& path) {
  send({{"event", "preview"}, {"what", what}, {"path", path}});
}

}  // namespace parallax
