// pictures.cpp — Grad-CAM maps coloured into heatmaps and overlays, and gradients made into pictures,
// where the tensors are (see gcam/explain.h: colour_maps, heatmaps, gradient_pictures). On the GPU one
// launch makes a kind of picture for the whole batch (src/cuda/cam.h: draw, gradient_pictures) and only
// the pictures' bytes come back; on the CPU gcam/colormap.h's functions run per image. Both follow the
// same formulas (gcam/colormap.h), to within one unit of a byte.
#include "pictures.h"

#include <algorithm>
#include <string>

#include "../cuda/cam.h"
#include "gcam/error.h"

namespace gcam::cam {

void check_pictures(const Pictures& pictures, int64_t N, int64_t H, int64_t W) {
  GCAM_CHECK(pictures.images != nullptr && static_cast<int64_t>(pictures.images->size()) == N, "pictures: ",
             pictures.images ? pictures.images->size() : 0, " pictures for ", N, " maps");
  for (const image::Image& picture : *pictures.images)
    GCAM_CHECK(picture.height == H && picture.width == W && static_cast<int64_t>(picture.rgb.size()) == H * W * 3,
               "pictures: a ", picture.width, "x", picture.height, " picture for ", W, "x", H, " maps");
}

std::vector<uint8_t> picture_bytes(const Pictures& pictures, int64_t N, int64_t H, int64_t W) {
  check_pictures(pictures, N, H, W);
  const int64_t bytes = H * W * 3;
  std::vector<uint8_t> batch(static_cast<size_t>(N * bytes));  // (N, H, W, 3)
  for (int64_t n = 0; n < N; ++n)
    std::copy((*pictures.images)[n].rgb.begin(), (*pictures.images)[n].rgb.end(), batch.begin() + n * bytes);
  return batch;
}

cuda::DeviceArray<uint8_t> upload_pictures(const Pictures& pictures, int64_t N, int64_t H, int64_t W) {
  return cuda::DeviceArray<uint8_t>::copy_from_host(picture_bytes(pictures, N, H, W));
}

std::vector<image::Image> split_pictures(const std::vector<uint8_t>& bytes, int64_t N, int64_t H, int64_t W) {
  std::vector<image::Image> out(static_cast<size_t>(N));
  const int64_t each = H * W * 3;
  for (int64_t n = 0; n < N; ++n)
    out[n] = {W, H, std::vector<uint8_t>(bytes.begin() + n * each, bytes.begin() + (n + 1) * each)};
  return out;
}

void colour_maps(const Tensor& maps, const Pictures& pictures, const std::vector<Explanation*>& explanations) {
  check_ndim("colour_maps", "maps", maps, 3);
  const int64_t N = maps.size(0), H = maps.size(1), W = maps.size(2);
  GCAM_CHECK(static_cast<int64_t>(explanations.size()) == N, "colour_maps: ", explanations.size(),
             " explanations for ", N, " maps");
  if (maps.device() == Device::CUDA) {
    const cuda::DeviceArray<uint8_t> on_device = upload_pictures(pictures, N, H, W);
    cuda::Drawing what;
    what.height = H, what.width = W, what.map = false, what.heat = true, what.pictures = &on_device;
    what.colormap = pictures.colormap, what.alpha = pictures.alpha;
    const cuda::Drawn drawn = cuda::draw(maps, what);
    std::vector<image::Image> heat = split_pictures(drawn.heat.copy_to_host(), N, H, W),
                              overlay = split_pictures(drawn.overlay.copy_to_host(), N, H, W);
    for (int64_t n = 0; n < N; ++n) {
      explanations[n]->heatmap = std::move(heat[n]);
      explanations[n]->overlay = std::move(overlay[n]);
    }
    return;
  }
  check_pictures(pictures, N, H, W);
#pragma omp parallel for schedule(static) if (N > 1)
  for (int64_t n = 0; n < N; ++n) {
    const float* map = maps.data() + n * H * W;
    explanations[n]->heatmap = heatmap(map, H, W, pictures.colormap);
    explanations[n]->overlay = overlay((*pictures.images)[n], map, pictures.colormap, pictures.alpha);
  }
}

std::vector<image::Image> heatmaps(const Tensor& maps, Colormap colormap) {
  check_ndim("heatmaps", "maps", maps, 3);
  const int64_t N = maps.size(0), H = maps.size(1), W = maps.size(2);
  if (maps.device() == Device::CUDA) {
    cuda::Drawing what;
    what.height = H, what.width = W, what.map = false, what.heat = true, what.colormap = colormap;
    return split_pictures(cuda::draw(maps, what).heat.copy_to_host(), N, H, W);
  }
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

}  // namespace gcam::cam
