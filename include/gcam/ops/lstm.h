// gcam/ops/lstm.h — a long short-term memory network in PyTorch's layout (nn.LSTM with batch_first,
// unidirectional, no projection), one or more layers, built from the ops above so that its backward pass
// is theirs: a Grad-CAM query through time runs only the steps between the target and the score.
//
//   x (N, T, I);  layer l: weight_ih (4H, I for l = 0, else H), weight_hh (4H, H), bias_ih, bias_hh (4H)
//   at each step t, from h and c (N, H) (zeros, or the initial state given):
//     z = x_t · W_ihᵀ + b_ih + h · W_hhᵀ + b_hh          (N, 4H), cut into four (N, H) blocks in the
//     i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o)    order i, f, g, o (PyTorch's)
//     c ← f ⊙ c + i ⊙ g
//     h ← o ⊙ tanh(c)
//   layer l's h at each step is layer l + 1's input; the last layer's are y (N, T, H)
//   h_n, c_n (layers, N, H): each layer's state after the last step
#pragma once

#include <vector>

#include "gcam/tensor.h"

namespace gcam::ops {

struct LstmLayer {
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;  // PyTorch's weight_ih_l<k>, …; biases may be undefined
};

struct LstmState {
  Tensor h, c;  // (layers, N, H) each; undefined: zeros
};

struct LstmOutput {
  Tensor y;           // (N, T, H)
  LstmState final;    // (layers, N, H) each
};

LstmOutput lstm(const Tensor& x, const std::vector<LstmLayer>& layers, const LstmState& initial = {});  // CPU

}  // namespace gcam::ops
