// core/seeding.cpp: derived seeds and generators.
#include <richlazy/core/seeding.h>

#include <ATen/CPUGeneratorImpl.h>

namespace richlazy {

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return h;
}
}  // namespace

uint64_t derive_seed(uint64_t seed, const std::string& stream) {
  return splitmix64(splitmix64(seed) ^ fnv1a(stream));
}

at::Generator make_generator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

at::Generator stream_generator(uint64_t seed, const std::string& stream) {
  return make_generator(derive_seed(seed, stream));
}

}  // namespace richlazy
