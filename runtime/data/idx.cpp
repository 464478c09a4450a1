#include "loom/runtime/data/idx.h"

#include <zlib.h>

#include <fmt/format.h>

namespace loom::data {

namespace {

/// Every byte of a gzip-compressed or plain file (gzread passes plain files through).
std::vector<std::uint8_t> read_all(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw Error(fmt::format("{}: cannot open the file", path));
  std::vector<std::uint8_t> bytes;
  std::uint8_t chunk[1 << 16];
  for (;;) {
    int n = gzread(file, chunk, sizeof chunk);
    if (n < 0) {
      int code = 0;
      std::string why = gzerror(file, &code);
      gzclose(file);
      throw Error(fmt::format("{}: the compressed data is damaged ({})", path, why));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  gzclose(file);
  return bytes;
}

std::uint32_t big_endian(const std::vector<std::uint8_t>& bytes, std::size_t at) {
  return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) | (std::uint32_t{bytes[at + 2]} << 8) |
         bytes[at + 3];
}

}  // namespace

IdxFile read_idx(const std::string& path, IdxKind kind) {
  std::vector<std::uint8_t> bytes = read_all(path);
  const char* what = kind == IdxKind::labels ? "labels" : "images";
  std::uint32_t expected_magic = kind == IdxKind::labels ? 2049 : 2051;
  std::size_t rank = kind == IdxKind::labels ? 1 : 3;
  if (bytes.size() < 4) throw Error(fmt::format("{}: {} bytes, shorter than an IDX header", path, bytes.size()));
  std::uint32_t magic = big_endian(bytes, 0);
  if (bytes[0] != 0 || bytes[1] != 0)
    throw Error(fmt::format("{}: magic number {} is not IDX {} ({})", path, magic, what, expected_magic));
  if (bytes[2] != 0x08)
    throw Error(fmt::format("{}: element type byte 0x{:02x} is not 0x08 (unsigned byte)", path, bytes[2]));
  if (bytes[3] != rank) throw Error(fmt::format("{}: {} dimensions, IDX {} have {}", path, bytes[3], what, rank));
  if (magic != expected_magic) throw Error(fmt::format("{}: magic number {} is not IDX {} ({})", path, magic, what, expected_magic));
  std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header) throw Error(fmt::format("{}: truncated inside the header ({} of {} bytes)", path, bytes.size(), header));
  IdxFile file;
  std::uint64_t payload = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    std::uint32_t size = big_endian(bytes, 4 + 4 * d);
    if (size == 0) throw Error(fmt::format("{}: dimension {} is 0", path, d));
    file.shape.push_back(size);
    payload *= size;
  }
  if (bytes.size() - header < payload)
    throw Error(fmt::format("{}: truncated: the header promises {} bytes of data, the file has {}", path, payload, bytes.size() - header));
  if (bytes.size() - header > payload)
    throw Error(fmt::format("{}: {} bytes after the {} bytes of data the header promises", path, bytes.size() - header - payload, payload));
  file.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return file;
}

Array read_labels(const std::string& path, std::int64_t classes) {
  IdxFile file = read_idx(path, IdxKind::labels);
  Array labels(DType::i32, file.shape);
  for (std::size_t i = 0; i < file.bytes.size(); ++i) {
    if (file.bytes[i] >= classes)
      throw Error(fmt::format("{}: label {} of example {} is not below the {} classes", path, file.bytes[i], i, classes));
    labels.data<std::int32_t>()[i] = file.bytes[i];
  }
  return labels;
}

Array read_images(const std::string& path) {
  IdxFile file = read_idx(path, IdxKind::images);
  Array images(DType::f32, {file.shape[0], file.shape[1] * file.shape[2]});
  float* out = images.data<float>();
  for (std::size_t i = 0; i < file.bytes.size(); ++i) out[i] = static_cast<float>(file.bytes[i]) / 255.0f;
  return images;
}

}  // namespace loom::data
