// gradcam_by_ops.h — Grad-CAM's reduction as a composition of gcam's own ops, on the device where A and
// ∂y/∂A live, unfused: the oracle that the fused kernels (src/cuda/cam.h: gradcam_maps) are held to
// beside the CPU's cam:: functions.
//
//   α_nk = mean_p ∂y/∂A[n,k,p]                    adaptive_avg_pool2d to 1×1              (N, K, 1, 1)
//   S_n  = Σ_k ±α_nk A[n,k]                       a 1×1 convolution of A viewed as (1, N·K, h, w) in
//                                                 N groups, image n's ±α as group n's weights (1, N, h, w)
//   raw_n = ReLU(S_n)                             relu
//   map_n = (raw − min)/(max − min + ε), or zeros and a flag when max = min = 0: the CPU's normalize_maps
//           (gcam has no min/max reduction op), on the host copy of raw.
// The counterfactual's sign is applied to α on the host (gcam has no negation op).
#pragma once

#include <vector>

#include "gcam/tensor.h"

namespace gcam::test {

struct MapsByOps {
  Tensor alpha, raw, map;      // (N, K), (N, h, w), (N, h, w), on the host
  std::vector<bool> all_zero;  // image n's raw map was zero everywhere
};

MapsByOps gradcam_by_ops(const Tensor& A, const Tensor& dA, bool counterfactual);

}  // namespace gcam::test
