#include "threading.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace kb {
namespace {

struct WorkState {
  explicit WorkState(int64_t n, const std::function<void(int64_t)>* f) : items(n), fn(f) {}
  const int64_t items;
  const std::function<void(int64_t)>* fn;  // only used for claimed items, while the caller waits
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
  std::mutex mu;
  std::condition_variable cv;

  void Drain() {
    int64_t finished = 0;
    for (int64_t i = next.fetch_add(1); i < items; i = next.fetch_add(1)) {
      (*fn)(i);
      ++finished;
    }
    if (finished > 0 && done.fetch_add(finished) + finished == items) {
      std::lock_guard<std::mutex> lock(mu);
      cv.notify_all();
    }
  }
};

}  // namespace

void ParallelFor(const Scheduler& sched, int64_t items, const std::function<void(int64_t)>& fn) {
  if (items <= 0) return;
  if (sched.parallel_for && sched.num_threads > 1 && items > 1) {
    sched.parallel_for(items, fn);
    return;
  }
  const int64_t helpers =
      sched.schedule ? std::min<int64_t>(std::max(sched.num_threads, 1), items) - 1 : 0;
  if (helpers <= 0) {
    for (int64_t i = 0; i < items; ++i) fn(i);
    return;
  }
  auto state = std::make_shared<WorkState>(items, &fn);
  for (int64_t h = 0; h < helpers; ++h) {
    sched.schedule([state]() { state->Drain(); });
  }
  state->Drain();
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->done.load() == items; });
}

}  // namespace kb
