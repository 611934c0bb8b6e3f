// csv_read.h — reading back the CSV files goodhart writes (metrics.csv, runs.csv, leaderboard.csv).
// Contract: RFC 4180 as CsvTable writes it: cells separated by ',', a cell quoted with '"' when it holds a comma,
// a quote or a line break, inner quotes doubled; lines end with '\n' (a '\r' before it is dropped). The first
// line is the header; every row must have as many cells as the header, else std::runtime_error naming the file
// and line.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace goodhart {

struct CsvData {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  // index of a header cell, or -1 when absent
  int column(std::string_view name) const;
  // the cell of row r under `name`; "" when the column is absent
  const std::string& cell(std::size_t r, std::string_view name) const;
};

// `source` names the text in errors
CsvData parse_csv(std::string_view text, const std::string& source);
// throws std::runtime_error naming the path when it cannot be read or parsed
CsvData read_csv(const std::filesystem::path& path);

}  // namespace goodhart
