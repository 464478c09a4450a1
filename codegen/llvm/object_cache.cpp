#include "loom/codegen/llvm/object_cache.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <llvm/Config/llvm-config.h>
#include <llvm/ADT/ArrayRef.h>
#include <llvm/Support/SHA256.h>

namespace loom::codegen::llvm_backend {

namespace {

constexpr char kMagic[] = "LOOMOBJ1";
constexpr std::size_t kMagicSize = sizeof(kMagic) - 1, kDigestSize = 32;

std::string digest(const std::string& data) {
  auto hash = llvm::SHA256::hash(llvm::ArrayRef<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
  return std::string(hash.begin(), hash.end());
}

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

ObjectCache ObjectCache::from_environment() {
  if (const char* dir = std::getenv("LOOM_CACHE_DIR")) return ObjectCache(std::string(dir) == "off" ? "" : dir);
  if (const char* home = std::getenv("HOME")) return ObjectCache(std::string(home) + "/.cache/loom");
  return ObjectCache("");
}

std::string ObjectCache::key(const std::string& module, const std::string& cpu, const std::string& features) {
  std::string parts = std::string(kMagic) + "\n" + LLVM_VERSION_STRING + "\n" + cpu + "\n" + features + "\n" + module;
  return hex(digest(parts));
}

std::string ObjectCache::path(const std::string& key) const { return directory_ + "/" + key + ".o"; }

std::optional<std::string> ObjectCache::load(const std::string& key) const {
  if (!enabled()) return std::nullopt;
  std::ifstream in(path(key), std::ios::binary);
  if (!in) return std::nullopt;
  std::string entry((std::istreambuf_iterator<char>(in)), {});
  if (entry.size() < kMagicSize + 8 + kDigestSize || entry.compare(0, kMagicSize, kMagic) != 0) return std::nullopt;
  std::uint64_t size = 0;
  std::memcpy(&size, entry.data() + kMagicSize, 8);
  std::size_t header = kMagicSize + 8 + kDigestSize;
  if (entry.size() != header + size) return std::nullopt;  // truncated or padded
  std::string object = entry.substr(header);
  if (digest(object) != entry.substr(kMagicSize + 8, kDigestSize)) return std::nullopt;  // corrupted
  return object;
}

void ObjectCache::store(const std::string& key, const std::string& object) const {
  if (!enabled()) return;
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  std::string temp = path(key) + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary);
    std::uint64_t size = object.size();
    out.write(kMagic, kMagicSize);
    out.write(reinterpret_cast<const char*>(&size), 8);
    out << digest(object) << object;
    if (!out) {
      std::filesystem::remove(temp, error);
      return;
    }
  }
  std::filesystem::rename(temp, path(key), error);
  if (error) std::filesystem::remove(temp, error);
}

}  // namespace loom::codegen::llvm_backend
