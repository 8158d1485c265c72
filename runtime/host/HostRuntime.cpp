// HostRuntime.cpp: a persistent thread pool that runs every program of a grid.
#include "kiln/c/kiln_host.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

thread_local std::string lastError;

/// One launch in flight: programs are handed out by an atomic counter so that workers
/// that finish early take more (programs of one grid can differ in cost, e.g. causal).
struct Launch {
  kiln_host_program_fn fn;
  void **args;
  int64_t gx, gy, gz, total;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
  void runSome() {
    int64_t i;
    while ((i = next.fetch_add(1)) < total) {
      int64_t x = i % gx, y = (i / gx) % gy, z = i / (gx * gy);
      fn(args, (int32_t)x, (int32_t)y, (int32_t)z, (int32_t)gx, (int32_t)gy, (int32_t)gz);
      done.fetch_add(1);
    }
  }
};

class ThreadPool {
public:
  static ThreadPool &get() {
    static ThreadPool pool;
    return pool;
  }
  int size() const { return (int)workers.size() + 1; }

  void run(Launch &launch) {
    // One launch at a time: concurrent callers queue here rather than interleave.
    std::lock_guard<std::mutex> serial(launchMutex);
    {
      std::lock_guard<std::mutex> lock(mutex);
      current = &launch;
      ++generation;
    }
    wake.notify_all();
    launch.runSome();
    std::unique_lock<std::mutex> lock(mutex);
    finished.wait(lock, [&] { return busy == 0 && launch.done.load() == launch.total; });
    current = nullptr;
  }

private:
  ThreadPool() {
    int n = (int)std::thread::hardware_concurrency();
    if (const char *env = std::getenv("KILN_NUM_THREADS"))
      n = std::atoi(env);
    n = std::max(1, std::min(n, 256));
    for (int i = 1; i < n; ++i)
      workers.emplace_back([this] { loop(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (auto &w : workers)
      w.join();
  }
  void loop() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      wake.wait(lock, [&] { return stopping || (current && generation != seen); });
      if (stopping)
        return;
      seen = generation;
      Launch *launch = current;
      ++busy;
      lock.unlock();
      launch->runSome();
      lock.lock();
      if (--busy == 0)
        finished.notify_all();
    }
  }

  std::vector<std::thread> workers;
  std::mutex launchMutex, mutex;
  std::condition_variable wake, finished;
  Launch *current = nullptr;
  uint64_t generation = 0;
  int busy = 0;
  bool stopping = false;
};

} // namespace

extern "C" kiln_status kiln_host_launch(kiln_host_program_fn fn, void **args, uint32_t gx,
                                        uint32_t gy, uint32_t gz) {
  lastError.clear();
  if (!fn) {
    lastError = "kiln_host_launch: null kernel function";
    return KILN_ERROR_INVALID_ARGUMENT;
  }
  const uint32_t limit = 0x7fffffffu;
  if (gx > limit || gy > limit || gz > limit) {
    lastError = "kiln_host_launch: grid extent exceeds 2^31-1";
    return KILN_ERROR_INVALID_ARGUMENT;
  }
  Launch launch;
  launch.fn = fn;
  launch.args = args;
  launch.gx = gx;
  launch.gy = gy;
  launch.gz = gz;
  // Each extent is below 2^31, so the product fits in 93 bits: check it fits in 63.
  int64_t xy = 0, total = 0;
  if (__builtin_mul_overflow((int64_t)gx, (int64_t)gy, &xy) ||
      __builtin_mul_overflow(xy, (int64_t)gz, &total)) {
    lastError = "kiln_host_launch: grid of more than 2^63 programs";
    return KILN_ERROR_INVALID_ARGUMENT;
  }
  launch.total = total;
  if (launch.total == 0)
    return KILN_SUCCESS;
  ThreadPool::get().run(launch);
  return KILN_SUCCESS;
}

extern "C" int kiln_host_num_threads(void) { return ThreadPool::get().size(); }

extern "C" const char *kiln_host_last_error(void) { return lastError.c_str(); }
