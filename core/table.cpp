// core/table.cpp: aligned text tables.
#include <richlazy/core/table.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace richlazy {

namespace {
/// Display width of UTF-8 text: code points, not bytes ("±" is one column).
std::size_t text_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& s, std::size_t width, bool right) {
  const std::string fill(width > text_width(s) ? width - text_width(s) : 0, ' ');
  return right ? fill + s : s + fill;
}

bool looks_numeric(const std::string& s) {
  if (s.empty()) return true;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}
}  // namespace

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  const std::size_t n = header.size();
  std::vector<std::size_t> width(n);
  std::vector<bool> numeric(n, true);
  for (std::size_t c = 0; c < n; ++c) width[c] = text_width(header[c]);
  for (const auto& row : rows) {
    if (row.size() != n) throw std::logic_error("format_table: row width differs from header");
    for (std::size_t c = 0; c < n; ++c) {
      width[c] = std::max(width[c], text_width(row[c]));
      numeric[c] = numeric[c] && looks_numeric(row[c]);
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < n; ++c) {
      if (c) out += "  ";
      out += pad(cells[c], width[c], numeric[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header);
  std::vector<std::string> rule;
  for (std::size_t c = 0; c < n; ++c) rule.emplace_back(width[c], '-');
  out += line(rule);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string format_metric(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.4g}", v);
}

}  // namespace richlazy
