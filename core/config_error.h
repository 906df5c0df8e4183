// richlazy/core/config_error.h: the one exception type for bad user input.
// Config files, command-line values and data files report problems through ConfigError;
// the command line prints its message as is and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace richlazy {

/// A problem with what the user gave us (a config key, a file, a command-line value).
/// The message is complete and ready to print: `where: what`, for example
/// `exp.yaml:12:5: init.W_rec.rank must be an integer in [1, 300], got 500`.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Joins a list of names as "a, b, c" (used by every "known names are ..." message).
std::string join_names(const std::vector<std::string>& names, const std::string& sep = ", ");

/// The candidate closest to `word` by edit distance, or "" when none is close enough to be
/// a plausible typo. Used for "did you mean ...?" hints.
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace richlazy
