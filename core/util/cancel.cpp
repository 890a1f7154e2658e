#include "util/cancel.h"

#include <csignal>

#include "util/error.h"

namespace parallax {
namespace {
volatile std::sig_atomic_t g_cancel = 0;
extern "C" void onCancelSignal(int) { g_cancel = 1; }
}  // namespace

void installCancelSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = onCancelSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

void requestCancel() { g_cancel = 1; }
void resetCancel() { g_cancel = 0; }
bool cancelRequested() { return g_cancel != 0; }
void throwIfCancelled() {
  if (g_cancel) throw Cancelled();
}

}  // namespace parallax
