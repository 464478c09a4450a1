#pragma once
/// The public API of loom: `#include <loom/loom.h>` and `using namespace loom;` (see DESIGN §3 and README).

#include "loom/frontend/averaging.h"
#include "loom/frontend/checkpoints.h"
#include "loom/frontend/trainer.h"
#include "loom/frontend/function.h"
#include "loom/frontend/grad.h"
#include "loom/frontend/graph.h"
#include "loom/frontend/init.h"
#include "loom/frontend/nn.h"
#include "loom/frontend/optim.h"
#include "loom/frontend/regularize.h"
#include "loom/frontend/training_ops.h"
#include "loom/ir/expr.h"
#include "loom/runtime/array.h"
#include "loom/runtime/mixup.h"
