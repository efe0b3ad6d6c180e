// lstm.cpp — the LSTM as a composition of recorded ops (formulas in gcam/ops/lstm.h).
#include "gcam/ops/lstm.h"

#include "../cpu/gemm.h"
#include "gcam/autograd.h"
#include "gcam/error.h"
#include "gcam/ops/add.h"
#include "gcam/ops/concat.h"
#include "gcam/ops/flatten.h"
#include "gcam/ops/mul.h"
#include "gcam/ops/sigmoid.h"
#include "gcam/ops/slice.h"
#include "gcam/ops/tanh.h"

namespace gcam::ops {

namespace {

// Layer l's part of a (layers, N, H) state as (N, H), or zeros.
Tensor initial_state(const Tensor& all, size_t l, int64_t batch, int64_t hidden) {
  if (!all.defined()) return Tensor::zeros(Shape{batch, hidden});
  return reshape(slice(all, 0, static_cast<int64_t>(l), 1), Shape{batch, hidden});
}

// z = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh (N, 4H) as one recorded op, so that it is on the tape whenever x is:
// the weights' gradients then include every step, the first one from a constant initial state too
// (separate linear ops on that state and the weights alone would be on no tape). h undefined: the zero
// state, whose product is left out.
//   backward  dx = dz·W_ih, dh = dz·W_hh, dW_ih = dzᵀ·x, dW_hh = dzᵀ·h, db_ih = db_hh = Σ_n dz[n]
class GateInputsNode : public Node {
 public:
  GateInputsNode(Tensor x, Tensor h, const LstmLayer& w) : x_(std::move(x)), h_(std::move(h)), w_(w) {}
  const char* op() const override { return "lstm_gates"; }
  std::vector<Tensor> backward(const Tensor& dz, const std::vector<bool>& needs, const BackwardOptions&) const override {
    // inputs: x, h, weight_ih, weight_hh, bias_ih, bias_hh
    const int64_t batch = dz.size(0), gates = dz.size(1);
    std::vector<Tensor> grads(6);
    const auto input_grad = [&](const Tensor& weight) {  // (N, in) = dz (N, 4H) · W (4H, in)
      const int64_t in = weight.size(1);
      Tensor g = Tensor::empty(Shape{batch, in});
      cpu::sgemm(false, false, batch, in, gates, 1.0f, dz.data(), gates, weight.data(), in, 0.0f, g.data(), in);
      return g;
    };
    const auto weight_grad = [&](const Tensor& input) {  // (4H, in) = dzᵀ (4H, N) · input (N, in)
      const int64_t in = input.size(1);
      Tensor g = Tensor::empty(Shape{gates, in});
      cpu::sgemm(true, false, gates, in, batch, 1.0f, dz.data(), gates, input.data(), in, 0.0f, g.data(), in);
      return g;
    };
    if (needs[0]) grads[0] = input_grad(w_.weight_ih);
    if (needs[1] && h_.defined()) grads[1] = input_grad(w_.weight_hh);
    if (needs[2]) grads[2] = weight_grad(x_);
    if (needs[3]) grads[3] = h_.defined() ? weight_grad(h_) : Tensor::zeros(w_.weight_hh.shape());
    for (int k : {4, 5}) {
      if (!needs[k]) continue;
      grads[k] = Tensor::zeros(Shape{gates});
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t j = 0; j < gates; ++j) grads[k].data()[j] += dz.data()[n * gates + j];
    }
    return grads;
  }

 private:
  Tensor x_, h_;
  LstmLayer w_;
};

Tensor gate_inputs(const Tensor& x, const Tensor& h, const LstmLayer& w) {
  const int64_t batch = x.size(0), gates = w.weight_ih.size(0), in = x.size(1);
  Tensor z = Tensor::empty(Shape{batch, gates});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t j = 0; j < gates; ++j)
      z.data()[n * gates + j] = (w.bias_ih.defined() ? w.bias_ih.data()[j] : 0.0f) + (w.bias_hh.defined() ? w.bias_hh.data()[j] : 0.0f);
  cpu::sgemm(false, true, batch, gates, in, 1.0f, x.data(), in, w.weight_ih.data(), in, 1.0f, z.data(), gates);
  if (h.defined()) {
    const int64_t hidden = h.size(1);
    cpu::sgemm(false, true, batch, gates, hidden, 1.0f, h.data(), hidden, w.weight_hh.data(), hidden, 1.0f, z.data(), gates);
  }
  if (auto tape = autograd::tape_of({&x, &h, &w.weight_ih, &w.weight_hh, &w.bias_ih, &w.bias_hh}))
    autograd::record(tape, std::make_unique<GateInputsNode>(x, h, w), {&x, &h, &w.weight_ih, &w.weight_hh, &w.bias_ih, &w.bias_hh}, z);
  return z;
}

void check_layer(const LstmLayer& w, size_t l, int64_t input, int64_t hidden) {
  const std::string name = "lstm: layer " + std::to_string(l);
  GCAM_CHECK(w.weight_ih.defined() && w.weight_hh.defined(), name, ": weights are undefined");
  GCAM_CHECK(w.weight_ih.shape() == Shape({4 * hidden, input}), name, ": expected weight_ih of shape (", 4 * hidden, ", ",
             input, "), got ", w.weight_ih.shape().str());
  GCAM_CHECK(w.weight_hh.shape() == Shape({4 * hidden, hidden}), name, ": expected weight_hh of shape (", 4 * hidden,
             ", ", hidden, "), got ", w.weight_hh.shape().str());
  for (const Tensor* b : {&w.bias_ih, &w.bias_hh})
    GCAM_CHECK(!b->defined() || b->shape() == Shape({4 * hidden}), name, ": expected biases of shape (", 4 * hidden,
               "), got ", b->shape().str());
}

}  // namespace

LstmOutput lstm(const Tensor& x, const std::vector<LstmLayer>& layers, const LstmState& initial) {
  GCAM_CHECK(x.defined() && x.ndim() == 3, "lstm: expected input (N, T, I), got ",
             x.defined() ? x.shape().str() : "an undefined tensor");
  GCAM_CHECK(!layers.empty(), "lstm: no layers");
  const int64_t batch = x.size(0), steps = x.size(1), hidden = layers[0].weight_hh.defined() ? layers[0].weight_hh.size(1) : 0;
  GCAM_CHECK(steps >= 1, "lstm: a sequence of no steps");
  const Shape state_shape{static_cast<int64_t>(layers.size()), batch, hidden};
  for (const Tensor* s : {&initial.h, &initial.c})
    GCAM_CHECK(!s->defined() || s->shape() == state_shape, "lstm: expected an initial state of shape ", state_shape.str(),
               ", got ", s->shape().str());

  // Layer by layer over the whole sequence: inputs[t] is (N, features) at step t.
  std::vector<Tensor> inputs;
  for (int64_t t = 0; t < steps; ++t) inputs.push_back(reshape(slice(x, 1, t, 1), Shape{batch, x.size(2)}));
  std::vector<Tensor> final_h, final_c;
  for (size_t l = 0; l < layers.size(); ++l) {
    const LstmLayer& w = layers[l];
    check_layer(w, l, inputs[0].size(1), hidden);
    // h undefined: the zero state, whose product with W_hh is left out (gate_inputs).
    Tensor h = initial.h.defined() ? initial_state(initial.h, l, batch, hidden) : Tensor();
    Tensor c = initial_state(initial.c, l, batch, hidden);
    for (int64_t t = 0; t < steps; ++t) {
      const Tensor z = gate_inputs(inputs[t], h, w);  // (N, 4H)
      const Tensor i = sigmoid(slice(z, 1, 0, hidden)), f = sigmoid(slice(z, 1, hidden, hidden));
      const Tensor g = tanh(slice(z, 1, 2 * hidden, hidden)), o = sigmoid(slice(z, 1, 3 * hidden, hidden));
      c = add(mul(f, c), mul(i, g));
      h = mul(o, tanh(c));
      inputs[t] = h;  // the next layer's input at step t
    }
    final_h.push_back(reshape(h, Shape{1, batch, hidden}));
    final_c.push_back(reshape(c, Shape{1, batch, hidden}));
  }
  std::vector<Tensor> per_step;
  for (const Tensor& h : inputs) per_step.push_back(reshape(h, Shape{batch, 1, hidden}));
  return {concat(per_step, 1), {concat(final_h, 0), concat(final_c, 0)}};
}

}  // namespace gcam::ops
