// The IDX reader against fixtures with every kind of damage, and Fashion-MNIST from the Debian package.

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "loom/runtime/data/batches.h"
#include "loom/runtime/data/fashion_mnist.h"
#include "loom/runtime/data/idx.h"

using namespace loom;

namespace {

std::vector<std::uint8_t> header(std::uint8_t type, std::vector<std::uint32_t> dims, std::uint8_t zero = 0) {
  std::vector<std::uint8_t> bytes{zero, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<std::uint8_t>(d >> shift));
  return bytes;
}

/// Writes `bytes` to a fixture file (gzip-compressed when `gzip`) and returns its path.
std::string fixture(const std::string& name, const std::vector<std::uint8_t>& bytes, bool gzip = false) {
  auto dir = std::filesystem::temp_directory_path() / "loom-idx-fixtures";
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  if (gzip) {
    gzFile file = gzopen(path.c_str(), "wb");
    gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(file);
  } else {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  return path;
}

std::vector<std::uint8_t> with(std::vector<std::uint8_t> a, std::size_t extra, std::uint8_t value = 1) {
  a.insert(a.end(), extra, value);
  return a;
}

}  // namespace

TEST_CASE("the IDX reader reads plain and gzip files and refuses each kind of damage with its own error") {
  std::vector<std::uint8_t> images = with(header(0x08, {2, 3, 2}), 12, 255), labels = header(0x08, {4});
  labels.insert(labels.end(), {0, 9, 3, 1});
  for (bool gzip : {false, true}) {
    Array x = data::read_images(fixture(gzip ? "images.gz" : "images", images, gzip));
    CHECK(x.shape() == Shape{2, 6});
    CHECK(x.get(5) == 1.0f);
    Array y = data::read_labels(fixture(gzip ? "labels.gz" : "labels", labels, gzip), 10);
    CHECK(y.to_vector<int>() == std::vector<int>{0, 9, 3, 1});
  }
  auto refuses = [](const std::string& path, data::IdxKind kind, const char* why) {
    INFO(path);
    CHECK_THROWS_WITH(data::read_idx(path, kind), Catch::Matchers::Contains(path) && Catch::Matchers::Contains(why));
  };
  refuses(fixture("truncated", with(header(0x08, {2, 3, 2}), 11)), data::IdxKind::images, "truncated: the header promises 12 bytes");
  refuses(fixture("truncated-header", {0, 0, 8, 3, 0, 0}), data::IdxKind::images, "truncated inside the header");
  refuses(fixture("padded", with(header(0x08, {2, 3, 2}), 13)), data::IdxKind::images, "1 bytes after the 12 bytes of data");
  refuses(fixture("magic", with(header(0x08, {2, 3, 2}, 7), 12)), data::IdxKind::images, "is not IDX images (2051)");
  refuses(fixture("labels-as-images", with(header(0x08, {4}), 4)), data::IdxKind::images, "1 dimensions, IDX images have 3");
  refuses(fixture("type", with(header(0x0D, {2, 3, 2}), 48)), data::IdxKind::images, "type byte 0x0d is not 0x08");
  refuses(fixture("zero", header(0x08, {2, 0, 2})), data::IdxKind::images, "dimension 1 is 0");
  refuses(fixture("empty", {}), data::IdxKind::labels, "shorter than an IDX header");
  // A gzip header followed by bytes that are not deflate data.
  refuses(fixture("damaged.gz", {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
          data::IdxKind::labels, "the compressed data is damaged");
  std::vector<std::uint8_t> bad_label = header(0x08, {3});
  bad_label.insert(bad_label.end(), {1, 10, 2});
  CHECK_THROWS_WITH(data::read_labels(fixture("label", bad_label), 10), Catch::Matchers::Contains("label 10 of example 1 is not below the 10 classes"));
  CHECK_THROWS_WITH(data::read_idx("/nonexistent/file", data::IdxKind::labels), Catch::Matchers::Contains("/nonexistent/file: cannot open"));
}

TEST_CASE("the IDX parser checks bytes in memory as the reader checks files, and dimensions beyond 64 bits") {
  std::vector<std::uint8_t> labels = header(0x08, {3});
  labels.insert(labels.end(), {1, 2, 3});
  CHECK(data::parse_labels(std::string(labels.begin(), labels.end()), "memory", 10).to_vector<int>() == std::vector<int>{1, 2, 3});
  // 2^31 · 2^31 · 4 = 2^64 bytes, which wraps to 0 in 64 bits and would pass as an empty file.
  std::vector<std::uint8_t> wraps = header(0x08, {0x80000000u, 0x80000000u, 4});
  CHECK_THROWS_WITH(data::parse_idx(std::string(wraps.begin(), wraps.end()), "memory", data::IdxKind::images),
                    Catch::Matchers::Contains("memory: the dimensions [2147483648,2147483648,4] promise more than 2^64 bytes"));
}

TEST_CASE("Fashion-MNIST comes from the Debian package, and its absence names the package") {
  data::LabelledImages test = data::fashion_mnist(/*train=*/false);
  CHECK(test.images.shape() == Shape{10000, 784});
  CHECK(test.labels.shape() == Shape{10000});
  std::vector<int> counts(10, 0);
  for (std::int64_t i = 0; i < 10000; ++i) ++counts[static_cast<std::size_t>(test.labels.get(i))];
  CHECK(counts == std::vector<int>(10, 1000));  // the test set is balanced
  CHECK(std::string(data::fashion_mnist_class(9)) == "Ankle boot");
  CHECK_THROWS_WITH(data::fashion_mnist(true, "/nonexistent"), Catch::Matchers::Contains("apt-get install dataset-fashion-mnist"));
}

namespace {

/// A set whose image i is filled with i and labelled i % 10: rows are easy to recognize.
data::LabelledImages numbered(std::int64_t n, std::int64_t features = 4) {
  data::LabelledImages set{Array(DType::f32, {n, features}), Array(DType::i32, {n})};
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t k = 0; k < features; ++k) set.images.set(i * features + k, static_cast<double>(i));
    set.labels.set(i, static_cast<double>(i % 10));
  }
  return set;
}

}  // namespace

TEST_CASE("batches visit every example once per epoch in a seeded order and complete the last batch") {
  data::Batches batches(numbered(10), 4, /*seed=*/3);
  Array x(DType::f32, {4, 4}), y(DType::i32, {4});
  std::vector<std::int64_t> seen, fresh_counts, epoch0;
  for (std::int64_t fresh; (fresh = batches.next(x, y)) > 0;) {
    fresh_counts.push_back(fresh);
    for (std::int64_t i = 0; i < 4; ++i) {
      CHECK(y.get(i) == static_cast<std::int64_t>(x.get(i * 4)) % 10);  // labels travel with their images
      if (i < fresh) seen.push_back(static_cast<std::int64_t>(x.get(i * 4)));
    }
  }
  CHECK(fresh_counts == std::vector<std::int64_t>{4, 4, 2});
  CHECK(batches.batches_per_epoch() == 3);
  epoch0 = seen;
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(epoch0 != std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});  // shuffled
  // The last batch is completed with the epoch's first examples.
  CHECK(x.get(2 * 4) == epoch0[0]);
  // Another epoch, another order; the same epoch again, the same order; a position resumes inside it.
  auto order_of = [&](std::int64_t epoch, std::int64_t position) {
    batches.start(epoch, position);
    std::vector<std::int64_t> order;
    for (std::int64_t fresh; (fresh = batches.next(x, y)) > 0;)
      for (std::int64_t i = 0; i < fresh; ++i) order.push_back(static_cast<std::int64_t>(x.get(i * 4)));
    return order;
  };
  CHECK(order_of(0, 0) == epoch0);
  CHECK(order_of(1, 0) != epoch0);
  CHECK(order_of(0, 4) == std::vector<std::int64_t>(epoch0.begin() + 4, epoch0.end()));
}

TEST_CASE("a seeded split holds out disjoint examples, and head keeps the first ones") {
  data::Split parts = data::split(numbered(100), 20, 5);
  CHECK(parts.train.images.shape()[0] == 80);
  CHECK(parts.validation.images.shape()[0] == 20);
  std::vector<int> count(100, 0);
  for (const data::LabelledImages* set : {&parts.train, &parts.validation})
    for (std::int64_t i = 0; i < set->images.shape()[0]; ++i) ++count[static_cast<std::size_t>(set->images.get(i * 4))];
  CHECK(count == std::vector<int>(100, 1));
  CHECK(data::split(numbered(100), 20, 5).validation.images.to_vector<float>() == parts.validation.images.to_vector<float>());
  CHECK(data::head(numbered(100), 7).images.get(6 * 4) == 6.0f);
  CHECK_THROWS_WITH(data::split(numbered(10), 10, 1), Catch::Matchers::Contains("leaves nothing to train on"));
}

TEST_CASE("augmentations flip, shift and add noise to square images, reproducibly") {
  // A 3x3 image with one bright pixel in the top-left corner.
  Array image(DType::f32, {1, 9});
  image.set(0, 1.0);
  Array flipped = image.copy();
  for (std::uint64_t seed = 0;; ++seed) {  // a seed whose coin flips the image
    flipped = image.copy();
    data::augment(flipped, {.flip = true}, seed);
    if (flipped.get(0) == 0.0) break;
  }
  CHECK(flipped.get(2) == 1.0f);  // the corner moved to the top-right
  Array shifted = image.copy();
  data::augment(shifted, {.max_shift = 1}, 11);
  double total = 0;
  for (std::int64_t i = 0; i < 9; ++i) total += shifted.get(i);
  CHECK(total <= 1.0);  // a shift moves pixels and brings zeros in
  Array noisy = Array::full({2, 9}, 0.5), again = Array::full({2, 9}, 0.5);
  data::augment(noisy, {.noise = 0.1}, 4);
  data::augment(again, {.noise = 0.1}, 4);
  CHECK(noisy.to_vector<float>() == again.to_vector<float>());
  for (std::int64_t i = 0; i < 18; ++i) CHECK((noisy.get(i) >= 0.0 && noisy.get(i) <= 1.0));
  CHECK(noisy.get(3) != 0.5f);
}
