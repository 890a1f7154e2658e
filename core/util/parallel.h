// parallelFor over indices with a fixed number of threads; the first exception
// thrown by any task is rethrown on the calling thread after all threads stop.
#pragma once

#include <cstddef>
#include <functional>

namespace parallax {

// threads <= 0 uses std::thread::hardware_concurrency().
void parallelFor(size_t count, const std::function<void(size_t)>& task, int threads = 0);

}  // namespace parallax
