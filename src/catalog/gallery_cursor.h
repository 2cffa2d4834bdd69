// The gallery's opaque cursors and LIKE escaping, shared by both backends' gallery reads
// (sqlite/gallery*.cpp, sqlite/media_list.cpp, postgres/pg_gallery.cpp). A cursor is the hex of
// "kind|key|id", so no character needs URL escaping; a backend reads back only what it wrote.
#ifndef MEDIADEX_CATALOG_GALLERY_CURSOR_H_
#define MEDIADEX_CATALOG_GALLERY_CURSOR_H_

#include <cstdint>
#include <string>

namespace mediadex::catalog {

std::string Hex(const std::string& text);
// False for anything Hex() did not make (odd length, other characters, over 8 KiB).
bool Unhex(const std::string& hex, std::string* out);

// "d|<capture_time>|<id>" (date sort) or "s|<score>|<id>" (score sort; the stored double, exact).
struct MediaCursor {
  char kind = 0;  // 0 = no cursor (the first page)
  int64_t time = 0;
  double score = 0;
  int64_t id = 0;
};
std::string EncodeCursor(const MediaCursor& c);
// False unless `text` is a cursor of this kind ('d' or 's') with an id > 0.
bool DecodeCursor(const std::string& text, char kind, MediaCursor* c);

// `%`, `_` and `\` are LIKE wildcards; escape them (ESCAPE '\') so text matches literally.
std::string LikeLiteral(const std::string& text);

}  // namespace mediadex::catalog

#endif  // MEDIADEX_CATALOG_GALLERY_CURSOR_H_
