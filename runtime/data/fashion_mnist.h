#pragma once
/// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 70,000 grey 28×28 images of 10 kinds of clothing, from the Debian
/// package dataset-fashion-mnist or a directory named by $LOOM_DATA.

#include <string>

#include "loom/runtime/array.h"

namespace loom::data {

/// Images f32 [N, 784] in [0, 1] and their labels i32 [N] in [0, 10).
struct LabelledImages {
  Array images, labels;
};

/// $LOOM_DATA when set, else /usr/share/datasets/fashion-mnist (the Debian package's directory).
std::string fashion_mnist_directory();

/// The training set (60,000 examples) or the test set (10,000). When the files are missing the Error says which
/// package to install.
LabelledImages fashion_mnist(bool train, const std::string& directory = fashion_mnist_directory());

/// The names of the classes, by label.
const char* fashion_mnist_class(std::int64_t label);

}  // namespace loom::data
