// train/checkpoint.cpp: checkpoint files (LibTorch's archive format).
#include <richlazy/train/checkpoint.h>

#include <fmt/format.h>
#include <torch/serialize.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <unistd.h>

namespace richlazy::train {

namespace fs = std::filesystem;

namespace {
constexpr int64_t kFormat = 1;

// Archive keys are plain names (t0, t1, ...); the state's own keys are stored as text.
torch::Tensor text_tensor(const std::string& text) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(text.size())}, torch::kUInt8);
  if (!text.empty()) std::memcpy(t.data_ptr<uint8_t>(), text.data(), text.size());
  return t;
}
std::string tensor_text(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kUInt8).contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), static_cast<std::size_t>(c.numel()));
}
}  // namespace

std::string checkpoint_path(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoint.pt").string(); }

void write_checkpoint(const std::string& path, const MemberState& state, const std::string& config_text) {
  torch::serialize::OutputArchive archive;
  archive.write("format", torch::tensor(kFormat, torch::kLong));
  archive.write("config", text_tensor(config_text));
  std::string keys;
  int64_t i = 0;
  for (const auto& [key, t] : state) {
    keys += key + "\n";
    archive.write(fmt::format("t{}", i++), t.contiguous());
  }
  archive.write("keys", text_tensor(keys));
  const std::string tmp = fmt::format("{}.tmp.{}", path, static_cast<long>(::getpid()));
  try {
    archive.save_to(tmp);
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    throw std::runtime_error(fmt::format("cannot write the checkpoint {}: {}", path, e.what()));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error(fmt::format("cannot write the checkpoint {}: {}", path, std::strerror(err)));
  }
}

std::optional<MemberState> read_checkpoint(const std::string& path, const std::string& config_text, std::string* why) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  auto fail = [&](const std::string& reason) -> std::optional<MemberState> {
    if (why) *why = fmt::format("checkpoint {} not used: {}", path, reason);
    return std::nullopt;
  };
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::Tensor format, config, keys;
    archive.read("format", format);
    if (format.item<int64_t>() != kFormat) return fail(fmt::format("format {} is not {}", format.item<int64_t>(), kFormat));
    archive.read("config", config);
    if (tensor_text(config) != config_text) return fail("it was written for a different config of this run");
    archive.read("keys", keys);
    MemberState state;
    const std::string names = tensor_text(keys);
    std::size_t start = 0;
    int64_t i = 0;
    while (start < names.size()) {
      const std::size_t nl = names.find('\n', start);
      const std::string key = names.substr(start, nl - start);
      torch::Tensor t;
      archive.read(fmt::format("t{}", i++), t);
      state[key] = t;
      start = nl == std::string::npos ? names.size() : nl + 1;
    }
    return state;
  } catch (const std::exception& e) {
    std::string what = e.what();
    return fail("cannot read it: " + what.substr(0, what.find('\n')));
  }
}

int64_t checkpoint_step(const MemberState& state) {
  const auto it = state.find("step");
  return it == state.end() ? -1 : it->second.item<int64_t>();
}

}  // namespace richlazy::train
