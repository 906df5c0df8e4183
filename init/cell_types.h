// richlazy/init/cell_types.h: a cell-type block model of connectivity (e.g. Billeh et al.
// 2020's mouse V1 rules, data/billeh_v1).
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace richlazy::init {

/// Classes with their fractions, and class-to-class connection probabilities and mean
/// signed weights, indexed [pre][post].
struct CellTypeTable {
  std::vector<std::string> names;
  std::vector<double> fractions;  ///< normalized to sum to 1
  torch::Tensor probability;      ///< [C, C] float64, [pre][post]
  torch::Tensor weight;           ///< [C, C] float64, [pre][post]
};

/// Reads the YAML table (format of v1_cell_classes.yaml: `classes` with name and fraction,
/// `connection_probability` and `synaptic_weight` maps from class name to a row). Throws
/// ConfigError naming the file for missing classes, bad lengths or probabilities.
CellTypeTable load_cell_types(const std::string& path);

struct CellTypeSample {
  torch::Tensor labels;  ///< [N] class of each neuron
  torch::Tensor matrix;  ///< [N, N] W[post, pre]
};

/// Draws class labels for `n` neurons from the fractions, then W[i, j] =
/// Bernoulli(p[class(j)][class(i)]) * w[class(j)][class(i)], or the expected value
/// p * w when `expected` (an exactly low-rank block matrix).
CellTypeSample sample_cell_types(const CellTypeTable& table, int64_t n, bool expected, at::Generator& gen);

}  // namespace richlazy::init
