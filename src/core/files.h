// Small file-system helpers.
#ifndef MEDIADEX_CORE_FILES_H_
#define MEDIADEX_CORE_FILES_H_

#include <filesystem>

namespace mediadex {

// Removes `path` and everything below it; errors are ignored (like rm -rf). Use this, not
// std::filesystem::remove_all: PyTorch's pip LibTorch exports its own broken copy of
// remove_all, which crashes every program linked with it (see docs/gpu.md).
void RemoveTree(const std::filesystem::path& path);

}  // namespace mediadex

#endif  // MEDIADEX_CORE_FILES_H_
