// Resuming a run of examples/fashion_mnist in a new process continues it bit for bit: N steps straight against
// N/2 steps, a checkpoint, a new process, --resume, the rest. Every state entry (parameters, optimizer slots,
// batch-norm statistics, moving averages, random step counters, the loop's counters and curves) must be identical.

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "loom/runtime/checkpoint.h"

using namespace loom;

namespace {

std::string out_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("loom-resume-{}-{}", ::getpid(), name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

/// Runs the example with `flags`; returns its exit status and puts its output in `output`.
int run(const std::string& flags, std::string& output) {
  std::string log = std::filesystem::temp_directory_path() / fmt::format("loom-resume-{}.log", ::getpid());
  int status = std::system(fmt::format("{} {} >{} 2>&1", LOOM_FASHION_MNIST, flags, log).c_str());
  std::ifstream in(log);
  output.assign(std::istreambuf_iterator<char>(in), {});
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void require_run(const std::string& flags) {
  std::string output;
  int status = run(flags, output);
  INFO(flags << "\n" << output);
  REQUIRE(status == 0);
}

/// Whether two checkpoints hold the same entries, bit for bit, apart from the epochs' wall-clock times.
void check_identical(const std::string& a, const std::string& b) {
  checkpoint::Entries x = checkpoint::load(a), y = checkpoint::load(b);
  REQUIRE(x.size() == y.size());
  for (std::size_t k = 0; k < x.size(); ++k) {
    INFO(x[k].first);
    REQUIRE(x[k].first == y[k].first);
    REQUIRE(x[k].second.type() == y[k].second.type());
    Array first = x[k].second, second = y[k].second;
    if (x[k].first == "fit.history")  // column 6 is the epoch's time
      for (std::int64_t row = 0; row < first.shape()[0]; ++row) first.set(row * 7 + 6, 0), second.set(row * 7 + 6, 0);
    CHECK(std::memcmp(first.raw(), second.raw(), first.nbytes()) == 0);
  }
}

std::int64_t steps_in(const std::string& path) {
  for (auto& [name, value] : checkpoint::load(path))
    if (name == "fit.counters") return value.to_vector<std::int64_t>().at(2);
  return -1;
}

}  // namespace

TEST_CASE("a run stopped after N/2 steps and resumed in a new process ends bit-identical to a straight run") {
  // 1000 examples in batches of 64: 16 steps per epoch, 32 in all; the split falls inside the second epoch.
  const std::string common = "--train-size 1000 --validation 500 --batch 64 --epochs 2 --progress off --hidden 64,32 ";
  const std::vector<std::string> configurations = {
      "--batchnorm --dropout 0.2 --augment noise,flip,shift --ema 0.99 --lr-schedule cosine",
      "--optimizer adamw --mixup 0.4 --grad-noise 0.01 --clip-norm 5 --activation rrelu --weight-decay 1e-4",
  };
  for (std::size_t k = 0; k < configurations.size(); ++k) {
    std::string flags = common + configurations[k];
    std::string straight = out_dir(fmt::format("straight{}", k)), split = out_dir(fmt::format("split{}", k));
    require_run(flags + " --out " + straight);
    require_run(flags + " --out " + split + " --stop-after-steps 21");
    CHECK(steps_in(split + "/checkpoint.loomckpt") == 21);
    require_run(flags + " --out " + split + " --resume");
    CHECK(steps_in(split + "/checkpoint.loomckpt") == 32);
    check_identical(straight + "/checkpoint.loomckpt", split + "/checkpoint.loomckpt");
  }
}

TEST_CASE("resuming with other settings or from a damaged checkpoint is refused, and the checkpoint stays") {
  std::string dir = out_dir("refused"), output;
  const std::string flags = "--train-size 500 --validation 200 --epochs 1 --progress off --out " + dir;
  require_run(flags + " --batch 50 --hidden 16 --stop-after-steps 3");
  std::string path = dir + "/checkpoint.loomckpt";
  auto before = std::filesystem::file_size(path);
  CHECK(run(flags + " --resume --batch 25 --hidden 16", output) == 1);
  CHECK_THAT(output, Catch::Matchers::Contains("the checkpoint's run has batch size 50, this run 25"));
  CHECK(run(flags + " --resume --batch 50 --hidden 17", output) == 1);
  CHECK_THAT(output, Catch::Matchers::Contains("checkpoint.loomckpt holds 'fc1.W' as f32[784,16], the variable is f32[784,17]"));
  CHECK(std::filesystem::file_size(path) == before);
  CHECK(steps_in(path) == 3);  // still loadable, still the same run

  std::fstream damage(path, std::ios::in | std::ios::out | std::ios::binary);
  damage.seekp(static_cast<std::streamoff>(before / 2));
  damage.put('\x7f');
  damage.close();
  CHECK(run(flags + " --resume --batch 50 --hidden 16", output) == 1);
  CHECK_THAT(output, Catch::Matchers::Contains("is damaged (its CRC32C does not match)"));
}
