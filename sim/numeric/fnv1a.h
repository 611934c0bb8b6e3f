// fnv1a.h — the 64-bit FNV-1a hash of a byte string as 16 hex digits: point ids (a hash of the resolved config)
// and the checksums of stored points.
// Contract: stable across machines, compilers and versions (the ids and checksums in results folders depend on it);
// it detects damage and edits, it is not a cryptographic hash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace goodhart {

inline std::string fnv1a_hex(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace goodhart
