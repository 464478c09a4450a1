#pragma once
/// The IDX format of MNIST and Fashion-MNIST (LeCun et al.): a big-endian header — two zero bytes, a type byte, the
/// number of dimensions, each dimension as a 32-bit integer — then the elements. Files may be gzip-compressed
/// (read through zlib) or plain. The parse_* functions check bytes already in memory (decompressed), so tests and
/// the fuzzer (tests/fuzz/idx_fuzz.cpp) reach every check without a file; read_* read a file and call them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loom/runtime/array.h"

namespace loom::data {

/// What a file must hold: 2049 (0x00000801) labels, one unsigned byte per example; 2051 (0x00000803) images,
/// unsigned bytes [N, rows, cols].
enum class IdxKind { labels, images };

/// An IDX file's unsigned bytes and their shape.
struct IdxFile {
  Shape shape;
  std::vector<std::uint8_t> bytes;
};

/// Checks `bytes`: the magic number of `kind`, the type byte (unsigned byte), the rank, every dimension above zero,
/// a payload size that fits 64 bits, and exactly header + payload bytes (neither truncated nor padded). Each failure is a distinct Error naming
/// `name` (the file) and what is wrong.
IdxFile parse_idx(std::string_view bytes, const std::string& name, IdxKind kind);
/// Labels as i32 [N], each checked below `classes`.
Array parse_labels(std::string_view bytes, const std::string& name, std::int64_t classes);
/// Images as f32 [N, rows·cols], scaled from [0, 255] to [0, 1].
Array parse_images(std::string_view bytes, const std::string& name);

/// The same, from the file at `path` (gzip-compressed or plain); a file that cannot be opened or decompressed is
/// an Error too.
IdxFile read_idx(const std::string& path, IdxKind kind);
Array read_labels(const std::string& path, std::int64_t classes);
Array read_images(const std::string& path);

}  // namespace loom::data
