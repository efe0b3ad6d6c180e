// The tape and the backward pass.
//
// The walk, for output y, seed s and targets W:
//   1. forward sweep over the tape: a tensor "depends on W" if it is in W or is produced by a node
//      with an input that depends on W;
//   2. reverse sweep: a node runs when its output has a gradient (it lies on a path to y) and one of
//      its inputs depends on W (it lies on a path from W); it differentiates only those inputs.
// Everything else on the tape is skipped, which makes a Grad-CAM query at ResNet's layer4 two
// small nodes (fc, avgpool) instead of a second pass through the network.
#include "gcam/autograd.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "gcam/error.h"
#include "gcam/ops/add.h"

namespace gcam {

const char* relu_rule_name(ReluRule rule) {
  switch (rule) {
    case ReluRule::Standard: return "standard";
    case ReluRule::Guided: return "guided";
    case ReluRule::Deconvnet: return "deconvnet";
  }
  return "?";
}

Tape::Tape() : state_(std::make_shared<TapeState>()) {}

Tensor Tape::watch(const Tensor& x) const {
  GCAM_CHECK(x.defined(), "tape: cannot watch an undefined tensor");
  Tensor v = x.detach();
  v.impl()->tape = state_;
  return v;
}

namespace {

// Whether a tap under `name` keeps its tensor (Tape::keep_taps_only).
bool keeps_tensor(const TapeState& state, const std::string& name) {
  return state.keep_only.empty() ||
         std::find(state.keep_only.begin(), state.keep_only.end(), name) != state.keep_only.end();
}

// Records `t` under `name` (the newest wins when a model runs twice on one tape) and labels the node
// that produced it, for --trace and BackwardStats::stopped_after.
void tap_on(TapeState& state, const std::string& name, const Tensor& t) {
  const bool keep = keeps_tensor(state, name);
  if (name == state.record_from) state.record_from.clear();  // from here on, nodes are stored
  bool replaced = false;
  for (size_t i = 0; i < state.taps.size(); ++i) {
    if (state.taps[i].first == name) {
      state.taps[i].second = keep ? t : Tensor();
      state.tap_shapes[i] = t.shape();
      replaced = true;
      break;
    }
  }
  if (!replaced) {
    state.taps.emplace_back(name, keep ? t : Tensor());
    state.tap_shapes.push_back(t.shape());
    state.tap_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - state.began).count());
  }
  for (auto it = state.nodes.rbegin(); it != state.nodes.rend(); ++it) {
    if ((*it)->output_id == t.id()) {
      if ((*it)->label.empty()) (*it)->label = name;
      break;
    }
  }
}

}  // namespace

void Tape::tap(const std::string& name, const Tensor& t) {
  GCAM_CHECK(t.defined(), "tape: cannot tap an undefined tensor as '", name, "'");
  tap_on(*state_, name, t);
}

Tensor Tape::tapped(const std::string& name) const {
  for (const auto& [existing, tensor] : state_->taps) {
    if (existing != name) continue;
    GCAM_CHECK(tensor.defined(), "tape: point '", name, "' was recorded without keeping its tensor (keep_taps_only)");
    return tensor;
  }
  throw InputError("tape: no point named '" + name + "' was recorded");
}

std::vector<std::string> Tape::tap_names() const {
  std::vector<std::string> names;
  for (const auto& entry : state_->taps) names.push_back(entry.first);
  return names;
}

void Tape::clear() {
  // A fresh state: tensors attached to the old one see it expire and stop recording.
  state_ = std::make_shared<TapeState>();
  stats_ = BackwardStats{};
}

std::vector<Tensor> Tape::grad(const Tensor& output, const Tensor& seed,
                               const std::vector<Tensor>& wrt, const BackwardOptions& options) {
  GCAM_CHECK(output.defined() && seed.defined(), "grad: output and seed must be defined");
  check_same_shape("grad", "seed", output.shape(), seed.shape());
  std::vector<uint64_t> targets;
  for (const Tensor& w : wrt) {
    GCAM_CHECK(w.defined(), "grad: a tensor to differentiate with respect to is undefined");
    targets.push_back(w.id());
  }
  return run_backward(output, seed, targets, options);
}

void Tape::backward(const Tensor& loss, const BackwardOptions& options) {
  GCAM_CHECK(loss.defined() && loss.numel() == 1, "backward: the loss must have one element, got ",
             loss.defined() ? loss.shape().str() : std::string("undefined"));
  // The targets are the leaves with requires_grad that some node consumed.
  std::vector<Tensor> leaves;
  std::unordered_set<uint64_t> seen;
  for (const auto& node : state_->nodes)
    for (const Tensor& leaf : node->leaf_inputs)
      if (leaf.defined() && seen.insert(leaf.id()).second) leaves.push_back(leaf);
  std::vector<uint64_t> targets;
  for (const Tensor& leaf : leaves) targets.push_back(leaf.id());

  Tensor seed = Tensor::full(loss.shape(), 1.0f);
  if (loss.device() != Device::CPU) seed = seed.to(loss.device());
  std::vector<Tensor> grads = run_backward(loss, seed, targets, options);

  for (size_t i = 0; i < leaves.size(); ++i) {
    if (!grads[i].defined()) continue;  // the loss does not depend on this leaf
    TensorImpl* leaf = leaves[i].impl();
    if (!leaf->grad) {
      leaf->grad = grads[i].clone().impl_ptr();
    } else {
      Tensor acc(leaf->grad);
      ops::add_into(acc, grads[i]);
    }
    ++stats_.parameter_grads_written;
  }
}

std::vector<Tensor> Tape::run_backward(const Tensor& output, const Tensor& seed,
                                       const std::vector<uint64_t>& targets,
                                       const BackwardOptions& options) {
  const auto& nodes = state_->nodes;
  stats_ = BackwardStats{};
  stats_.nodes_on_tape = static_cast<int>(nodes.size());

  // 1. Forward sweep: which tensors depend on a target, and which nodes touch one.
  std::unordered_set<uint64_t> depends(targets.begin(), targets.end());
  std::vector<char> node_touches_target(nodes.size(), 0);
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (uint64_t in : nodes[n]->input_ids) {
      if (depends.count(in)) {
        node_touches_target[n] = 1;
        depends.insert(nodes[n]->output_id);
        break;
      }
    }
  }
  GCAM_CHECK(depends.count(output.id()), "grad: the output does not depend on the requested tensors "
                                         "(was the input watched by this tape?)");

  // 2. Reverse sweep. A gradient buffer is "owned" when the pass allocated it and may add into it;
  // otherwise (the seed, or a gradient a node passed straight through) it is copied first.
  struct Pending {
    Tensor grad;
    bool owned;
  };
  std::unordered_map<uint64_t, Pending> pending;
  pending[output.id()] = Pending{seed, false};
  std::unordered_set<uint64_t> target_set(targets.begin(), targets.end());

  auto accumulate = [&](uint64_t id, Tensor g) {
    auto it = pending.find(id);
    if (it == pending.end()) {
      pending[id] = Pending{std::move(g), false};
      return;
    }
    if (!it->second.owned) {
      it->second.grad = it->second.grad.clone();
      it->second.owned = true;
    }
    ops::add_into(it->second.grad, g);
  };

  for (size_t n = nodes.size(); n-- > 0;) {
    if (!node_touches_target[n]) continue;
    const Node& node = *nodes[n];
    auto it = pending.find(node.output_id);
    if (it == pending.end()) continue;  // not on a path to the output
    Tensor grad_output = it->second.grad;
    if (!target_set.count(node.output_id)) pending.erase(it);  // free what no one asks for

    std::vector<bool> needs(node.input_ids.size());
    for (size_t i = 0; i < needs.size(); ++i) needs[i] = depends.count(node.input_ids[i]) > 0;

    const auto node_start = std::chrono::steady_clock::now();
    std::vector<Tensor> input_grads = node.backward(grad_output, needs, options);
    GCAM_ASSERT(input_grads.size() == needs.size());
    for (size_t i = 0; i < needs.size(); ++i) {
      // The op contract: a gradient exactly for the inputs that need one.
      GCAM_ASSERT(input_grads[i].defined() == static_cast<bool>(needs[i]));
      if (!needs[i]) continue;
      accumulate(node.input_ids[i], std::move(input_grads[i]));
      ++stats_.input_grads_computed;
    }
    ++stats_.nodes_run;
    stats_.ops_run.push_back(node.op());
    stats_.labels_run.push_back(node.label);
    stats_.ms_run.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - node_start).count());
    stats_.stopped_after = node.label.empty() ? node.op() : std::string(node.op()) + " (" + node.label + ")";
  }

  std::vector<Tensor> result;
  for (uint64_t id : targets) {
    auto it = pending.find(id);
    result.push_back(it == pending.end() ? Tensor() : it->second.grad);
  }
  return result;
}

namespace autograd {

Tensor keep_for_parameter_grads(const Tensor& kept, std::initializer_list<const Tensor*> params) {
  for (const Tensor* p : params)
    if (p && p->defined() && p->requires_grad()) return kept;
  return Tensor();
}

void parameter_grad_unavailable(const char* op) {
  throw InputError(std::string(op) + ": a parameter gradient was asked for, but the parameter did not require grad "
                   "when the forward pass was recorded (call set_requires_grad(true) before the forward pass)");
}

void tap(const std::string& name, const Tensor& t) {
  if (!t.defined()) return;
  if (auto tape = t.impl()->tape.lock()) tap_on(*tape, name, t);
}

namespace {

template <typename Inputs>
std::shared_ptr<TapeState> tape_of_inputs(const Inputs& inputs) {
  std::shared_ptr<TapeState> found;
  for (const Tensor* t : inputs) {
    if (!t || !t->defined()) continue;
    auto tape = t->impl()->tape.lock();
    if (!tape) continue;
    GCAM_CHECK(!found || found == tape, "autograd: an op mixes tensors recorded on two different tapes");
    found = tape;
  }
  return found;
}

}  // namespace

std::shared_ptr<TapeState> tape_of(std::initializer_list<const Tensor*> inputs) { return tape_of_inputs(inputs); }
std::shared_ptr<TapeState> tape_of(const std::vector<const Tensor*>& inputs) { return tape_of_inputs(inputs); }

bool tap_keeps_tensor(const std::string& name, const Tensor& t) {
  if (!t.defined()) return false;
  const auto tape = t.impl()->tape.lock();
  return tape && keeps_tensor(*tape, name);
}

bool stores_nodes(const std::shared_ptr<TapeState>& tape) { return tape && tape->record_from.empty(); }

namespace {

template <typename Inputs>
void record_inputs(const std::shared_ptr<TapeState>& tape, std::unique_ptr<Node> node, const Inputs& inputs,
                   const Tensor& output) {
  if (!stores_nodes(tape)) {  // not yet: the output still carries the tape, the node is dropped
    output.impl()->tape = tape;
    return;
  }
  for (const Tensor* t : inputs) {
    bool present = t && t->defined();
    node->input_ids.push_back(present ? t->id() : 0);
    bool is_leaf = present && t->requires_grad() && t->impl()->tape.expired();
    node->leaf_inputs.push_back(is_leaf ? *t : Tensor());
  }
  node->output_id = output.id();
  node->output_shape = output.shape();
  output.impl()->tape = tape;
  tape->nodes.push_back(std::move(node));
}

}  // namespace

void record(const std::shared_ptr<TapeState>& tape, std::unique_ptr<Node> node,
            std::initializer_list<const Tensor*> inputs, const Tensor& output) {
  record_inputs(tape, std::move(node), inputs, output);
}
void record(const std::shared_ptr<TapeState>& tape, std::unique_ptr<Node> node,
            const std::vector<const Tensor*>& inputs, const Tensor& output) {
  record_inputs(tape, std::move(node), inputs, output);
}

}  // namespace autograd

}  // namespace gcam
