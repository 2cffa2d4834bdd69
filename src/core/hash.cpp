#include "core/hash.h"

#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace mediadex {

uint64_t HashBytes(const void* data, size_t size) { return XXH3_64bits(data, size); }

Result<std::string> HashFilesHex(const std::vector<std::string>& paths) {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(), &XXH3_freeState);
  XXH3_64bits_reset(state.get());
  std::vector<char> buffer(1 << 20);
  for (const auto& path : paths) {
    std::unique_ptr<FILE, decltype(&fclose)> file(fopen(path.c_str(), "rb"), &fclose);
    if (!file) return IOError(path + ": " + std::strerror(errno));
    size_t n;
    while ((n = fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
      XXH3_64bits_update(state.get(), buffer.data(), n);
    }
    if (ferror(file.get())) return IOError(path + ": read error");
  }
  char hex[17];
  snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(XXH3_64bits_digest(state.get())));
  return std::string(hex);
}

}  // namespace mediadex
