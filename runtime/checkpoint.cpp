#include "loom/runtime/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace loom::checkpoint {

namespace {

constexpr char kMagic[8] = {'L', 'O', 'O', 'M', 'C', 'K', 'P', 'T'};
constexpr char kEnd[8] = {'L', 'O', 'O', 'M', 'E', 'N', 'D', '!'};
constexpr std::uint32_t kVersion = 1, kByteOrder = 0x01020304;

/// CRC32C's table (reflected polynomial 0x82F63B78). Written here because Debian 12 packages no C++ CRC32C library
/// (zlib's crc32 is the IEEE polynomial, not the one the format promises).
constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kTable = make_table();

class Writer {
 public:
  void bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    out_.insert(out_.end(), p, p + size);
  }
  template <class T>
  void value(T v) {
    bytes(&v, sizeof v);
  }
  const std::vector<char>& data() const { return out_; }

 private:
  std::vector<char> out_;
};

class Reader {
 public:
  Reader(const std::string& name, std::string_view data) : name_(name), data_(data) {}
  const char* bytes(std::size_t size, std::string_view what) {
    if (data_.size() - at_ < size)
      throw Error(fmt::format("{}: truncated checkpoint: {} needs {} bytes, {} are left", name_, what, size, data_.size() - at_));
    const char* p = data_.data() + at_;
    at_ += size;
    return p;
  }
  template <class T>
  T value(std::string_view what) {
    T v;
    std::memcpy(&v, bytes(sizeof v, what), sizeof v);
    return v;
  }
  std::size_t at() const { return at_; }
  std::size_t size() const { return data_.size(); }
  const char* data() const { return data_.data(); }

 private:
  const std::string& name_;
  std::string_view data_;
  std::size_t at_ = 0;
};

void write_all(int fd, const std::vector<char>& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("{}: cannot write the checkpoint: {}", path, std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
}

void sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // renamed already; a directory that cannot be opened cannot be synced either
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void save(const std::string& path, const Entries& entries) {
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.value(kVersion);
  w.value(kByteOrder);
  w.value(static_cast<std::uint64_t>(entries.size()));
  for (const auto& [name, array] : entries) {
    w.value(static_cast<std::uint32_t>(name.size()));
    w.bytes(name.data(), name.size());
    w.value(static_cast<std::uint8_t>(array.dtype()));
    w.value(static_cast<std::uint32_t>(array.rank()));
    for (std::int64_t d : array.shape()) w.value(d);
    w.value(static_cast<std::uint64_t>(array.nbytes()));
    w.value(crc32c(array.raw(), array.nbytes()));
    w.bytes(array.raw(), array.nbytes());
  }
  w.bytes(kEnd, sizeof kEnd);
  w.value(crc32c(w.data().data(), w.data().size()));

  std::filesystem::path target(path);
  std::string temporary = (target.parent_path() / (target.filename().string() + fmt::format(".tmp.{}", ::getpid()))).string();
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error(fmt::format("{}: cannot create {}: {}", path, temporary, std::strerror(errno)));
  try {
    write_all(fd, w.data(), path);
    if (::fsync(fd) != 0) throw Error(fmt::format("{}: cannot flush the checkpoint: {}", path, std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    std::filesystem::remove(temporary);
    throw;
  }
  ::close(fd);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::filesystem::remove(temporary);
    throw Error(fmt::format("{}: cannot rename {} over it: {}", path, temporary, why));
  }
  sync_directory(target.parent_path());
}

Entries load(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw Error(fmt::format("{}: cannot open the checkpoint: {}", path, std::strerror(errno)));
  std::string data;
  char chunk[1 << 16];
  for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, file)) > 0;) data.append(chunk, n);
  std::fclose(file);
  return parse(data, path);
}

Entries parse(std::string_view bytes, const std::string& name) {
  Reader r(name, bytes);
  if (std::memcmp(r.bytes(sizeof kMagic, "the magic"), kMagic, sizeof kMagic) != 0)
    throw Error(fmt::format("{}: not a loom checkpoint (no LOOMCKPT magic)", name));
  auto version = r.value<std::uint32_t>("the version");
  if (r.value<std::uint32_t>("the byte order") != kByteOrder)  // first: another byte order garbles the version too
    throw Error(fmt::format("{}: the checkpoint was written with another byte order", name));
  if (version != kVersion)
    throw Error(fmt::format("{}: checkpoint version {}, this build reads version {}", name, version, kVersion));
  auto count = r.value<std::uint64_t>("the entry count");
  Entries entries;
  for (std::uint64_t k = 0; k < count; ++k) {
    std::string what = fmt::format("entry {}", k);
    auto name_size = r.value<std::uint32_t>(what);
    std::string entry_name(r.bytes(name_size, what), name_size);
    what = fmt::format("entry {} ('{}')", k, entry_name);
    auto dtype = r.value<std::uint8_t>(what);
    if (dtype > static_cast<std::uint8_t>(DType::b8)) throw Error(fmt::format("{}: {} has an unknown dtype {}", name, what, dtype));
    auto rank = r.value<std::uint32_t>(what);
    if (rank > 64) throw Error(fmt::format("{}: {} has rank {}", name, what, rank));
    Shape shape;
    std::uint64_t expected = size_of(static_cast<DType>(dtype));
    for (std::uint32_t d = 0; d < rank; ++d) {
      shape.push_back(r.value<std::int64_t>(what));
      if (shape.back() < 0) throw Error(fmt::format("{}: {} has a negative dimension", name, what));
      if (__builtin_mul_overflow(expected, static_cast<std::uint64_t>(shape.back()), &expected))
        throw Error(fmt::format("{}: {} has dimensions whose size overflows", name, what));
    }
    auto payload_size = r.value<std::uint64_t>(what);
    auto crc = r.value<std::uint32_t>(what);
    if (payload_size != expected)
      throw Error(fmt::format("{}: {} holds {} bytes, its type needs {}", name, what, payload_size, expected));
    const char* payload = r.bytes(payload_size, what);
    if (crc32c(payload, payload_size) != crc) throw Error(fmt::format("{}: {} is damaged (its CRC32C does not match)", name, what));
    Array array(static_cast<DType>(dtype), shape);
    std::memcpy(array.raw(), payload, payload_size);
    entries.emplace_back(std::move(entry_name), std::move(array));
  }
  std::size_t checked = r.at();
  if (std::memcmp(r.bytes(sizeof kEnd, "the end marker"), kEnd, sizeof kEnd) != 0)
    throw Error(fmt::format("{}: the checkpoint does not end where its entries do", name));
  auto crc = r.value<std::uint32_t>("the file checksum");
  if (crc32c(r.data(), checked + sizeof kEnd) != crc) throw Error(fmt::format("{}: the checkpoint's header is damaged", name));
  if (r.at() != r.size()) throw Error(fmt::format("{}: {} bytes after the checkpoint's end", name, r.size() - r.at()));
  return entries;
}

}  // namespace loom::checkpoint
