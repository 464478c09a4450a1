#include "loom/runtime/data/idx.h"

#include <zlib.h>

#include <fmt/format.h>

namespace loom::data {

namespace {

/// Every byte of a gzip-compressed or plain file (gzread passes plain files through).
std::string read_all(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw Error(fmt::format("{}: cannot open the file", path));
  std::string bytes;
  char chunk[1 << 16];
  for (;;) {
    int n = gzread(file, chunk, sizeof chunk);
    if (n < 0) {
      int code = 0;
      std::string why = gzerror(file, &code);
      gzclose(file);
      throw Error(fmt::format("{}: the compressed data is damaged ({})", path, why));
    }
    if (n == 0) break;
    bytes.append(chunk, static_cast<std::size_t>(n));
  }
  gzclose(file);
  return bytes;
}

std::uint32_t big_endian(std::string_view bytes, std::size_t at) {
  auto byte = [&](std::size_t k) { return std::uint32_t{static_cast<std::uint8_t>(bytes[at + k])}; };
  return (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
}

}  // namespace

IdxFile parse_idx(std::string_view bytes, const std::string& name, IdxKind kind) {
  const char* what = kind == IdxKind::labels ? "labels" : "images";
  std::uint32_t expected_magic = kind == IdxKind::labels ? 2049 : 2051;
  std::size_t rank = kind == IdxKind::labels ? 1 : 3;
  if (bytes.size() < 4) throw Error(fmt::format("{}: {} bytes, shorter than an IDX header", name, bytes.size()));
  std::uint32_t magic = big_endian(bytes, 0);
  if (bytes[0] != 0 || bytes[1] != 0)
    throw Error(fmt::format("{}: magic number {} is not IDX {} ({})", name, magic, what, expected_magic));
  auto type = static_cast<std::uint8_t>(bytes[2]), dims = static_cast<std::uint8_t>(bytes[3]);
  if (type != 0x08) throw Error(fmt::format("{}: element type byte 0x{:02x} is not 0x08 (unsigned byte)", name, type));
  if (dims != rank) throw Error(fmt::format("{}: {} dimensions, IDX {} have {}", name, dims, what, rank));
  if (magic != expected_magic) throw Error(fmt::format("{}: magic number {} is not IDX {} ({})", name, magic, what, expected_magic));
  std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header) throw Error(fmt::format("{}: truncated inside the header ({} of {} bytes)", name, bytes.size(), header));
  IdxFile file;
  std::uint64_t payload = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    std::uint32_t size = big_endian(bytes, 4 + 4 * d);
    if (size == 0) throw Error(fmt::format("{}: dimension {} is 0", name, d));
    file.shape.push_back(size);
    // Three 32-bit dimensions can exceed 64 bits; wrapped, 2^31·2^31·4 would promise 0 bytes and pass.
    if (__builtin_mul_overflow(payload, std::uint64_t{size}, &payload))
      throw Error(fmt::format("{}: the dimensions {} promise more than 2^64 bytes", name, to_string(file.shape)));
  }
  if (bytes.size() - header < payload)
    throw Error(fmt::format("{}: truncated: the header promises {} bytes of data, the file has {}", name, payload, bytes.size() - header));
  if (bytes.size() - header > payload)
    throw Error(fmt::format("{}: {} bytes after the {} bytes of data the header promises", name, bytes.size() - header - payload, payload));
  file.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return file;
}

Array parse_labels(std::string_view bytes, const std::string& name, std::int64_t classes) {
  IdxFile file = parse_idx(bytes, name, IdxKind::labels);
  Array labels(DType::i32, file.shape);
  for (std::size_t i = 0; i < file.bytes.size(); ++i) {
    if (file.bytes[i] >= classes)
      throw Error(fmt::format("{}: label {} of example {} is not below the {} classes", name, file.bytes[i], i, classes));
    labels.data<std::int32_t>()[i] = file.bytes[i];
  }
  return labels;
}

Array parse_images(std::string_view bytes, const std::string& name) {
  IdxFile file = parse_idx(bytes, name, IdxKind::images);
  Array images(DType::f32, {file.shape[0], file.shape[1] * file.shape[2]});
  float* out = images.data<float>();
  for (std::size_t i = 0; i < file.bytes.size(); ++i) out[i] = static_cast<float>(file.bytes[i]) / 255.0f;
  return images;
}

IdxFile read_idx(const std::string& path, IdxKind kind) { return parse_idx(read_all(path), path, kind); }

Array read_labels(const std::string& path, std::int64_t classes) { return parse_labels(read_all(path), path, classes); }

Array read_images(const std::string& path) { return parse_images(read_all(path), path); }

}  // namespace loom::data
