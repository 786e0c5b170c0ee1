// Work splitting over a thread pool where the calling thread claims work too, so a pool that
// never runs a task cannot deadlock a call.
#pragma once

#include <cstdint>
#include <functional>

namespace kb {

struct Scheduler {
  int num_threads = 1;                                           // workers incl. the caller
  std::function<void(std::function<void()>)> schedule = nullptr;  // runs a task on the pool
  // A host's own blocking parallel loop (ONNX Runtime's KernelContext_ParallelFor): runs fn(i)
  // for every i in [0, items) and returns when all are done. When set, ParallelFor uses it.
  std::function<void(int64_t, const std::function<void(int64_t)>&)> parallel_for = nullptr;
};

// Calls fn(i) for every i in [0, items), spread over the scheduler's threads.
void ParallelFor(const Scheduler& sched, int64_t items, const std::function<void(int64_t)>& fn);

}  // namespace kb
