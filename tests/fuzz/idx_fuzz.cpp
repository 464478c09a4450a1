// idx_fuzz: bytes -> the IDX parser, as labels (10 classes) and as images. Every input must end in success or a
// loom::Error. Built as a libFuzzer binary with LOOM_FUZZ, and replayed over corpus/idx/ in every build.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/runtime/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    loom::data::parse_labels(bytes, "fuzz-labels.idx", 10);
  } catch (const loom::Error&) {
  }
  try {
    loom::data::parse_images(bytes, "fuzz-images.idx");
  } catch (const loom::Error&) {
  }
  return 0;
}
