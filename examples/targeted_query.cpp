// targeted_query — the README's example: record a forward pass, then ask for one gradient only.
// Built and run by the test suite (tests/CMakeLists.txt), and checked to match the README word for word.
#include <cstdio>

#include "gcam/autograd.h"
#include "gcam/ops.h"

using namespace gcam;

int main() {
  Tensor image = Tensor::full(Shape{1, 3, 32, 32}, 0.5f);        // (N, C, H, W)
  Tensor w1 = Tensor::full(Shape{8, 3, 3, 3}, 0.1f);             // (K, C, kh, kw)
  Tensor fc = Tensor::full(Shape{10, 8}, 0.2f);                  // (classes, K)
  // [readme]
  Tape tape;
  Tensor x = tape.watch(image);                                  // record everything computed from x
  Tensor a = ops::relu(ops::conv2d(x, w1, Tensor(), {1, 1}));    // (1, 8, 32, 32): the target layer
  Tensor logits = ops::linear(ops::flatten(ops::adaptive_avg_pool2d(a, 1)), fc, Tensor());  // (1, 10)

  Tensor seed = Tensor::zeros(logits.shape());
  seed.data()[3] = 1.0f;                                         // explain class 3
  Tensor da = tape.grad(logits, seed, {a})[0];                   // d logit_3 / dA, and nothing else
  std::printf("backward ran %d of %d nodes\n", tape.stats().nodes_run, tape.stats().nodes_on_tape);
  // [readme]
  return da.shape() == a.shape() ? 0 : 1;
}
