// files.h — text output helpers: shortest round-trip numbers, CSV cells and tables, atomic file writes.
// Contract: output never depends on the locale; a written file is either the old one or the complete new one.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace goodhart {

// shortest decimal that parses back to the same double (std::to_chars, no locale);
// NaN -> "" (an empty CSV cell: not applicable); an infinity throws std::overflow_error (never written)
std::string format_double(double x);

// a CSV cell, quoted (with inner quotes doubled) only when it holds a comma, a quote or a line break
std::string csv_escape(std::string_view cell);

// writes path.tmp.<pid> beside path, fsyncs it, renames it over path; creates parent folders; throws
// std::runtime_error naming the path on failure (and removes the temporary file)
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// a CSV table of raw cells; str() escapes them and ends every line with '\n'
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  std::string str() const;  // throws std::logic_error when a row's cell count differs from header.size()
};

}  // namespace goodhart
