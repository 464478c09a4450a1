#pragma once
/// Checkpoints: named arrays in a versioned binary file, written so that a crash never damages the previous one.
///
/// Layout (little-endian): "LOOMCKPT", version (u32, 1), the byte-order mark 0x01020304 (u32), the number of
/// entries (u64); per entry: name length (u32) and name, dtype (u8), rank (u32), dimensions (i64 each), payload
/// length (u64), CRC32C of the payload (u32), payload; then "LOOMEND!" and the CRC32C of everything before it.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/runtime/array.h"

namespace loom::checkpoint {

using Entries = std::vector<std::pair<std::string, Array>>;

/// Writes `entries` to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs the directory:
/// `path` holds either the previous checkpoint or this one, whole, whatever happens meanwhile.
void save(const std::string& path, const Entries& entries);

/// Reads `path` and parses it; a file that cannot be opened is an Error too.
Entries load(const std::string& path);

/// Checks `bytes` (a whole checkpoint in memory): the magic, version, byte order, every entry's CRC32C and the end;
/// a truncated or damaged checkpoint is an Error naming `name` (the file), the entry and what is wrong. Separate
/// from load() so that the fuzzer (tests/fuzz/checkpoint_fuzz.cpp) reaches every check without a file.
Entries parse(std::string_view bytes, const std::string& name);

/// CRC32C (Castagnoli), the checksum of each entry.
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);

}  // namespace loom::checkpoint
