// vmime plumbing for ImapInbox: a TCP socket with TCP_NODELAY and a connect timeout, and a
// timeout handler that reads time from Kiln's Clock.
//
// vmime's own posixSocket leaves Nagle's algorithm on (measured: ~22 commands/s per connection
// against ~1.1k/s with TCP_NODELAY) and does not expose its descriptor, so Kiln supplies the
// socket through vmime's socketFactory hook. Semantics follow vmime's posixSocket: non-blocking
// I/O, receive returns 0 with STATUS_WOULDBLOCK when no data is ready, and an I/O wait longer than
// the timeout handler allows throws vmime::exceptions::socket_exception. These classes throw vmime
// exceptions by contract (vmime expects it); ImapInbox catches them at its edge.
//
// Thread-safety: a socket and a timeout handler belong to one connection, used by one thread.
// The factories are immutable and may be shared.
#pragma once

#include <chrono>
#include <memory>
#include <vmime/net/socket.hpp>
#include <vmime/net/timeoutHandler.hpp>

#include "kiln/base/clock.h"

namespace kiln::mail {

// Fails an operation when the server has sent nothing for `timeout` (measured with `clock`).
class ClockTimeoutHandler : public vmime::net::timeoutHandler {
 public:
  ClockTimeoutHandler(const Clock& clock, std::chrono::milliseconds timeout);
  bool isTimeOut() override;
  void resetTimeOut() override;
  bool handleTimeOut() override;  // always false: give up

 private:
  const Clock& clock_;
  std::chrono::milliseconds timeout_;
  TimePoint last_activity_;
};

class ClockTimeoutHandlerFactory : public vmime::net::timeoutHandlerFactory {
 public:
  ClockTimeoutHandlerFactory(const Clock& clock, std::chrono::milliseconds timeout)
      : clock_(clock), timeout_(timeout) {}
  vmime::shared_ptr<vmime::net::timeoutHandler> create() override;

 private:
  const Clock& clock_;
  std::chrono::milliseconds timeout_;
};

// Creates NoDelaySocket instances (see imap_socket.cpp) with the given connect timeout.
class NoDelaySocketFactory : public vmime::net::socketFactory {
 public:
  explicit NoDelaySocketFactory(std::chrono::milliseconds connect_timeout)
      : connect_timeout_(connect_timeout) {}
  vmime::shared_ptr<vmime::net::socket> create() override;
  vmime::shared_ptr<vmime::net::socket> create(
      vmime::shared_ptr<vmime::net::timeoutHandler> th) override;

 private:
  std::chrono::milliseconds connect_timeout_;
};

// The descriptor of a connected socket made by NoDelaySocketFactory; -1 for any other socket or
// when not connected.
int SocketDescriptor(const vmime::net::socket& socket);

// Whether the socket `fd` has TCP_NODELAY set (for tests and `kiln doctor`).
bool HasTcpNoDelay(int fd);

}  // namespace kiln::mail
