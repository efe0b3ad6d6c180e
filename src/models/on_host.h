// on_host.h — host-only model work (loading a checkpoint, folding batch norm, drawing initial weights)
// on a model that may live on the GPU: the model moves to the CPU, the work runs there, the model moves
// back (internal). A caller whose model is already on the CPU does not come here.
#pragma once

#include <type_traits>

#include "gcam/models.h"

namespace gcam::models::detail {

template <typename Work>
auto on_host(Model& model, Work work) {
  const Device device = model.device();
  model.to(Device::CPU);
  if constexpr (std::is_void_v<decltype(work())>) {
    work();
    model.to(device);
  } else {
    auto result = work();
    model.to(device);
    return result;
  }
}

}  // namespace gcam::models::detail
