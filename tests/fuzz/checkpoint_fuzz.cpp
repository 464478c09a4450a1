// checkpoint_fuzz: bytes -> the checkpoint parser. Every input must end in success or a loom::Error. Built as a
// libFuzzer binary with LOOM_FUZZ, and replayed over corpus/checkpoint/ in every build.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/runtime/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    loom::checkpoint::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.ckpt");
  } catch (const loom::Error&) {
  }
  return 0;
}
