// runtime.h — gcam's CUDA engine state (internal): the stream every kernel runs on, the library
// handles bound to it, the caching allocator, CUDA graphs, and the switches. Declared without CUDA
// headers so that host code can use it; cudaStream_t and the handles come through kernels/cuda_check.h.
//
// One stream per process: every kernel, cuDNN and cuBLAS call and every copy is issued on it, so they
// run in issue order. That is also what makes the caching allocator safe: a block freed by one op and
// handed to the next is only touched by work queued after everything that used it before.
#pragma once

#include <cstddef>
#include <cstdint>

struct CUstream_st;
struct cudnnContext;
struct cublasContext;

namespace gcam::cuda {

CUstream_st* stream();     // cudaStream_t
cudnnContext* cudnn();     // cudnnHandle_t, on stream()
cublasContext* cublas();   // cublasHandle_t, on stream()

// kArrivalCounters unsigned counters on the device, zero between launches, for kernels whose blocks
// count their arrivals so that the last one can finish (the threadfence-reduction pattern): a kernel
// that uses counters[i] sets it back to zero before it ends. Since every launch runs on stream(), in
// order, the next launch finds them zero, with no memset before it (one graph node less per use).
constexpr int64_t kArrivalCounters = 65535;  // a grid's y or z extent at most
unsigned* arrival_counters();

// GCAM_CUDA_SYNC=1: synchronise after every launch (read once); debug_wait() does it, unless the
// stream is being captured into a graph.
bool debug_sync();
void debug_wait();
// Waits for everything queued on the stream.
void synchronize();
// The current device's compute capability as major·10 + minor (90 for Hopper), 0 without a device.
int compute_capability();

// The caching allocator. Sizes are rounded up (512 B steps below 1 MiB, 2 MiB steps above); a freed
// block goes back to a free list and serves a later request that fits in it and needs at least half of
// it. cudaMalloc runs only when no cached block fits; when it fails, every cached block is released
// and the allocation is tried once more. While a Graph (below) captures, blocks come from that graph's
// private pool instead. Statistics: gcam/device.h.
void* allocate_bytes(std::size_t bytes);
void free_bytes(void* ptr);

// A CUDA graph: the work queued on stream() between begin_capture and end_capture, recorded once and
// replayed with one launch (no per-kernel launch cost). While capturing, device memory comes from the
// graph's private pool, which stays reserved for its replays until the graph is destroyed; work in
// the capture must not copy to the host or synchronise. One owner: neither copied nor moved.
class Graph {
 public:
  Graph() = default;
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  void begin_capture();
  void end_capture();
  void abandon_capture() noexcept;  // after an error inside the capture
  void replay();
  // One replay timed on the GPU (events recorded on the stream around it), waited for: milliseconds of
  // the device's time, without the host's launch and wake-up costs.
  float replay_ms();
  bool captured() const { return exec_ != nullptr; }

 private:
  void* graph_ = nullptr;  // cudaGraph_t
  void* exec_ = nullptr;   // cudaGraphExec_t
  int pool_ = 0;
  bool capturing_ = false;
};

}  // namespace gcam::cuda
