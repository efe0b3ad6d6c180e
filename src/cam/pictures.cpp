// pictures.cpp — Grad-CAM maps coloured into heatmaps and overlays, and gradients made into pictures,
// where the tensors are (see gcam/explain.h: colour_maps, heatmaps, gradient_pictures). On the GPU one
// launch makes a kind of picture for the whole batch (src/cuda/cam.h: render, gradient_pictures) and only
// the pictures' bytes come back; on the CPU gcam/colormap.h's functions run per image. Both follow the
// same formulas (gcam/colormap.h), to within one unit of a byte.
#include <algorithm>
#include <string>

#include "../cuda/cam.h"
#include "gcam/error.h"
#include "gcam/explain.h"

namespace gcam::cam {

namespace {

// Bytes (N, H, W, 3) from the device, one picture per image.
std::vector<image::Image> split_pictures(const std::vector<uint8_t>& bytes, int64_t N, int64_t H, int64_t W) {
  std::vector<image::Image> out(static_cast<size_t>(N));
  const int64_t each = H * W * 3;
  for (int64_t n = 0; n < N; ++n)
    out[n] = {W, H, std::vector<uint8_t>(bytes.begin() + n * each, bytes.begin() + (n + 1) * each)};
  return out;
}

}  // namespace

std::vector<image::Image> heatmaps(const Tensor& maps, Colormap colormap) {
  check_ndim("heatmaps", "maps", maps, 3);
  const int64_t N = maps.size(0), H = maps.size(1), W = maps.size(2);
  if (maps.device() == Device::CUDA)
    return split_pictures(cuda::render(maps, cuda::DeviceArray<uint8_t>(), colormap, 0.0f).heat.copy_to_host(), N, H, W);
  std::vector<image::Image> out(static_cast<size_t>(N));
#pragma omp parallel for schedule(static) if (N > 1)
  for (int64_t n = 0; n < N; ++n) out[n] = heatmap(maps.data() + n * H * W, H, W, colormap);
  return out;
}

std::vector<image::Image> gradient_pictures(const Tensor& gradients) {
  check_ndim("gradient_pictures", "gradients", gradients, 4);
  GCAM_CHECK(gradients.size(1) == 3, "gradient_pictures: ", gradients.size(1), " channels, not 3");
  const int64_t N = gradients.size(0), H = gradients.size(2), W = gradients.size(3);
  if (gradients.device() == Device::CUDA)
    return split_pictures(cuda::gradient_pictures(gradients).copy_to_host(), N, H, W);
  std::vector<image::Image> out(static_cast<size_t>(N));
#pragma omp parallel for schedule(static) if (N > 1)
  for (int64_t n = 0; n < N; ++n) out[n] = gradient_picture(gradients.data() + n * 3 * H * W, H, W);
  return out;
}

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
    std::vector<image::Image> heat = split_pictures(r.heat.copy_to_host(), N, H, W),
                              overlay = split_pictures(r.overlay.copy_to_host(), N, H, W);
    for (int64_t n = 0; n < N; ++n) {
      explanations[n]->heatmap = std::move(heat[n]);
      explanations[n]->overlay = std::move(overlay[n]);
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
