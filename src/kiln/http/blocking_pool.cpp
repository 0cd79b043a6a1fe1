#include "kiln/http/blocking_pool.h"

#include <algorithm>
#include <utility>

namespace kiln::http {

BlockingPool::BlockingPool(int threads, size_t queue_limit) : queue_limit_(queue_limit) {
  const int n = std::max(1, threads);
  threads_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
}

BlockingPool::~BlockingPool() {
  Stop();
  for (auto& t : threads_) t.join();
}

bool BlockingPool::Submit(Job job) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  // Room for one job per thread plus queue_limit_ waiting ones, whether or not the threads have
  // reached their wait yet.
  if (running_ + queue_.size() + 1 > threads_.size() + queue_limit_) return false;
  queue_.push_back(std::move(job));
  ready_.notify_one();
  return true;
}

void BlockingPool::Stop() {
  std::deque<Job> cancelled;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && queue_.empty()) return;
    stopping_ = true;
    cancelled.swap(queue_);
    ready_.notify_all();
  }
  for (Job& job : cancelled) {
    if (job.cancel) job.cancel();
  }
}

size_t BlockingPool::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

size_t BlockingPool::queued() const {
  std::lock_guard lock(mu_);
  // Jobs a free thread is about to take are not waiting.
  const size_t free_threads = threads_.size() - running_;
  return queue_.size() > free_threads ? queue_.size() - free_threads : 0;
}

void BlockingPool::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Job job = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    if (job.run) job.run();
    job = Job{};  // destroy the captures before counting the job done
    lock.lock();
    --running_;
  }
}

}  // namespace kiln::http
