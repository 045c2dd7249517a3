// Timing shared by the benchmarks: the median of repeated CUDA-event timings.
#pragma once

#include "runtime/cuda/Driver.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace lfc::bench {

/// Median of `reps` CUDA-event timings of `fn` after 3 warm-up runs, in ms.
inline double medianMs(int reps, const std::function<void()> &fn) {
  const auto &api = cuda::driver();
  CUevent start, stop;
  cuda::check(api.cuEventCreate(&start, CU_EVENT_DEFAULT), "cuEventCreate");
  cuda::check(api.cuEventCreate(&stop, CU_EVENT_DEFAULT), "cuEventCreate");
  for (int i = 0; i < 3; ++i)
    fn();
  std::vector<float> ms(static_cast<size_t>(reps));
  for (float &m : ms) {
    cuda::check(api.cuEventRecord(start, nullptr), "cuEventRecord");
    fn();
    cuda::check(api.cuEventRecord(stop, nullptr), "cuEventRecord");
    cuda::check(api.cuEventSynchronize(stop), "cuEventSynchronize");
    cuda::check(api.cuEventElapsedTime_v2(&m, start, stop),
                "cuEventElapsedTime_v2");
  }
  api.cuEventDestroy_v2(start);
  api.cuEventDestroy_v2(stop);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

} // namespace lfc::bench
