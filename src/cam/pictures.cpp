// pictures.cpp — Grad-CAM maps coloured into heatmaps and overlays where the maps are (see
// gcam/explain.h: colour_maps). On the GPU one fused launch colours the whole batch (src/cuda/cam.h:
// render) and only the pictures' bytes come back; on the CPU gcam/colormap.h's functions run per image.
// Both follow the same formulas (gcam/colormap.h), to within one unit of a byte.
#include <algorithm>
#include <string>

#include "../cuda/cam.h"
#include "gcam/error.h"
#include "gcam/explain.h"

namespace gcam::cam {

void colour_maps(const Tensor& maps, const Pictures& pictures, std::vector<Explanation*>& explanations) {
  check_ndim("colour_maps", "maps", maps, 3);
  const int64_t N = maps.size(0), H = maps.size(1), W = maps.size(2);
  GCAM_CHECK(pictures.images != nullptr && static_cast<int64_t>(pictures.images->size()) == N &&
                 static_cast<int64_t>(explanations.size()) == N,
             "colour_maps: ", pictures.images ? pictures.images->size() : 0, " pictures and ", explanations.size(),
             " explanations for ", N, " maps");
  for (const image::Image& picture : *pictures.images)
    GCAM_CHECK(picture.height == H && picture.width == W && static_cast<int64_t>(picture.rgb.size()) == H * W * 3,
               "colour_maps: a ", picture.width, "x", picture.height, " picture for ", W, "x", H, " maps");
  const int64_t bytes = H * W * 3;
  if (maps.device() == Device::CUDA) {
    std::vector<uint8_t> batch(static_cast<size_t>(N * bytes));  // (N, H, W, 3)
    for (int64_t n = 0; n < N; ++n)
      std::copy((*pictures.images)[n].rgb.begin(), (*pictures.images)[n].rgb.end(), batch.begin() + n * bytes);
    const cuda::Rendered r = cuda::render(maps, cuda::DeviceArray<uint8_t>::copy_from_host(batch), pictures.colormap,
                                          pictures.alpha);
    const std::vector<uint8_t> heat = r.heat.copy_to_host(), overlay = r.overlay.copy_to_host();
    for (int64_t n = 0; n < N; ++n) {
      explanations[n]->heatmap = {W, H, std::vector<uint8_t>(heat.begin() + n * bytes, heat.begin() + (n + 1) * bytes)};
      explanations[n]->overlay = {W, H,
                                  std::vector<uint8_t>(overlay.begin() + n * bytes, overlay.begin() + (n + 1) * bytes)};
    }
    return;
  }
#pragma omp parallel for schedule(static) if (N > 1)
  for (int64_t n = 0; n < N; ++n) {
    const float* map = maps.data() + n * H * W;
    explanations[n]->heatmap = heatmap(map, H, W, pictures.colormap);
    explanations[n]->overlay = overlay((*pictures.images)[n], map, pictures.colormap, pictures.alpha);
  }
}

}  // namespace gcam::cam
