// files.h — text output helpers: shortest round-trip numbers, CSV cells and tables, atomic file writes, and the
// lock that keeps two runs out of one results folder.
// Contract: output never depends on the locale; a written file is either the old one or the complete new one.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace goodhart {

// shortest decimal that parses back to the same double (std::to_chars, no locale);
// NaN -> "" (an empty CSV cell: not applicable); an infinity throws std::overflow_error (never written)
std::string format_double(double x);

// the same for a float: the shortest decimal that reads back (as a float, or as a double rounded to float) to x
std::string format_float(float x);

// a CSV cell, quoted (with inner quotes doubled) only when it holds a comma, a quote or a line break
std::string csv_escape(std::string_view cell);

// writes path.tmp.<pid> beside path, fsyncs it, renames it over path; creates parent folders; throws
// std::runtime_error naming the path on failure (and removes the temporary file)
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// publishes a set of files as one step: each is written complete to a temporary file first (a failure — a full disk
// — removes them all and replaces nothing), then the last file, the set's marker, is removed, the others renamed
// over their targets and the marker renamed last. So the set present with its marker is always one complete set.
void publish_files(const std::vector<std::pair<std::filesystem::path, std::string>>& files);

// removes the temporary files (NAME.tmp.<pid>) a killed writer left in dir and its subfolders; only for the holder
// of dir's exclusive lock, when no other process can be writing one. Returns how many it removed
std::size_t remove_stale_temporaries(const std::filesystem::path& dir);

// an output folder that cannot be used: a file of that name, a folder that cannot be created or written into
struct FolderUnusable : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// creates dir (and its parents) when missing and checks that it is a folder this process can write into; throws
// FolderUnusable naming the folder and the reason
void make_output_folder(const std::filesystem::path& dir);

// an advisory lock on a results folder (flock on <dir>/.goodhart.lock): exclusive for a run that writes the whole
// folder, shared by shard runs (each writes only its own points); released when the object is destroyed or the
// process ends, kill -9 included. The lock file names its holder (pid, host, start time, what it runs); a lock
// that cannot be taken throws FolderLocked with that text. Creates the folder (make_output_folder).
struct FolderLocked : std::runtime_error {
  using std::runtime_error::runtime_error;
};
class FolderLock {
 public:
  FolderLock(const std::filesystem::path& dir, bool exclusive, const std::string& what);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

// a CSV table of raw cells; str() escapes them and ends every line with '\n'
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  std::string str() const;  // throws std::logic_error when a row's cell count differs from header.size()
};

}  // namespace goodhart
