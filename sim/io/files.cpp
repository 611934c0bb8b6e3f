// files.cpp — format_double, csv_escape, CsvTable::str, write_file_atomic and publish_files (POSIX
// open/write/fsync/rename), the cleanup of a killed writer's temporaries, output folders and their lock.
// Contract: see files.h; the temporary file lives in the target folder so the rename never crosses filesystems.
#include "sim/io/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace goodhart {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what, int err) {
  throw std::runtime_error("cannot write " + path.string() + ": " + what + ": " + std::strerror(err));
}

// write all of content to fd, retrying short writes and interrupts; returns errno or 0
int write_all(int fd, std::string_view content) {
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return 0;
}

// make the rename durable; best effort, since some filesystems refuse fsync on a folder
void sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string format_double(double x) {
  if (std::isnan(x)) return "";
  if (std::isinf(x)) throw std::overflow_error("a result overflowed to infinity; no output is written with it");
  char buf[32];  // the longest shortest form, e.g. -2.2250738585072014e-308, is 24 characters
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  if (ec != std::errc{}) throw std::logic_error("format_double: buffer too small");
  return std::string(buf, end);
}

std::string format_float(float x) {
  if (std::isnan(x)) return "";
  if (std::isinf(x)) throw std::overflow_error("a result overflowed to infinity; no output is written with it");
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  if (ec != std::errc{}) throw std::logic_error("format_float: buffer too small");
  return std::string(buf, end);
}

std::string csv_escape(std::string_view cell) {
  if (cell.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(cell);
  std::string out = "\"";
  for (const char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string CsvTable::str() const {
  std::string out;
  const auto line = [&out](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      out += csv_escape(cells[i]);
    }
    out += '\n';
  };
  line(header);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != header.size())
      throw std::logic_error("CsvTable: row " + std::to_string(r) + " has " + std::to_string(rows[r].size()) +
                             " cells, header has " + std::to_string(header.size()));
    line(rows[r]);
  }
  return out;
}

namespace {

// the complete content in a flushed temporary file beside path (its parent folders created); returns its name
std::filesystem::path write_temporary(const std::filesystem::path& path, std::string_view content) {
  const std::filesystem::path folder = path.parent_path();
  std::error_code ec;
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  if (ec) fail(path, "creating " + folder.string(), ec.value());
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "opening " + tmp.string(), errno);
  int err = write_all(fd, content);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    fail(path, "writing " + tmp.string(), err);
  }
  return tmp;
}

// the temporary file over its target, or cleaned up
void rename_over(const std::filesystem::path& tmp, const std::filesystem::path& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "renaming " + tmp.string(), err);
  }
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  rename_over(write_temporary(path, content), path);
  sync_folder(path.parent_path());
}

void publish_files(const std::vector<std::pair<std::filesystem::path, std::string>>& files) {
  if (files.empty()) return;
  // every file complete on disk first; the first failure removes the others
  std::vector<std::filesystem::path> staged;
  try {
    for (const auto& [path, content] : files) staged.push_back(write_temporary(path, content));
  } catch (...) {
    for (const std::filesystem::path& tmp : staged) ::unlink(tmp.c_str());
    throw;
  }
  // the marker goes first and comes back last: while it is missing, the set is being replaced
  std::error_code ec;
  std::filesystem::remove(files.back().first, ec);
  for (std::size_t i = 0; i < files.size(); ++i) {
    try {
      rename_over(staged[i], files[i].first);
    } catch (...) {
      for (std::size_t j = i + 1; j < staged.size(); ++j) ::unlink(staged[j].c_str());
      throw;
    }
  }
  sync_folder(files.back().first.parent_path());
}

std::size_t remove_stale_temporaries(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const auto temporary = [](const std::string& name) {
    const std::size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || at == 0 || at + 5 == name.size()) return false;
    return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(at + 5), name.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  std::size_t removed = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_symlink(ec) || !it->is_regular_file(ec) || !temporary(it->path().filename().string())) continue;
    if (fs::remove(it->path(), ec)) ++removed;
    ec.clear();
  }
  return removed;
}

void make_output_folder(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (fs::exists(status) && !fs::is_directory(status))
    throw FolderUnusable(dir.string() + " is a file, not a folder: name a folder for the output");
  if (!fs::exists(status)) {
    fs::create_directories(dir, ec);
    if (ec) throw FolderUnusable("cannot create the folder " + dir.string() + ": " + ec.message());
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw FolderUnusable("cannot write into the folder " + dir.string() + ": " + std::strerror(errno));
}

FolderLock::FolderLock(const std::filesystem::path& dir, bool exclusive, const std::string& what) {
  make_output_folder(dir);
  const std::filesystem::path file = dir / ".goodhart.lock";
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw FolderUnusable("cannot write into the folder " + dir.string() + " (its lock file " + file.string() +
                         "): " + std::strerror(errno));
  if (::flock(fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    std::ifstream in(file);
    std::stringstream holder;
    holder << in.rdbuf();
    std::string h = holder.str();
    while (!h.empty() && (h.back() == '\n' || h.back() == ' ')) h.pop_back();
    ::close(fd_);
    fd_ = -1;
    throw FolderLocked(dir.string() + " is in use by another goodhart run (" + (h.empty() ? "holder unknown" : h) +
                       "): wait for it to finish, or use another --out");
  }
  // the holder's name, for the next one refused (a shared holder writes over another shard's: any one will do)
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::time_t now = std::time(nullptr);
  char when[32] = {};
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const std::string text = "pid " + std::to_string(::getpid()) + " on " + host + " since " + when + ", " + what + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    const ssize_t written = ::pwrite(fd_, text.data(), text.size(), 0);
    (void)written;  // the name is a courtesy: the lock holds without it
  }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace goodhart
