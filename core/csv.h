// richlazy/core/csv.h: writing CSV fields, and quoting names read back from files.
// Every CSV richlazy writes (summary.csv, metrics.csv) quotes its fields with csv_field, so a
// comma, quote or line break in a value (a swept spec, a column name) cannot shift columns.
#pragma once

#include <fmt/format.h>

#include <string>

namespace richlazy {

/// `s` as one CSV field (RFC 4180): as is, or in double quotes with quotes doubled when it
/// holds a comma, a quote, a line break or leading or trailing spaces.
inline std::string csv_field(const std::string& s) {
  const bool quote = s.find_first_of(",\"\n\r") != std::string::npos ||
                     (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!quote) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

/// `s` with control characters written as \n, \t, \r or \xNN, and cut after `max_chars`
/// characters: a name from a file or a config, safe to print on one line.
inline std::string printable(const std::string& s, std::size_t max_chars = 80) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == max_chars) return out + "...";
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

}  // namespace richlazy
