// Files compiled into the binary (web/ and openapi.json), generated at build time by
// embed_files.cmake into embedded_files.cpp.
#ifndef MEDIADEX_SERVER_EMBEDDED_FILES_H_
#define MEDIADEX_SERVER_EMBEDDED_FILES_H_

#include <cstddef>

namespace mediadex::server {

struct EmbeddedFile {
  const char* name;  // "web/index.html", "openapi.json"
  const unsigned char* data;
  size_t size;
};

extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_EMBEDDED_FILES_H_
