#pragma once
/// The disk cache of compiled kernel objects, so a second compile of the same graph is near free.
///
/// Entries live under $LOOM_CACHE_DIR (else ~/.cache/loom), named by a SHA-256 of everything that determines
/// the object: the kernels' unoptimized LLVM module (its bitcode), the CPU name and features, the LLVM version and the entry format. An entry is
/// "LOOMOBJ1", the payload's length (8 bytes), its SHA-256 (32 bytes), then the object; one whose length or
/// checksum does not match is never loaded (the caller recompiles and replaces it). Writes go to a temporary file
/// renamed into place, so a crash or a concurrent writer never leaves a torn entry.

#include <optional>
#include <string>

namespace loom::codegen::llvm_backend {

class ObjectCache {
 public:
  /// The cache in $LOOM_CACHE_DIR or ~/.cache/loom; disabled (a no-op) when LOOM_CACHE_DIR is "off".
  static ObjectCache from_environment();
  explicit ObjectCache(std::string directory) : directory_(std::move(directory)) {}

  /// The key of a module: hex SHA-256 of its parts.
  static std::string key(const std::string& module, const std::string& cpu, const std::string& features);
  /// The object stored under `key`, if present and intact.
  std::optional<std::string> load(const std::string& key) const;
  /// Stores `object` under `key` atomically; failures to write are ignored (the cache is an optimization).
  void store(const std::string& key, const std::string& object) const;
  std::string path(const std::string& key) const;
  bool enabled() const { return !directory_.empty(); }

 private:
  std::string directory_;
};

}  // namespace loom::codegen::llvm_backend
