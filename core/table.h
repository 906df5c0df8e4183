// richlazy/core/table.h: plain-text tables for the terminal.
#pragma once

#include <string>
#include <vector>

namespace richlazy {

/// Left-aligns text columns and right-aligns columns whose cells all look like numbers.
/// Every row must have as many cells as `header`.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

/// A metric value for tables: 4 significant digits, "nan" for NaN, "" for a missing value.
std::string format_metric(double v);

}  // namespace richlazy
