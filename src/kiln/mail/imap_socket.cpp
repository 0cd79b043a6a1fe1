#include "kiln/mail/imap_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vmime/exception.hpp>
#include <vmime/net/tracer.hpp>

namespace kiln::mail {
namespace {

[[noreturn]] void ThrowSocketError(const std::string& what, int err) {
  throw vmime::exceptions::socket_exception(what + ": " + std::strerror(err));
}

class NoDelaySocket : public vmime::net::socket {
 public:
  NoDelaySocket(vmime::shared_ptr<vmime::net::timeoutHandler> th,
                std::chrono::milliseconds connect_timeout)
      : timeout_handler_(std::move(th)), connect_timeout_(connect_timeout) {}
  ~NoDelaySocket() override { Close(); }

  void connect(const vmime::string& address, const vmime::port_t port) override {
    Close();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    const std::string service = std::to_string(port);
    const int gai = ::getaddrinfo(address.c_str(), service.c_str(), &hints, &list);
    if (gai != 0) {
      throw vmime::exceptions::connection_error("cannot resolve " + address + ": " +
                                                ::gai_strerror(gai));
    }
    std::string last_error = "no address";
    for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
      const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) {
        last_error = std::strerror(errno);
        continue;
      }
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = ::poll(&p, 1, static_cast<int>(connect_timeout_.count()));
        if (rc == 0) {
          last_error =
              "connect timed out after " + std::to_string(connect_timeout_.count()) + " ms";
          ::close(fd);
          continue;
        }
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        errno = err;
      }
      if (rc != 0) {
        last_error = std::strerror(errno);
        ::close(fd);
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      char host[NI_MAXHOST] = {0};
      ::getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), nullptr, 0, NI_NUMERICHOST);
      peer_address_ = host;
      fd_ = fd;
      break;
    }
    ::freeaddrinfo(list);
    if (fd_ < 0) {
      throw vmime::exceptions::connection_error("cannot connect to " + address + ":" + service +
                                                ": " + last_error);
    }
    peer_name_ = address;
    if (timeout_handler_) timeout_handler_->resetTimeOut();
  }

  bool isConnected() const override { return fd_ >= 0; }
  int fd() const { return fd_; }
  void disconnect() override { Close(); }

  bool waitForRead(const int msecs) override { return Wait(POLLIN, msecs); }
  bool waitForWrite(const int msecs) override { return Wait(POLLOUT, msecs); }

  void receive(vmime::string& buffer) override {
    const size_t n = receiveRaw(buffer_, sizeof(buffer_));
    buffer.assign(reinterpret_cast<const char*>(buffer_), n);
  }

  size_t receiveRaw(vmime::byte_t* buffer, const size_t count) override {
    status_ &= ~STATUS_WOULDBLOCK;
    if (!waitForRead(50)) {
      CheckTimeout();
      status_ |= STATUS_WOULDBLOCK;
      return 0;
    }
    const ssize_t n = ::recv(fd_, buffer, count, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        status_ |= STATUS_WOULDBLOCK;
        return 0;
      }
      ThrowSocketError("receive from " + peer_name_, errno);
    }
    if (n == 0) throw vmime::exceptions::socket_exception("connection closed by " + peer_name_);
    if (timeout_handler_) timeout_handler_->resetTimeOut();
    return static_cast<size_t>(n);
  }

  void send(const vmime::string& buffer) override {
    sendRaw(reinterpret_cast<const vmime::byte_t*>(buffer.data()), buffer.size());
  }
  void send(const char* str) override {
    sendRaw(reinterpret_cast<const vmime::byte_t*>(str), std::strlen(str));
  }

  void sendRaw(const vmime::byte_t* buffer, const size_t count) override {
    status_ &= ~STATUS_WOULDBLOCK;
    size_t sent = 0;
    while (sent < count) {
      const size_t n = sendRawNonBlocking(buffer + sent, count - sent);
      if (n == 0) {
        if (!waitForWrite(50)) CheckTimeout();
        continue;
      }
      sent += n;
    }
    status_ &= ~STATUS_WOULDBLOCK;
  }

  size_t sendRawNonBlocking(const vmime::byte_t* buffer, const size_t count) override {
    status_ &= ~STATUS_WOULDBLOCK;
    if (fd_ < 0) throw vmime::exceptions::socket_exception("send on a closed socket");
    const ssize_t n = ::send(fd_, buffer, count, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        status_ |= STATUS_WOULDBLOCK;
        return 0;
      }
      ThrowSocketError("send to " + peer_name_, errno);
    }
    if (timeout_handler_) timeout_handler_->resetTimeOut();
    return static_cast<size_t>(n);
  }

  size_t getBlockSize() const override { return 16384; }
  unsigned int getStatus() const override { return status_; }
  const vmime::string getPeerName() const override { return peer_name_; }
  const vmime::string getPeerAddress() const override { return peer_address_; }
  vmime::shared_ptr<vmime::net::timeoutHandler> getTimeoutHandler() override {
    return timeout_handler_;
  }
  void setTracer(vmime::shared_ptr<vmime::net::tracer> tracer) override { tracer_ = tracer; }
  vmime::shared_ptr<vmime::net::tracer> getTracer() override { return tracer_; }

 private:
  void Close() {
    if (fd_ >= 0) {
      ::shutdown(fd_, SHUT_RDWR);
      ::close(fd_);
      fd_ = -1;
    }
  }

  bool Wait(short events, int msecs) {
    if (fd_ < 0) throw vmime::exceptions::socket_exception("wait on a closed socket");
    pollfd p{fd_, events, 0};
    const int rc = ::poll(&p, 1, msecs);
    if (rc < 0) {
      if (errno == EINTR) return false;
      ThrowSocketError("poll", errno);
    }
    return rc > 0;
  }

  void CheckTimeout() {
    if (timeout_handler_ && timeout_handler_->isTimeOut()) {
      if (!timeout_handler_->handleTimeOut()) {
        throw vmime::exceptions::operation_timed_out();
      }
      timeout_handler_->resetTimeOut();
    }
  }

  vmime::shared_ptr<vmime::net::timeoutHandler> timeout_handler_;
  vmime::shared_ptr<vmime::net::tracer> tracer_;
  std::chrono::milliseconds connect_timeout_;
  int fd_ = -1;
  unsigned int status_ = 0;
  std::string peer_name_;
  std::string peer_address_;
  vmime::byte_t buffer_[65536];
};

}  // namespace

ClockTimeoutHandler::ClockTimeoutHandler(const Clock& clock, std::chrono::milliseconds timeout)
    : clock_(clock), timeout_(timeout), last_activity_(clock.Now()) {}

bool ClockTimeoutHandler::isTimeOut() { return clock_.Now() - last_activity_ >= timeout_; }
void ClockTimeoutHandler::resetTimeOut() { last_activity_ = clock_.Now(); }
bool ClockTimeoutHandler::handleTimeOut() { return false; }

vmime::shared_ptr<vmime::net::timeoutHandler> ClockTimeoutHandlerFactory::create() {
  return vmime::make_shared<ClockTimeoutHandler>(clock_, timeout_);
}

vmime::shared_ptr<vmime::net::socket> NoDelaySocketFactory::create() {
  return vmime::make_shared<NoDelaySocket>(nullptr, connect_timeout_);
}

vmime::shared_ptr<vmime::net::socket> NoDelaySocketFactory::create(
    vmime::shared_ptr<vmime::net::timeoutHandler> th) {
  return vmime::make_shared<NoDelaySocket>(std::move(th), connect_timeout_);
}

int SocketDescriptor(const vmime::net::socket& socket) {
  const auto* ours = dynamic_cast<const NoDelaySocket*>(&socket);
  return ours ? ours->fd() : -1;
}

bool HasTcpNoDelay(int fd) {
  int v = 0;
  socklen_t len = sizeof(v);
  return ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 && v != 0;
}

}  // namespace kiln::mail
