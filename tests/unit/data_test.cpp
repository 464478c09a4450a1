// The IDX reader against fixtures with every kind of damage, and Fashion-MNIST from the Debian package.

#include <zlib.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

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
  std::vector<std::uint8_t> bad_label = header(0x08, {3});
  bad_label.insert(bad_label.end(), {1, 10, 2});
  CHECK_THROWS_WITH(data::read_labels(fixture("label", bad_label), 10), Catch::Matchers::Contains("label 10 of example 1 is not below the 10 classes"));
  CHECK_THROWS_WITH(data::read_idx("/nonexistent/file", data::IdxKind::labels), Catch::Matchers::Contains("/nonexistent/file: cannot open"));
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
