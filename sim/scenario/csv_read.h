// csv_read.h — reading CSV text: the files goodhart writes (metrics.csv, runs.csv, leaderboard.csv, read back by
// report/) and the score files a scored world reads (models/worlds/scored.cpp), with every cell's line and column
// for located errors.
// Contract: RFC 4180 as CsvTable writes it: cells separated by ',', a cell quoted with '"' when it holds a comma,
// a quote or a line break, inner quotes doubled; lines end with '\n' (a '\r' before it is dropped); a UTF-8 byte
// order mark before the header is skipped. The first line is the header; every row must have as many cells as the
// header, else CsvError "source:line:col: ..." at the row's first extra or missing cell.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace goodhart {

// a malformed CSV text: where ("source:line:col") and what was expected there
struct CsvError : std::runtime_error {
  CsvError(std::string where_, std::string expected_)
      : std::runtime_error(where_ + ": " + expected_), where(std::move(where_)), expected(std::move(expected_)) {}
  std::string where, expected;
};

struct CsvData {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::uint32_t> row_line;  // the line row r starts on (the header is line 1)
  std::vector<std::uint32_t> cell_col;  // the column (1-based byte) cell c of row r starts at: [r * width + c]

  // index of a header cell, or -1 when absent
  int column(std::string_view name) const;
  // the cell of row r under `name`; "" when the column is absent
  const std::string& cell(std::size_t r, std::string_view name) const;
  // "source:line:col" of cell c of row r
  std::string where(const std::string& source, std::size_t r, std::size_t c) const;
};

// `source` names the text in errors
CsvData parse_csv(std::string_view text, const std::string& source);
// throws std::runtime_error naming the path when it cannot be read or parsed
CsvData read_csv(const std::filesystem::path& path);

}  // namespace goodhart
