// The runtime's one CPU parallel loop (CPU backend, quality metrics, the
// synthetic video model): plain std::thread, no pool kept between calls.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace lfc::detail {

/// Runs fn(i) for i in [0, n) on up to `threads` threads (the caller's thread
/// is one of them); indices are handed out one at a time. Rethrows the first
/// exception after every thread has stopped.
template <class Fn> void parallelFor(unsigned threads, int64_t n, Fn fn) {
  if (n <= 0)
    return;
  const unsigned workers =
      unsigned(std::min<int64_t>(std::max(1u, threads), n));
  if (workers <= 1) {
    for (int64_t i = 0; i < n; ++i)
      fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex errorMutex;
  auto work = [&] {
    for (int64_t i; (i = next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!error)
          error = std::current_exception();
        next = n;
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < workers; ++w)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
  if (error)
    std::rethrow_exception(error);
}

} // namespace lfc::detail
