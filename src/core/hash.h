// Content hashes (xxHash3, 64 bit): fast enough to hash whole photos and model files.
#ifndef MEDIADEX_CORE_HASH_H_
#define MEDIADEX_CORE_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace mediadex {

uint64_t HashBytes(const void* data, size_t size);

// Hash of the files' contents, in order, as 16 lowercase hex digits.
Result<std::string> HashFilesHex(const std::vector<std::string>& paths);

}  // namespace mediadex

#endif  // MEDIADEX_CORE_HASH_H_
