// runtime.cu — the engine's stream and library handles, the caching allocator with its pools, CUDA
// graph capture and replay, the switches (what each does: src/cuda/runtime.h).
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "../src/device_memory.h"
#include "cuda_check.h"
#include "gcam/device.h"

namespace gcam::cuda {

namespace {

struct Engine {
  cudaStream_t stream = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;

  Engine() {
    GCAM_CHECK(device_count() > 0, "cuda: no CUDA device is available (use the CPU)");
    GCAM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    GCAM_CUDA_CHECK(cudnnCreate(&cudnn));
    GCAM_CUDA_CHECK(cudnnSetStream(cudnn, stream));
    const CublasFunctions& blas = cublas_functions();  // opens libcublas (see cublas_library.h)
    GCAM_CUDA_CHECK(blas.create(&cublas));
    GCAM_CUDA_CHECK(blas.set_stream(cublas, stream));
    GCAM_CUDA_CHECK(blas.set_math_mode(cublas, CUBLAS_PEDANTIC_MATH));  // FP32 until TF32 is asked for
    // cuBLAS's own workspace, set once: otherwise it allocates one lazily, which a graph capture forbids.
    GCAM_CUDA_CHECK(cudaMalloc(&cublas_workspace, kCublasWorkspace));
    GCAM_CUDA_CHECK(blas.set_workspace(cublas, cublas_workspace, kCublasWorkspace));
    // Arrival counters, zeroed once here (a capture forbids the synchronous memset); see runtime.h.
    GCAM_CUDA_CHECK(cudaMalloc(&arrivals, kArrivalCounters * sizeof(unsigned)));
    GCAM_CUDA_CHECK(cudaMemset(arrivals, 0, kArrivalCounters * sizeof(unsigned)));
    GCAM_CUDA_CHECK(cudaDeviceSynchronize());
  }
  static constexpr size_t kCublasWorkspace = size_t{32} << 20;
  void* cublas_workspace = nullptr;
  unsigned* arrivals = nullptr;
};

// Created on first use and never destroyed: at process exit the driver reclaims everything, and a
// destructor running after the CUDA runtime has shut down would fail.
Engine& engine() {
  static Engine* e = new Engine();
  return *e;
}

bool tf32_enabled = false;

constexpr std::size_t kSmallStep = 512;
constexpr std::size_t kLargeStep = std::size_t{2} << 20;
constexpr std::size_t kSmallLimit = std::size_t{1} << 20;

std::size_t rounded(std::size_t bytes) {
  const std::size_t step = bytes < kSmallLimit ? kSmallStep : kLargeStep;
  return (std::max<std::size_t>(bytes, 1) + step - 1) / step * step;
}

// Pools: pool 0 serves ordinary work. A CUDA graph captures with a private pool of its own: blocks it
// allocates (and frees) during capture stay reserved for its replays — handed to nobody else — until
// the graph is destroyed and its pool retired into pool 0.
class CachingAllocator {
 public:
  void* allocate(std::size_t request) {
    const std::size_t bytes = rounded(request);
    std::lock_guard<std::mutex> lock(mutex_);
    auto& cache = free_[current_pool_];
    // The smallest cached block that fits, if it is not more than twice the request.
    auto it = cache.lower_bound(bytes);
    if (it != cache.end() && it->first <= 2 * bytes) {
      void* ptr = it->second;
      const std::size_t size = it->first;
      cache.erase(it);
      live_[ptr] = {size, current_pool_};
      stats_.bytes_cached -= size;
      stats_.bytes_in_use += size;
      ++stats_.cache_hits;
      return ptr;
    }
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, bytes);
    if (status == cudaErrorMemoryAllocation && current_pool_ == 0) {  // give the cache back, try once more
      cudaGetLastError();
      release_locked();
      status = cudaMalloc(&ptr, bytes);
    }
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      throw InputError(gcam::detail::concat("cuda: out of device memory allocating ", bytes >> 20, " MiB (",
                                            stats_.bytes_in_use >> 20, " MiB in use by tensors)"));
    }
    GCAM_CUDA_CHECK(status);
    live_[ptr] = {bytes, current_pool_};
    stats_.bytes_in_use += bytes;
    ++stats_.device_allocations;
    return ptr;
  }

  void free(void* ptr) {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(ptr);
    if (it == live_.end()) return;  // not ours: never happens, and never worth a crash in a destructor
    const Block b = it->second;
    free_[retired_.count(b.pool) ? 0 : b.pool].emplace(b.size, ptr);
    stats_.bytes_in_use -= b.size;
    stats_.bytes_cached += b.size;
    live_.erase(it);
  }

  int open_pool() {
    std::lock_guard<std::mutex> lock(mutex_);
    current_pool_ = ++last_pool_;
    return current_pool_;
  }
  void close_pool() {
    std::lock_guard<std::mutex> lock(mutex_);
    current_pool_ = 0;
  }
  void retire_pool(int pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    retired_.insert(pool);
    auto it = free_.find(pool);
    if (it == free_.end()) return;
    free_[0].insert(it->second.begin(), it->second.end());
    free_.erase(pool);
  }

  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_locked();
  }

  CudaMemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  struct Block {
    std::size_t size;
    int pool;
  };

  void release_locked() {  // pool 0's free blocks only: a graph's stay reserved
    auto& cache = free_[0];
    if (cache.empty()) return;
    cudaStreamSynchronize(engine().stream);  // no queued work may still use a block we hand back
    for (const auto& [size, ptr] : cache) {
      cudaFree(ptr);
      stats_.bytes_cached -= size;
    }
    cache.clear();
  }

  std::mutex mutex_;
  std::map<int, std::multimap<std::size_t, void*>> free_;  // pool → (size → block)
  std::unordered_map<void*, Block> live_;
  std::set<int> retired_;
  int current_pool_ = 0, last_pool_ = 0;
  CudaMemoryStats stats_;
};

CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();  // never destroyed, like the engine
  return *a;
}

}  // namespace

cudaStream_t stream() { return engine().stream; }
unsigned* arrival_counters() { return engine().arrivals; }
cudnnHandle_t cudnn() { return engine().cudnn; }
cublasHandle_t cublas() { return engine().cublas; }

bool debug_sync() {
  static const bool on = [] {
    const char* v = std::getenv("GCAM_CUDA_SYNC");
    return v && std::strcmp(v, "0") != 0 && *v != '\0';
  }();
  return on;
}

void synchronize() { GCAM_CUDA_CHECK(cudaStreamSynchronize(stream())); }

int compute_capability() {
  int device = 0, major = 0, minor = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
    cudaGetLastError();  // no device: not an error here
    return 0;
  }
  return 10 * major + minor;
}

void debug_wait() {
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  GCAM_CUDA_CHECK(cudaStreamIsCapturing(stream(), &capturing));
  if (capturing == cudaStreamCaptureStatusNone) synchronize();
}

void* allocate_bytes(std::size_t bytes) {
  GCAM_CHECK(device_count() > 0, "cuda: no CUDA device is available (use the CPU)");
  engine();  // the stream exists before the first block does
  return allocator().allocate(bytes);
}

void free_bytes(void* ptr) { allocator().free(ptr); }

Graph::~Graph() {
  if (exec_) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
  if (graph_) cudaGraphDestroy(static_cast<cudaGraph_t>(graph_));
  if (pool_) allocator().retire_pool(pool_);
}

void Graph::begin_capture() {
  GCAM_CHECK(!graph_ && !capturing_, "cuda graph: already captured");
  synchronize();  // nothing from before may be part of the capture
  pool_ = allocator().open_pool();
  capturing_ = true;
  // Relaxed: this thread may still call cudaMalloc (the pool grows while the capture records).
  GCAM_CUDA_CHECK(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeRelaxed));
}

void Graph::end_capture() {
  GCAM_CHECK(capturing_, "cuda graph: end_capture without begin_capture");
  capturing_ = false;
  allocator().close_pool();
  cudaGraph_t graph = nullptr;
  GCAM_CUDA_CHECK(cudaStreamEndCapture(stream(), &graph));
  graph_ = graph;
  cudaGraphExec_t exec = nullptr;
  GCAM_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  exec_ = exec;
}

void Graph::abandon_capture() noexcept {
  if (!capturing_) return;
  capturing_ = false;
  allocator().close_pool();
  cudaGraph_t graph = nullptr;
  cudaStreamEndCapture(stream(), &graph);  // ends the (failed) capture; its partial graph is dropped
  if (graph) cudaGraphDestroy(graph);
  cudaGetLastError();
}

void Graph::replay() {
  GCAM_CHECK(exec_, "cuda graph: nothing captured");
  GCAM_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), stream()));
  GCAM_CHECK_LAUNCH();
}

namespace {
struct Event {  // one CUDA event, destroyed with its owner
  cudaEvent_t e = nullptr;
  Event() { GCAM_CUDA_CHECK(cudaEventCreate(&e)); }
  ~Event() { cudaEventDestroy(e); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
};
}  // namespace

float Graph::replay_ms() {
  Event start, stop;
  GCAM_CUDA_CHECK(cudaEventRecord(start.e, stream()));
  replay();
  GCAM_CUDA_CHECK(cudaEventRecord(stop.e, stream()));
  GCAM_CUDA_CHECK(cudaEventSynchronize(stop.e));
  float ms = 0.0f;
  GCAM_CUDA_CHECK(cudaEventElapsedTime(&ms, start.e, stop.e));
  return ms;
}

}  // namespace gcam::cuda

namespace gcam {

CudaMemoryStats cuda_memory_stats() { return cuda::allocator().stats(); }
void cuda_release_cached_memory() { cuda::allocator().release(); }
void cuda_synchronize() { cuda::synchronize(); }

void set_cuda_tf32(bool on) {
  cuda::tf32_enabled = on;
  if (cuda_available())
    GCAM_CUDA_CHECK(cuda::cublas_functions().set_math_mode(cuda::cublas(), on ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                              : CUBLAS_PEDANTIC_MATH));
}
bool cuda_tf32() { return cuda::tf32_enabled; }

}  // namespace gcam
