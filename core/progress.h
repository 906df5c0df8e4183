// richlazy/core/progress.h: a progress line for long work.
// On a terminal it redraws one line on stderr (at most a few times a second); elsewhere it
// stays silent so that logs stay readable. Quiet mode silences it entirely.
#pragma once

#include <chrono>
#include <string>

namespace richlazy {

class ProgressLine {
 public:
  /// `enabled` is usually `!quiet && isatty(stderr)`.
  explicit ProgressLine(bool enabled);
  ~ProgressLine();

  /// Redraws the line with `text` unless the last redraw was under 0.2 s ago and `force`
  /// is false.
  void update(const std::string& text, bool force = false);
  /// Erases the line so that ordinary output can follow.
  void clear();

  bool enabled() const { return enabled_; }

  /// True when stderr is a terminal.
  static bool stderr_is_terminal();

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

/// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace richlazy
