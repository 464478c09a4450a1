// Checkpoints: the format round-trips, every damage is refused with an error naming what is wrong, and a writer
// killed at any moment leaves the previous checkpoint whole.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string_view>
#include <thread>

#include <catch2/catch.hpp>

#include "loom/loom.h"
#include "loom/runtime/checkpoint.h"

using namespace loom;

namespace {

std::string temporary_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("loom-checkpoint-test-{}", ::getpid());
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool same_bits(const Array& a, const Array& b) {
  return a.type() == b.type() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

checkpoint::Entries sample_entries() {
  return {{"fc1.W", Array::randn({3, 5}, 1)},
          {"step", Array::scalar(std::int64_t{7})},
          {"rng.step", Array::from(std::vector<double>{42.0}, {})},
          {"labels", Array::from(std::vector<std::int32_t>{1, 2, 3}, {3})},
          {"empty", Array::zeros({0, 4})},
          {"mask", Array::full({2}, 1.0, DType::b8)}};
}

}  // namespace

TEST_CASE("CRC32C is the Castagnoli checksum") {
  const char* text = "123456789";
  CHECK(checkpoint::crc32c(text, 9) == 0xE3069283u);
  CHECK(checkpoint::crc32c(text + 4, 5, checkpoint::crc32c(text, 4)) == 0xE3069283u);  // it continues
  CHECK(checkpoint::crc32c(text, 0) == 0u);
}

TEST_CASE("a checkpoint round-trips every dtype and shape bit for bit") {
  std::string path = temporary_path("roundtrip.ckpt");
  checkpoint::Entries saved = sample_entries();
  checkpoint::save(path, saved);
  checkpoint::Entries loaded = checkpoint::load(path);
  REQUIRE(loaded.size() == saved.size());
  for (std::size_t k = 0; k < saved.size(); ++k) {
    CHECK(loaded[k].first == saved[k].first);
    CHECK(same_bits(loaded[k].second, saved[k].second));
  }
  CHECK_FALSE(std::filesystem::exists(path + fmt::format(".tmp.{}", ::getpid())));  // no temporary left behind
}

TEST_CASE("a damaged or truncated checkpoint is refused with an error that names what is wrong") {
  std::string path = temporary_path("damaged.ckpt"), copy = temporary_path("copy.ckpt");
  checkpoint::save(path, sample_entries());
  const std::vector<char> good = read_bytes(path);
  auto refused = [&](const std::vector<char>& bytes) -> std::string {
    write_bytes(copy, bytes);
    try {
      checkpoint::load(copy);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };

  SECTION("each flipped bit is caught") {
    for (std::size_t at = 0; at < good.size(); ++at) {
      std::vector<char> bad = good;
      bad[at] = static_cast<char>(bad[at] ^ 0x10);
      std::string why = refused(bad);
      INFO("byte " << at);
      CHECK_THAT(why, Catch::Matchers::Contains(copy));
    }
    // a payload byte names its entry
    std::vector<char> bad = good;
    const std::string_view name = "fc1.W";
    auto payload = std::search(bad.begin(), bad.end(), name.begin(), name.end()) - bad.begin() + 5 + 1 + 4 + 16 + 8 + 4;
    bad[static_cast<std::size_t>(payload) + 3] ^= 1;
    CHECK_THAT(refused(bad), Catch::Matchers::Contains("('fc1.W') is damaged"));
  }
  SECTION("every truncation and any padding is refused") {
    for (std::size_t size = 0; size < good.size(); ++size) {
      INFO("size " << size);
      CHECK_FALSE(refused(std::vector<char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size))).empty());
    }
    CHECK_THAT(refused(std::vector<char>(good.begin(), good.begin() + 20)), Catch::Matchers::Contains("truncated"));
    std::vector<char> padded = good;
    padded.push_back(0);
    CHECK_THAT(refused(padded), Catch::Matchers::Contains("1 bytes after the checkpoint's end"));
  }
  SECTION("the header's fields each have their error") {
    std::vector<char> bad = good;
    bad[0] = 'X';
    CHECK_THAT(refused(bad), Catch::Matchers::Contains("not a loom checkpoint"));
    bad = good;
    bad[8] = 2;
    CHECK_THAT(refused(bad), Catch::Matchers::Contains("checkpoint version 2"));
    bad = good;
    std::swap(bad[12], bad[15]);
    CHECK_THAT(refused(bad), Catch::Matchers::Contains("another byte order"));
  }
  CHECK_THROWS_WITH(checkpoint::load(temporary_path("missing.ckpt")), Catch::Matchers::Contains("cannot open"));
}

TEST_CASE("a checkpoint write killed at any moment leaves the previous checkpoint loadable") {
  std::string path = temporary_path("killed.ckpt");
  // Large enough that a save takes a while, so kills land in every phase (writing, fsync, rename).
  // Built before forking: the child only saves (it may not start OpenMP threads after fork).
  std::vector<checkpoint::Entries> versions;
  for (int k = 0; k < 3; ++k) versions.push_back({{"W", Array::full({1 << 20}, static_cast<double>(k))}});
  checkpoint::save(path, versions[0]);
  std::mt19937 random(7);
  int kills_during_writes = 0;
  std::set<float> seen;
  // Half the kills land at a random moment after a writer's first save; the other half just after it created its
  // temporary file, so that kills inside the write, the fsync and the rename are certain even on a loaded machine.
  const int rounds = 40;
  for (int round = 0; round < rounds; ++round) {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      for (int k = 1;; ++k) checkpoint::save(path, versions[static_cast<std::size_t>(k % 3)]);
    }
    std::string temporary = path + fmt::format(".tmp.{}", child);
    if (round % 2 == 0) {
      for (int wait = 0; wait < 100000 && !std::filesystem::exists(temporary); ++wait)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(random)));
    } else {  // after the writer's first rename, so that the checkpoint does get replaced on a loaded machine too
      bool created = false;
      for (int wait = 0; wait < 100000; ++wait) {
        bool exists = std::filesystem::exists(temporary);
        if (created && !exists) break;
        created = created || exists;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 100000)(random)));
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    checkpoint::Entries loaded = checkpoint::load(path);  // throws if the kill damaged it
    REQUIRE(loaded.size() == 1);
    float first = loaded[0].second.data<float>()[0];
    CHECK(loaded[0].second.data<float>()[(1 << 20) - 1] == first);  // one version, whole
    seen.insert(first);
    kills_during_writes += std::filesystem::exists(temporary);
    std::filesystem::remove(temporary);
  }
  INFO("kills while a temporary file existed: " << kills_during_writes << " of " << rounds);
  CHECK(seen.size() >= 2);  // the writers did replace the checkpoint
  CHECK(kills_during_writes >= rounds / 4);
}

TEST_CASE("shared variables are saved and restored by name, all or nothing") {
  Graph g;
  Tensor w = g.shared("w", Array::randn({4}, 3));
  Tensor b = g.shared("b", Array::scalar(0.5f));
  std::string path = temporary_path("shared.ckpt");
  save_checkpoint(path, g.shared_variables(), {{"epoch", Array::scalar(std::int64_t{3})}});
  Array w0 = w.get_value();
  w.set_value(Array::zeros({4}));
  b.set_value(Array::scalar(2.0f));
  checkpoint::Entries rest = load_checkpoint(path, g.shared_variables());
  CHECK(same_bits(w.get_value(), w0));
  CHECK(b.get_value().item<float>() == 0.5f);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].first == "epoch");

  Graph other;
  Tensor w2 = other.shared("w", Array::zeros({4}));
  other.shared("c", Array::scalar(1.0f));
  CHECK_THROWS_WITH(load_checkpoint(path, other.shared_variables()), Catch::Matchers::Contains("no entry for 'c'"));
  CHECK(w2.get_value().data<float>()[0] == 0.0f);  // nothing changed
  Graph wrong;
  wrong.shared("w", Array::zeros({5}));
  CHECK_THROWS_WITH(load_checkpoint(path, wrong.shared_variables()),
                    Catch::Matchers::Contains("holds 'w' as f32[4], the variable is f32[5]"));
  CHECK_THROWS_WITH(save_checkpoint(path, g.shared_variables(), {{"w", Array::scalar(1.0f)}}),
                    Catch::Matchers::Contains("'w' is both a shared variable and an extra entry"));
}

TEST_CASE("a checkpoint that cannot be written names the path and the reason, and leaves no temporary file") {
  auto dir = std::filesystem::temp_directory_path() / "loom-checkpoint-unwritable";
  std::filesystem::remove_all(dir);
  std::string missing = (dir / "no-such-directory" / "run.ckpt").string();
  CHECK_THROWS_WITH(checkpoint::save(missing, sample_entries()),
                    Catch::Matchers::Contains(missing + ": cannot create") && Catch::Matchers::Contains("No such file or directory"));
  std::filesystem::create_directories(dir / "taken");
  std::string taken = (dir / "taken").string();  // a directory where the checkpoint should go
  CHECK_THROWS_WITH(checkpoint::save(taken, sample_entries()),
                    Catch::Matchers::Contains(taken + ": cannot rename") && Catch::Matchers::Contains("over it: Is a directory"));
  std::size_t left = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) left += entry.path().filename() != "taken";
  CHECK(left == 0);
  std::filesystem::remove_all(dir);
}
