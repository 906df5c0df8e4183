// tasks/member_streams.cpp: per-member random streams.
#include <richlazy/tasks/member_streams.h>

#include <richlazy/core/seeding.h>

#include <torch/torch.h>

#include <map>

namespace richlazy::tasks {

MemberStreams::MemberStreams(const std::vector<uint64_t>& seeds, const std::string& stream) {
  std::map<uint64_t, int64_t> index_of;
  std::vector<int64_t> member_index;
  for (const uint64_t seed : seeds) {
    auto it = index_of.find(seed);
    if (it == index_of.end()) {
      it = index_of.emplace(seed, static_cast<int64_t>(generators_.size())).first;
      generators_.push_back(std::make_unique<at::Generator>(stream_generator(seed, stream)));
      pointers_.push_back(generators_.back().get());
    }
    member_index.push_back(it->second);
  }
  generator_of_ = member_index;
  if (generators_.size() < seeds.size()) member_index_ = torch::tensor(member_index, torch::kLong);
}

TrialBatch MemberStreams::draw(const Task& task, int64_t trials) {
  TrialBatch batch = task.sample_members(trials, pointers_);
  if (!member_index_.defined()) return batch;
  return {batch.inputs.index_select(1, member_index_), batch.targets.index_select(1, member_index_),
          batch.mask.index_select(1, member_index_), {}};
}

torch::Tensor MemberStreams::normal(const std::vector<int64_t>& shape) {
  std::vector<torch::Tensor> draws;
  for (const auto& g : generators_) draws.push_back(torch::randn(shape, *g, torch::kFloat));
  const torch::Tensor stacked = torch::stack(draws);
  return member_index_.defined() ? stacked.index_select(0, member_index_) : stacked;
}

torch::Tensor MemberStreams::state(int64_t member) const {
  return generators_.at(generator_of_.at(member))->get_state();
}

void MemberStreams::set_state(int64_t member, const torch::Tensor& state) {
  generators_.at(generator_of_.at(member))->set_state(state);
}

}  // namespace richlazy::tasks
