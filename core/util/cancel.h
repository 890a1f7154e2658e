// Cooperative cancellation. SIGTERM/SIGINT only set a flag; long loops call
// throwIfCancelled() at safe points, where nothing is half written.
#pragma once

namespace parallax {

void installCancelSignalHandlers();
void requestCancel();
void resetCancel();
bool cancelRequested();
void throwIfCancelled();  // throws Cancelled

}  // namespace parallax
