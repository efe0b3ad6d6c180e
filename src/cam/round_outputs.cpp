// round_outputs.cpp — see round_outputs.h.
#include "round_outputs.h"

#include "../cuda/cam.h"
#include "gcam/error.h"
#include "pictures.h"

namespace gcam::cam {

namespace {

Tensor to_host(const Tensor& t) { return t.device() == Device::CPU ? t : t.to(Device::CPU); }
// The tensor on the host if asked (one already there, or undefined, stays as it is).
Tensor where_asked(const Tensor& t, bool to_host_asked) { return to_host_asked && t.defined() ? to_host(t) : t; }

// The reduction's results of one round, and the maps at the input size, where they are.
struct Maps {
  Tensor alpha;               // (N, K), on the host, or undefined when left on the device
  Tensor raw;                 // (N, h, w)
  Tensor upsampled;           // (N, H, W)
  std::vector<bool> all_zero;
};

// On the CPU: gcam/cam.h's functions, normalised at feature resolution, then upsampled.
Maps maps_on_cpu(const Tensor& A, const Tensor& dA, bool counterfactual, int64_t H, int64_t W) {
  Maps m;
  m.alpha = channel_weights(dA);
  m.raw = weighted_map(A, m.alpha, counterfactual);
  Tensor normalized = m.raw.clone();
  normalize_maps(normalized, &m.all_zero);
  m.upsampled = upsample_bilinear(normalized, H, W);
  return m;
}

}  // namespace

Tensor gradcam_outputs(const Tensor& A, const Tensor& dA, const Tensor& guided, const ExplainOptions& options,
                       int64_t H, int64_t W, const cuda::DeviceArray<uint8_t>& pictures_on_device,
                       const std::vector<Explanation*>& round) {
  const int64_t N = A.size(0), K = A.size(1);
  const bool pictures = options.pictures.images != nullptr;
  Maps m;
  Tensor guided_gradcam;  // (N, 3, H, W)
  std::vector<Box> boxes;
  if (dA.device() == Device::CUDA) {
    GCAM_CHECK(!pictures || pictures_on_device.size() == N * H * W * 3, "explain: the pictures are not on the GPU");
    cuda::GradcamMaps g = cuda::gradcam_maps(A, dA, false);
    cuda::Drawing what;
    what.height = H, what.width = W, what.guided = guided.defined() ? &guided : nullptr;
    what.heat = pictures, what.pictures = pictures ? &pictures_on_device : nullptr;
    what.colormap = options.pictures.colormap, what.alpha = options.pictures.alpha;
    cuda::Drawn drawn = cuda::draw(g.map, what);  // one launch: map, product, heat, overlay
    boxes = cuda::boxes_to_host(cuda::localize(drawn.map));
    if (pictures) {
      std::vector<image::Image> heat = split_pictures(drawn.heat.copy_to_host(), N, H, W),
                                overlay = split_pictures(drawn.overlay.copy_to_host(), N, H, W);
      for (int64_t n = 0; n < N; ++n) round[n]->heatmap = std::move(heat[n]), round[n]->overlay = std::move(overlay[n]);
    }
    m.alpha = options.maps_to_host ? to_host(g.alpha) : Tensor();
    m.raw = where_asked(g.raw, options.maps_to_host);
    m.upsampled = where_asked(drawn.map, options.maps_to_host);
    m.all_zero = g.all_zero;
    guided_gradcam = drawn.guided_gradcam;
  } else {
    m = maps_on_cpu(A, dA, false, H, W);
    if (pictures) colour_maps(m.upsampled, options.pictures, round);
    if (guided.defined()) {  // guided ⊙ map on every colour channel
      guided_gradcam = guided.clone();
      float* p = guided_gradcam.data();
      const float* map = m.upsampled.data();
#pragma omp parallel for schedule(static) if (N > 1)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < 3; ++c)
          for (int64_t i = 0; i < H * W; ++i) p[(n * 3 + c) * H * W + i] *= map[n * H * W + i];
    }
  }
  // Images are independent: their copies and (on the CPU) boxes are made side by side.
#pragma omp parallel for schedule(static) if (N > 1)
  for (int64_t n = 0; n < N; ++n) {
    Explanation& e = *round[n];
    if (m.alpha.defined()) e.alpha.assign(m.alpha.data() + n * K, m.alpha.data() + (n + 1) * K);
    e.raw_map = m.raw.select(n);
    e.map = m.upsampled.select(n);
    e.map_all_zero = m.all_zero[n];
    e.box = boxes.empty() ? localize(e.map.data(), H, W) : boxes[n];
  }
  return guided_gradcam;
}

void counterfactual_outputs(const Tensor& A, const Tensor& dA, const ExplainOptions& options, int64_t H, int64_t W,
                            const std::vector<Explanation*>& round) {
  const int64_t N = A.size(0);
  const bool pictures = options.pictures.images != nullptr;
  Tensor map;  // (N, H, W)
  std::vector<bool> all_zero;
  std::vector<image::Image> heat;
  if (dA.device() == Device::CUDA) {
    cuda::GradcamMaps g = cuda::gradcam_maps(A, dA, true);
    cuda::Drawing what;
    what.height = H, what.width = W, what.heat = pictures, what.colormap = options.pictures.colormap;
    cuda::Drawn drawn = cuda::draw(g.map, what);  // one launch: the map and its heatmap
    if (pictures) heat = split_pictures(drawn.heat.copy_to_host(), N, H, W);
    map = where_asked(drawn.map, options.maps_to_host);
    all_zero = g.all_zero;
  } else {
    Maps m = maps_on_cpu(A, dA, true, H, W);
    if (pictures) heat = heatmaps(m.upsampled, options.pictures.colormap);
    map = m.upsampled;
    all_zero = m.all_zero;
  }
  for (int64_t n = 0; n < N; ++n) {
    Explanation& e = *round[n];
    e.counterfactual = map.select(n);
    e.counterfactual_all_zero = all_zero[n];
    if (pictures) e.counterfactual_heatmap = std::move(heat[n]);
  }
}

void gradient_outputs(const Tensor& guided, const Tensor& guided_gradcam, const Tensor& deconvnet,
                      const ExplainOptions& options, const std::vector<Explanation*>& round) {
  const int64_t N = static_cast<int64_t>(round.size());
  const bool pictures = options.pictures.images != nullptr;
  struct Kind {
    const Tensor& made;
    Tensor Explanation::*tensor;
    image::Image Explanation::*picture;
  };
  for (const Kind& k : {Kind{guided, &Explanation::guided, &Explanation::guided_picture},
                        Kind{guided_gradcam, &Explanation::guided_gradcam, &Explanation::guided_gradcam_picture},
                        Kind{deconvnet, &Explanation::deconvnet, &Explanation::deconvnet_picture}}) {
    if (!k.made.defined()) continue;
    const Tensor kept = where_asked(k.made, options.gradients_to_host);
    std::vector<image::Image> made_pictures;
    if (pictures) made_pictures = gradient_pictures(k.made);  // where the gradient was made
    for (int64_t n = 0; n < N; ++n) {
      round[n]->*k.tensor = kept.select(n);
      if (pictures) round[n]->*k.picture = std::move(made_pictures[n]);
    }
  }
}

}  // namespace gcam::cam
