// BlockingPool: a fixed set of threads for HTTP handlers that block (an SMTP or IMAP login, an
// outgoing webhook ping), so that they never occupy the server's I/O threads. A job waits in a
// bounded queue while every thread is busy; beyond that bound Submit refuses it and the server
// answers 503 instead of letting slow work pile up without limit.
//
// Each job has two halves: `run`, called on a pool thread, and `cancel`, called instead of `run`
// when the pool stops before the job started. Exactly one of the two is called for every job
// Submit accepted.
//
// Thread-safety: Submit, Stop and the counters may be called from any thread. The destructor
// stops the pool and joins its threads: it waits for running jobs to return.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::http {

class BlockingPool {
 public:
  struct Job {
    std::function<void()> run;
    std::function<void()> cancel;
  };

  // Starts `threads` threads (at least 1); at most `queue_limit` jobs wait beyond those running.
  BlockingPool(int threads, size_t queue_limit);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Accepts `job` when a thread is free or the queue has room: returns true and later calls
  // exactly one of job.run / job.cancel. Returns false (and calls neither) when the queue is full
  // or the pool is stopping.
  bool Submit(Job job);

  // Refuses new jobs and cancels the queued ones (their `cancel` runs on the calling thread);
  // running jobs carry on. Idempotent.
  void Stop();

  // Jobs running on a pool thread now, and jobs waiting for one.
  size_t running() const;
  size_t queued() const;
  int threads() const { return static_cast<int>(threads_.size()); }
  size_t queue_limit() const { return queue_limit_; }

 private:
  void Loop();

  const size_t queue_limit_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Job> queue_;  // guarded by mu_
  size_t running_ = 0;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace kiln::http
