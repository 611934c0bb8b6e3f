// csv_read.cpp — a small CSV reader for the files CsvTable writes.
// Contract: see csv_read.h.
#include "sim/io/csv_read.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace goodhart {

int CsvData::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

const std::string& CsvData::cell(std::size_t r, std::string_view name) const {
  static const std::string empty;
  const int c = column(name);
  return c < 0 ? empty : rows.at(r).at(static_cast<std::size_t>(c));
}

CsvData parse_csv(std::string_view text, const std::string& source) {
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false, any = false;  // inside quotes; the current line has content
  std::size_t line = 1;
  const auto end_line = [&] {
    if (!cell.empty() && cell.back() == '\r') cell.pop_back();
    cells.push_back(std::move(cell));
    cell.clear();
    lines.push_back(std::move(cells));
    cells.clear();
    any = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    any = true;
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      end_line();
      ++line;
    } else {
      cell += c;
    }
  }
  if (quoted) throw std::runtime_error(source + ":" + std::to_string(line) + ": unterminated quoted cell");
  if (any) end_line();  // a last line without '\n'
  CsvData data;
  if (lines.empty()) throw std::runtime_error(source + ": empty CSV file (no header)");
  data.header = std::move(lines.front());
  for (std::size_t r = 1; r < lines.size(); ++r) {
    if (lines[r].size() != data.header.size())
      throw std::runtime_error(source + ": row " + std::to_string(r) + " has " + std::to_string(lines[r].size()) +
                               " cells, the header " + std::to_string(data.header.size()));
    data.rows.push_back(std::move(lines[r]));
  }
  return data;
}

CsvData read_csv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return parse_csv(s.str(), path.string());
}

}  // namespace goodhart
