#include "loom/ir/large_stack.h"

#include <pthread.h>

#include <cstring>
#include <exception>

#include <fmt/format.h>

#include "loom/ir/error.h"

namespace loom::ir {

namespace {

struct Task {
  const std::function<void()>* fn;
  std::exception_ptr error;
};

void* run_task(void* argument) {
  auto* task = static_cast<Task*>(argument);
  try {
    (*task->fn)();
  } catch (...) {
    task->error = std::current_exception();
  }
  return nullptr;
}

}  // namespace

void run_on_large_stack(const std::function<void()>& fn, std::size_t bytes) {
  // std::thread cannot choose its stack size; pthreads can.
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, bytes);
  Task task{&fn, nullptr};
  pthread_t thread;
  int failed = pthread_create(&thread, &attributes, run_task, &task);
  pthread_attr_destroy(&attributes);
  if (failed) throw Error(fmt::format("cannot start a thread with a {} MiB stack to compile on: {}", bytes >> 20, std::strerror(failed)));
  pthread_join(thread, nullptr);
  if (task.error) std::rethrow_exception(task.error);
}

}  // namespace loom::ir
