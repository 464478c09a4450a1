#include "loom/runtime/data/fashion_mnist.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "loom/runtime/data/idx.h"

namespace loom::data {

std::string fashion_mnist_directory() {
  if (const char* dir = std::getenv("LOOM_DATA"); dir && *dir) return dir;
  return "/usr/share/datasets/fashion-mnist";
}

LabelledImages fashion_mnist(bool train, const std::string& directory) {
  std::string prefix = train ? "train" : "t10k";
  auto path = [&](const char* what) { return (std::filesystem::path(directory) / fmt::format("{}-{}-ubyte.gz", prefix, what)).string(); };
  std::string images = path("images-idx3"), labels = path("labels-idx1");
  for (const std::string& file : {images, labels})
    if (!std::filesystem::exists(file))
      throw Error(fmt::format("Fashion-MNIST: {} is missing. Install the Debian package with `apt-get install "
                              "dataset-fashion-mnist` (bash scripts/install-deps.sh does), or set LOOM_DATA to a "
                              "directory holding {{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte.gz",
                              file));
  LabelledImages set{read_images(images), read_labels(labels, 10)};
  if (set.images.shape()[0] != set.labels.shape()[0])
    throw Error(fmt::format("Fashion-MNIST: {} has {} images but {} has {} labels", images, set.images.shape()[0], labels,
                            set.labels.shape()[0]));
  return set;
}

const char* fashion_mnist_class(std::int64_t label) {
  static const char* const kNames[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return label >= 0 && label < 10 ? kNames[label] : "?";
}

}  // namespace loom::data
