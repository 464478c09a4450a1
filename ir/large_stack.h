#pragma once
/// Running deep recursions safely: compilation walks graphs recursively (the kernel emitter follows a chain of
/// ops operand by operand), and a chain of 16,000 ops overflows a thread's default 8 MiB stack. Compiling on a
/// thread of its own with a large stack (reserved, committed only as used) makes such chains work; the walks that
/// could go deeper still stop with an Error at their own depth limits.

#include <cstddef>
#include <functional>

namespace loom::ir {

/// The stack compile() and the parser run on: 1 GiB of address space, about two million frames of the emitter.
inline constexpr std::size_t kCompileStackBytes = std::size_t{1} << 30;

/// Runs `fn` on a new thread with a stack of `bytes` and waits for it; an exception `fn` throws is rethrown here.
void run_on_large_stack(const std::function<void()>& fn, std::size_t bytes = kCompileStackBytes);

}  // namespace loom::ir
