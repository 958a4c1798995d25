#include "redis/redis_asio_adapter.hpp"

#include <memory>

#include <hiredis/async.h>

namespace progress::server {
namespace {

// One context's socket. hiredis owns the fd (it closes it when freed), so the descriptor is
// released, never closed, on cleanup. Waits in flight keep the watch alive after cleanup and
// then see `attached` false.
struct fd_watch : std::enable_shared_from_this<fd_watch> {
  fd_watch(net::io_context& ioc, redisAsyncContext* ac) : fd(ioc, ac->c.fd), context(ac) {}

  void arm_read() {
    if (!attached || !want_read || read_waiting) return;
    read_waiting = true;
    fd.async_wait(net::posix::stream_descriptor::wait_read, [self = shared_from_this()](error_code ec) {
      self->read_waiting = false;
      if (ec || !self->attached || !self->want_read) return;
      redisAsyncHandleRead(self->context);  // may free the context: cleanup clears `attached`
      self->arm_read();
    });
  }

  void arm_write() {
    if (!attached || !want_write || write_waiting) return;
    write_waiting = true;
    fd.async_wait(net::posix::stream_descriptor::wait_write, [self = shared_from_this()](error_code ec) {
      self->write_waiting = false;
      if (ec || !self->attached || !self->want_write) return;
      redisAsyncHandleWrite(self->context);
      self->arm_write();
    });
  }

  net::posix::stream_descriptor fd;
  redisAsyncContext* context;
  bool attached = true;
  bool want_read = false;
  bool want_write = false;
  bool read_waiting = false;
  bool write_waiting = false;
};

fd_watch& watch_of(void* privdata) { return **static_cast<std::shared_ptr<fd_watch>*>(privdata); }

void add_read(void* privdata) {
  auto& w = watch_of(privdata);
  w.want_read = true;
  w.arm_read();
}

void del_read(void* privdata) { watch_of(privdata).want_read = false; }

void add_write(void* privdata) {
  auto& w = watch_of(privdata);
  w.want_write = true;
  w.arm_write();
}

void del_write(void* privdata) { watch_of(privdata).want_write = false; }

void cleanup(void* privdata) {
  auto* holder = static_cast<std::shared_ptr<fd_watch>*>(privdata);
  fd_watch& w = **holder;
  w.attached = false;
  w.want_read = w.want_write = false;
  w.fd.release();  // cancels the waits; hiredis closes the fd itself
  delete holder;
}

}  // namespace

bool attach_to_asio(redisAsyncContext* context, net::io_context& ioc) {
  if (context == nullptr || context->err != 0 || context->ev.data != nullptr) return false;
  auto* holder = new std::shared_ptr<fd_watch>(std::make_shared<fd_watch>(ioc, context));
  context->ev.data = holder;
  context->ev.addRead = add_read;
  context->ev.delRead = del_read;
  context->ev.addWrite = add_write;
  context->ev.delWrite = del_write;
  context->ev.cleanup = cleanup;
  // The connect completes on the first writable event, whether or not a command is queued yet.
  add_write(holder);
  return true;
}

}  // namespace progress::server
