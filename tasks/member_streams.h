// richlazy/tasks/member_streams.h: the random streams of a pack's members, for drawing trials.
// Member e of a pack draws its trials from its own seed's stream (core/seeding.h), exactly
// as its solo run does. Members that share a seed share that stream's draws: each distinct
// seed is drawn once, and its trials are handed to every member with that seed.
#pragma once

#include <richlazy/tasks/task.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace richlazy::tasks {

class MemberStreams {
 public:
  /// The stream `stream` ("train", "probe", "test") of each member's seed.
  MemberStreams(const std::vector<uint64_t>& seeds, const std::string& stream);

  /// The next `trials` trials of every member from its stream, in the member layout
  /// [T, E, trials, ...] on the CPU (task.sample_members over the distinct seeds).
  TrialBatch draw(const Task& task, int64_t trials);

  /// Standard normals [E, shape...] float32 on the CPU: member e's are
  /// torch::randn(shape) from its stream.
  torch::Tensor normal(const std::vector<int64_t>& shape);
  /// The state of member `member`'s stream (a CPU byte tensor), for checkpoints.
  torch::Tensor state(int64_t member) const;
  /// Sets member `member`'s stream to `state`. Members that share a seed share a stream:
  /// they must be given equal states (members at the same step have them).
  void set_state(int64_t member, const torch::Tensor& state);

 private:
  std::vector<std::unique_ptr<at::Generator>> generators_;  ///< one per distinct seed
  std::vector<at::Generator*> pointers_;
  torch::Tensor member_index_;  ///< member -> its seed's generator; undefined when all differ
  std::vector<int64_t> generator_of_;  ///< member -> index into generators_
};

}  // namespace richlazy::tasks
