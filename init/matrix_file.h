// richlazy/init/matrix_file.h: weight matrices and neuron lists from data files.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace richlazy::init {

/// Throws ConfigError when `path` does not exist, saying where richlazy's own data lives (and,
/// for a file of its data folders, where that data comes from).
void require_data_file(const std::string& path);

/// A matrix from `path`, float64 on the CPU. `format`: npy (any dtype and order .npy reads),
/// csv (dense: one row per line, comma- or whitespace-separated numbers), edges (lines
/// "pre,post,weight" with 0-based neuron indices, or neuron names when `names` is given;
/// an optional header line; repeated edges add up; the matrix is [post, pre]) or auto (by
/// extension: .npy, otherwise csv, or edges when the first line is a pre/post header).
/// Throws ConfigError naming the file for a missing file, bad numbers, ragged rows, NaN or
/// infinite entries. Results are cached per path, size and modification time (the last
/// kMatrixCacheEntries files read, at most kMatrixCacheBytes of them together, so that the runs
/// of a sweep read a connectome once and a process that reads many files, or large ones, does
/// not keep them all; a matrix larger than that is not cached).
inline constexpr std::size_t kMatrixCacheEntries = 8;
inline constexpr std::size_t kMatrixCacheBytes = std::size_t{64} << 20;
/// How many matrices load_matrix's cache holds now, and their bytes (for tests).
std::size_t matrix_cache_size();
std::size_t matrix_cache_bytes();

torch::Tensor load_matrix(const std::string& path, const std::string& format,
                          const std::vector<std::string>& names = {});

/// A vector of numbers (e.g. an inhibitory mask): .npy of any shape with one non-singleton
/// dimension, or text with one number per line.
torch::Tensor load_vector(const std::string& path);

/// Neuron names, one per line; Python-list style lines (`[u'IL2DL',`) are accepted.
std::vector<std::string> load_names(const std::string& path);

}  // namespace richlazy::init
