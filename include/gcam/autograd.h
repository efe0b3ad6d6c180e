// gcam/autograd.h — define-by-run reverse-mode autodiff on an explicit tape.
//
//   Tape tape;
//   Tensor x = tape.watch(image);          // x records every op applied to it (and to what it produces)
//   Tensor a = model_stage(x);  tape.tap("layer4", a);
//   Tensor logits = head(a);
//   Tensor da = tape.grad(logits, seed, {a})[0];   // d(sum(seed * logits)) / da, nothing else
//
// Each op that runs on a recorded tensor appends one Node holding what its backward needs. A backward
// pass walks the tape in reverse, iteratively (no recursion: ResNet-152 is deep), and runs only the
// nodes that lie on a path between the tensors whose gradient was asked for and the output. Each node
// is told which of its inputs need a gradient, so a Grad-CAM query never computes a weight gradient.
// Gradients that meet at one tensor (ResNet skips) are summed.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "gcam/tensor.h"

namespace gcam {

// How a ReLU node passes a gradient back. Chosen by the backward pass, not by the model.
enum class ReluRule {
  Standard,   // dx = dy · [x > 0]
  Guided,     // dx = dy · [x > 0] · [dy > 0]   (Springenberg et al., guided backprop)
  Deconvnet,  // dx = dy · [dy > 0]             (Zeiler & Fergus)
};
const char* relu_rule_name(ReluRule rule);

struct BackwardOptions {
  ReluRule relu_rule = ReluRule::Standard;
};

// One recorded op. Subclasses live next to the op's forward code (src/ops/<op>.cpp).
class Node {
 public:
  virtual ~Node() = default;
  virtual const char* op() const = 0;
  // Given dL/d(output), returns dL/d(input i) for every i with needs_grad[i], and an undefined
  // tensor for every other input. Must not modify grad_output.
  virtual std::vector<Tensor> backward(const Tensor& grad_output, const std::vector<bool>& needs_grad,
                                       const BackwardOptions& options) const = 0;

  std::vector<uint64_t> input_ids;  // identities of the inputs, in the op's argument order
  std::vector<Tensor> leaf_inputs;  // per input: the tensor if it is a leaf with requires_grad
  uint64_t output_id = 0;
  Shape output_shape;
  std::string label;  // the tap name of this node's output, if any ("layer4", "features.29")
};

// What the last backward pass did: for tests, for --trace, and for readers.
struct BackwardStats {
  int nodes_on_tape = 0;
  int nodes_run = 0;                 // nodes whose backward ran
  int input_grads_computed = 0;      // summed over the nodes run: inputs differentiated
  int parameter_grads_written = 0;   // leaves whose .grad() was written
  std::vector<std::string> ops_run;  // "linear", "adaptive_avg_pool2d", … in the order they ran
  std::vector<std::string> labels_run;  // the tap name of each node run, or ""
  std::vector<double> ms_run;        // the time each node's backward took
  std::string stopped_after;         // op (and label) of the last node run: where the pass stopped
};

// The tape's contents. Tensors hold a weak reference to it; Tape owns it.
class TapeState {
 public:
  std::vector<std::unique_ptr<Node>> nodes;  // in execution order: a topological order
  std::vector<std::pair<std::string, Tensor>> taps;  // the tensor is undefined when not kept
  std::vector<Shape> tap_shapes;  // parallel to taps
  std::vector<double> tap_ms;     // when each tap was made, in ms since the tape began (for --trace)
  std::chrono::steady_clock::time_point began = std::chrono::steady_clock::now();
  std::vector<std::string> keep_only;  // taps whose tensors are kept; empty: all
  std::string record_from;             // while not empty, nodes are not stored until this tap
};

class Tape {
 public:
  Tape();

  // A view of x (same storage, new identity) on which every op is recorded onto this tape.
  Tensor watch(const Tensor& x) const;

  // Names a point of the computation so that it can be asked for later (Grad-CAM's target layer).
  void tap(const std::string& name, const Tensor& t);
  Tensor tapped(const std::string& name) const;  // throws InputError naming the unknown point
  std::vector<std::string> tap_names() const;
  const std::vector<Shape>& tap_shapes() const { return state_->tap_shapes; }  // parallel to tap_names()

  // Memory for explaining. keep_taps_only: of all the points a model taps, keep the tensors of these
  // only (the others keep their name, shape and time). record_from: store no node until the point
  // `name` is tapped — a backward pass can then start no further back than there, and nothing before
  // it is held (a Grad-CAM query needs no more).
  void keep_taps_only(const std::vector<std::string>& names) { state_->keep_only = names; }
  void record_from(const std::string& name) { state_->record_from = name; }
  const std::vector<double>& tap_times_ms() const { return state_->tap_ms; }  // parallel to tap_names()

  // The targeted query: d(Σ seed ⊙ output) / d(w) for each w in wrt. seed has output's shape.
  // Runs only the nodes between wrt and output; computes no parameter gradient.
  std::vector<Tensor> grad(const Tensor& output, const Tensor& seed, const std::vector<Tensor>& wrt,
                           const BackwardOptions& options = {});

  // The training pass: d(loss)/d(p) accumulated (+=) into p.grad() for every leaf p with
  // requires_grad that the loss depends on. loss must have one element.
  void backward(const Tensor& loss, const BackwardOptions& options = {});

  const BackwardStats& stats() const { return stats_; }
  size_t size() const { return state_->nodes.size(); }
  const std::vector<std::unique_ptr<Node>>& nodes() const { return state_->nodes; }
  void clear();  // forgets every node and tap; recorded tensors stop recording

 private:
  // The engine behind grad() and backward(): gradients of `output` (seeded by `seed`) with respect
  // to the tensors whose ids are in `targets`, returned in the order of `targets`.
  std::vector<Tensor> run_backward(const Tensor& output, const Tensor& seed,
                                   const std::vector<uint64_t>& targets,
                                   const BackwardOptions& options);

  std::shared_ptr<TapeState> state_;
  BackwardStats stats_;
};

namespace autograd {

// Names a point of the computation on the tape that records `t` (no-op when nothing records it): how a
// model taps each layer's output without being handed the Tape.
void tap(const std::string& name, const Tensor& t);

// The tape an op on these inputs must record on (the live tape of any input), or null: then the op
// records nothing. Undefined tensors (an absent bias) are skipped. Two different tapes are an error.
std::shared_ptr<TapeState> tape_of(std::initializer_list<const Tensor*> inputs);
std::shared_ptr<TapeState> tape_of(const std::vector<const Tensor*>& inputs);  // for ops of any arity (concat)

// Whether tapping `t` as `name` now would keep the tensor itself (its tape keeps every tap, or this one
// by Tape::keep_taps_only); false with no tape. Where it is false, nobody can ask for t afterwards, so a
// model may compute t fused into the next op's pass and tap the fused result instead, for its shape and
// time (src/models/layers.cpp).
bool tap_keeps_tensor(const std::string& name, const Tensor& t);

// Whether a node recorded now on `tape` is stored (false while the tape waits for its record_from tap,
// and for no tape): an op whose forward does extra work only for its backward skips it otherwise.
bool stores_nodes(const std::shared_ptr<TapeState>& tape);

// What a node should keep for its parameters' gradients: `kept` when one of `params` is a leaf that
// requires grad (training), else an undefined tensor — so that explaining, which never asks for a
// parameter gradient, holds no activation only a weight gradient would need.
Tensor keep_for_parameter_grads(const Tensor& kept, std::initializer_list<const Tensor*> params);
// The error for a parameter gradient asked of a node that kept nothing for it.
[[noreturn]] void parameter_grad_unavailable(const char* op);

// Appends `node` to `tape`, filling its input/output bookkeeping, and attaches the tape to `output`.
void record(const std::shared_ptr<TapeState>& tape, std::unique_ptr<Node> node,
            std::initializer_list<const Tensor*> inputs, const Tensor& output);
void record(const std::shared_ptr<TapeState>& tape, std::unique_ptr<Node> node,
            const std::vector<const Tensor*>& inputs, const Tensor& output);

}  // namespace autograd

}  // namespace gcam
