// richlazy/train/step_graph.h: a training iteration recorded once as a CUDA graph and replayed.
// On a GPU an iteration of a pack is a few hundred small kernels whose launches cost more
// than their arithmetic; a CUDA graph launches them all at once. The iteration must need
// nothing from the host (the trainer's is written so), and it works on fixed tensors: the
// batch is copied into the recorded one before each replay. Only a LibTorch built with CUDA
// can record graphs; elsewhere, and when recording fails, training runs each iteration as is.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace richlazy::train {

class StepGraph {
 public:
  StepGraph();
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  /// Whether this build can record CUDA graphs (compiled against a LibTorch with CUDA).
  static bool available();

  /// Runs `body` on the side stream graphs are recorded on (for the warm-up iterations that
  /// must precede recording), with the device synchronised before and after.
  void warm_up(const std::function<void()>& body);
  /// Records `body` (its work is recorded, not run). Returns false with `error` set when it
  /// cannot be recorded; run `body` normally then.
  bool capture(const std::function<void()>& body, std::string& error);
  /// Runs the recorded work on the current stream.
  void replay();
  bool captured() const { return captured_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool captured_ = false;
};

}  // namespace richlazy::train
