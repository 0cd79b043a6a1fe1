// CountingFakeTransport: a fake mail::Transport for benches that measure Kiln's own cost without
// any network. Every Send is accepted at once (250, class kAccepted) and adds one to a counter the
// caller owns; Close does nothing. CountingFakeTransportFactory hands one to an engine::Scheduler
// for every sender. Not thread-safe: the counter is a plain int64_t, so every transport sharing
// one counter must run on the same thread (as a Scheduler's do on its io_context).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string_view>

#include "kiln/base/status.h"
#include "kiln/engine/scheduler.h"
#include "kiln/mail/transport.h"

namespace kiln::bench {

class CountingFakeTransport final : public mail::Transport {
 public:
  // `count` must outlive the transport; it is incremented once per Send.
  explicit CountingFakeTransport(int64_t* count) : count_(count) {}

  // Always succeeds: a result of class kAccepted with code 250.
  boost::asio::awaitable<mail::SendResult> Send(const mail::Envelope&, std::string_view) override {
    ++*count_;
    mail::SendResult r;
    r.cls = mail::SendResult::Class::kAccepted;
    r.code = 250;
    co_return r;
  }
  // Never fails; there is no connection to close.
  boost::asio::awaitable<void> Close() override { co_return; }

 private:
  int64_t* count_;
};

// A TransportFactory that opens a CountingFakeTransport on `count` for every sender; never fails.
// `count` must outlive the factory and every transport it made.
inline engine::TransportFactory CountingFakeTransportFactory(int64_t* count) {
  return [count](const engine::SenderInfo&,
                 boost::asio::any_io_executor) -> Result<std::unique_ptr<mail::Transport>> {
    return std::unique_ptr<mail::Transport>(std::make_unique<CountingFakeTransport>(count));
  };
}

}  // namespace kiln::bench
