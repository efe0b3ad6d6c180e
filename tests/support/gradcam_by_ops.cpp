// gradcam_by_ops.cpp — see gradcam_by_ops.h.
#include "support/gradcam_by_ops.h"

#include "gcam/cam.h"
#include "gcam/ops/adaptive_avg_pool2d.h"
#include "gcam/ops/conv2d.h"
#include "gcam/ops/relu.h"

namespace gcam::test {

MapsByOps gradcam_by_ops(const Tensor& A, const Tensor& dA, bool counterfactual) {
  const int64_t N = A.size(0), K = A.size(1), h = A.size(2), w = A.size(3);
  const Tensor pooled = ops::adaptive_avg_pool2d(dA, Hw(1, 1));  // (N, K, 1, 1): α
  MapsByOps r;
  r.alpha = pooled.to(Device::CPU).view(Shape{N, K});
  Tensor weights = pooled;
  if (counterfactual) {
    std::vector<float> negated = r.alpha.to_vector();
    for (float& v : negated) v = -v;
    weights = Tensor::from_vector(pooled.shape(), negated).to(A.device());
  }
  ops::Conv2dOptions per_image;
  per_image.groups = N;
  const Tensor sums = ops::conv2d(A.view(Shape{1, N * K, h, w}), weights.view(Shape{N, K, 1, 1}), Tensor(),
                                  per_image);  // (1, N, h, w)
  r.raw = ops::relu(sums).to(Device::CPU).view(Shape{N, h, w});
  r.map = r.raw.clone();
  cam::normalize_maps(r.map, &r.all_zero);
  return r;
}

}  // namespace gcam::test
