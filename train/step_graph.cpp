// train/step_graph.cpp: CUDA graph capture and replay (a stub without CUDA).
#include <richlazy/train/step_graph.h>

#include <mutex>
#include <stdexcept>

#ifdef RICHLAZY_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>
#endif

namespace richlazy::train {

#ifdef RICHLAZY_WITH_CUDA
// Made on first use, on a GPU only: a CUDA graph and a stream from the pool need a CUDA
// device, and a CPU run (of a CUDA build, on a machine without a GPU) must not ask for one.
struct StepGraph::Impl {
  at::cuda::CUDAGraph graph;
  c10::cuda::CUDAStream stream = c10::cuda::getStreamFromPool();
};

bool StepGraph::available() { return true; }

namespace {
// Packs trained at the same time (--jobs > 1) warm up and record one at a time: a device-wide
// synchronisation must not meet another thread's recording.
std::mutex& recording_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

StepGraph::StepGraph() = default;

void StepGraph::warm_up(const std::function<void()>& body) {
  const std::lock_guard<std::mutex> lock(recording_mutex());
  if (!impl_) impl_ = std::make_unique<Impl>();
  torch::cuda::synchronize();
  {
    c10::cuda::CUDAStreamGuard guard(impl_->stream);
    body();
  }
  torch::cuda::synchronize();
}

bool StepGraph::capture(const std::function<void()>& body, std::string& error) {
  const std::lock_guard<std::mutex> lock(recording_mutex());
  try {
    if (!impl_) impl_ = std::make_unique<Impl>();
    torch::cuda::synchronize();
    // As PyTorch's torch.cuda.graph does: give the warm-up's cached blocks back, so that the
    // graph's private memory pool does not sit next to them.
    c10::cuda::CUDACachingAllocator::emptyCache();
    c10::cuda::CUDAStreamGuard guard(impl_->stream);
    // Thread-local capture mode: other threads (packs trained at the same time) may go on
    // allocating while this one records.
    impl_->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
    try {
      body();
    } catch (...) {
      try {
        impl_->graph.capture_end();
      } catch (...) {
      }
      throw;
    }
    impl_->graph.capture_end();
    torch::cuda::synchronize();
  } catch (const std::exception& e) {
    error = e.what();
    error = error.substr(0, error.find('\n'));
    return false;
  }
  captured_ = true;
  return true;
}

void StepGraph::replay() {
  if (!captured_) throw std::logic_error("StepGraph::replay without a recorded graph");
  impl_->graph.replay();
}
#else
struct StepGraph::Impl {};

bool StepGraph::available() { return false; }

StepGraph::StepGraph() = default;

void StepGraph::warm_up(const std::function<void()>& body) { body(); }

bool StepGraph::capture(const std::function<void()>&, std::string& error) {
  error = "this build of richlazy has no CUDA";
  return false;
}

void StepGraph::replay() { throw std::logic_error("StepGraph::replay without a recorded graph"); }
#endif

StepGraph::~StepGraph() = default;

}  // namespace richlazy::train
