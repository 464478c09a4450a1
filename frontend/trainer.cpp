#include "loom/frontend/trainer.h"

#include "loom/frontend/checkpoints.h"

namespace loom::train {

Model model(ModelParts parts, SrcLoc loc) {
  if (!parts.learning_rate.defined() || parts.learning_rate.type().rank() != 0)
    raise(SourceLoc::from(loc), "train::model: the learning rate must be a scalar shared variable");
  auto p = std::make_shared<ModelParts>(std::move(parts));
  Model m;
  m.classes = p->classes;
  m.train = [p, loc](const std::vector<Array>& inputs, std::vector<Array>& outputs) { p->step.call_into(inputs, outputs, loc); };
  m.evaluate = [p, loc](const std::vector<Array>& inputs, std::vector<Array>& outputs) {
    p->evaluate.call_into(inputs, outputs, loc);
  };
  m.set_learning_rate = [p, loc](double rate) {
    p->learning_rate.set_value(Array::full({}, rate, p->learning_rate.type().dtype), loc);
  };
  m.state = [p, loc] { return values_by_name(p->state, loc); };
  m.restore = [p, loc](const checkpoint::Entries& entries, const std::string& source) {
    assign_by_name(p->state, entries, source, loc);
  };
  if (p->averages) {
    averaging::MovingAverage averages = *p->averages;
    m.swap_averages = [averages]() mutable { averages.swap(); };
  }
  return m;
}

}  // namespace loom::train
