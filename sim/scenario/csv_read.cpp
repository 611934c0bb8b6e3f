// csv_read.cpp — a small CSV reader that remembers where each cell starts.
// Contract: see csv_read.h.
#include "sim/scenario/csv_read.h"

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

std::string CsvData::where(const std::string& source, std::size_t r, std::size_t c) const {
  return source + ":" + std::to_string(row_line.at(r)) + ":" + std::to_string(cell_col.at(r * header.size() + c));
}

namespace {

// one parsed line: its cells and where each starts
struct Line {
  std::vector<std::string> cells;
  std::vector<std::uint32_t> cols;
  std::uint32_t line = 1, end_col = 1;  // end_col: the column just past the last cell
};

}  // namespace

CsvData parse_csv(std::string_view text, const std::string& source) {
  std::vector<Line> lines;
  Line current;
  std::string cell;
  bool quoted = false, any = false;  // inside quotes; the current line has content
  std::uint32_t line = 1, col = 1, quote_line = 0, quote_col = 0;  // where the open quote started
  std::size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  current.cols.push_back(1);
  const auto end_line = [&] {
    if (!cell.empty() && cell.back() == '\r') cell.pop_back();
    current.cells.push_back(std::move(cell));
    cell.clear();
    current.end_col = col;
    lines.push_back(std::move(current));
    current = Line{};
    any = false;
  };
  for (; i < text.size(); ++i, ++col) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i, ++col;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line, col = 0;
        cell += c;
      }
      continue;
    }
    any = true;
    if (c == '"') {
      quoted = true;
      quote_line = line, quote_col = col;
    } else if (c == ',') {
      current.cells.push_back(std::move(cell));
      cell.clear();
      current.cols.push_back(col + 1);
    } else if (c == '\n') {
      end_line();
      ++line, col = 0;
      current.line = line;
      current.cols.push_back(1);
    } else {
      cell += c;
    }
  }
  if (quoted)
    throw CsvError(source + ":" + std::to_string(quote_line) + ":" + std::to_string(quote_col),
                   "a closing '\"' for the quoted cell that starts here (it runs to the end of the file)");
  if (any) end_line();  // a last line without '\n'
  CsvData data;
  if (lines.empty()) throw CsvError(source + ":1:1", "a header line, but the file is empty");
  const std::size_t width = lines.front().cells.size();
  data.header = std::move(lines.front().cells);
  for (std::size_t r = 1; r < lines.size(); ++r) {
    Line& l = lines[r];
    if (l.cells.size() != width) {
      const std::uint32_t at = l.cells.size() > width ? l.cols[width] : l.end_col;
      throw CsvError(source + ":" + std::to_string(l.line) + ":" + std::to_string(at),
                     std::to_string(width) + " cells as in the header, but this row has " +
                         std::to_string(l.cells.size()));
    }
    data.rows.push_back(std::move(l.cells));
    data.row_line.push_back(l.line);
    data.cell_col.insert(data.cell_col.end(), l.cols.begin(), l.cols.end());
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
