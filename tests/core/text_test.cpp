// BytesToUtf8 / Utf8ToBytes: every byte string survives the round trip and always comes out as
// UTF-8 that a strict JSON writer (nlohmann's, which throws on invalid UTF-8) accepts.
#include "core/text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace mediadex {
namespace {

// Throws (failing the test) unless `text` is valid UTF-8: nlohmann's default error handler.
void ExpectJsonAccepts(const std::string& text) {
  EXPECT_NO_THROW((void)nlohmann::json(text).dump()) << BytesToUtf8(text);
}

TEST(TextTest, ValidUtf8WithoutBackslashesIsKeptByteForByte) {
  for (const std::string s : {"", "photo.jpg", "caf\xC3\xA9.jpg", "\xE6\x97\xA5\xE6\x9C\xAC.png",
                              "\xF0\x9F\x90\xB6 dog.jpg", "tab\there", "\xEF\xBF\xBD", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(IsValidUtf8(s)) << s;
    EXPECT_EQ(BytesToUtf8(s), s);
    EXPECT_EQ(Utf8ToBytes(s), s);
  }
}

TEST(TextTest, InvalidBytesAndBackslashesAreEscapedAsDocumented) {
  EXPECT_EQ(BytesToUtf8("caf\xE9.jpg"), "caf\\xe9.jpg");  // Latin-1 é
  EXPECT_EQ(BytesToUtf8("a\\b"), "a\\\\b");
  EXPECT_EQ(BytesToUtf8("\xFF\xFE"), "\\xff\\xfe");
  EXPECT_EQ(BytesToUtf8("\xC0\xAF"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(BytesToUtf8("\xED\xA0\x80"), "\\xed\\xa0\\x80");           // a surrogate, U+D800
  EXPECT_EQ(BytesToUtf8("\xF4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(BytesToUtf8("\xE6\x97"), "\\xe6\\x97");                    // cut short
  EXPECT_EQ(BytesToUtf8("\xE6\x97"
                        "a"),
            "\\xe6\\x97a");                                 // cut short, then ASCII
  EXPECT_EQ(BytesToUtf8("\xC3\xA9\xE9"), "\xC3\xA9\\xe9");  // valid kept beside invalid
  EXPECT_FALSE(IsValidUtf8("caf\xE9"));
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));
}

TEST(TextTest, EveryOneAndTwoByteStringRoundTripsToValidUtf8) {
  for (int a = 0; a < 256; ++a) {
    for (int b = -1; b < 256; ++b) {
      std::string s(1, static_cast<char>(a));
      if (b >= 0) s += static_cast<char>(b);
      const std::string text = BytesToUtf8(s);
      ASSERT_TRUE(IsValidUtf8(text)) << a << " " << b;
      ASSERT_EQ(Utf8ToBytes(text), s) << a << " " << b;
    }
  }
}

TEST(TextTest, RandomBytesRoundTripAndAStrictJsonWriterAcceptsThem) {
  std::mt19937 rng(22);
  // Bytes drawn mostly from the interesting ranges: ASCII, backslash, 'x', hex digits, lead
  // and continuation bytes.
  const std::string alphabet = std::string("\\x0aF/.") + "\x80\xBF\xC2\xDF\xE0\xED\xEF\xF0\xF4\xF5\xFF\xA0\x9F";
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const int length = static_cast<int>(rng() % 12);
    for (int i = 0; i < length; ++i) {
      s += rng() % 4 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    const std::string text = BytesToUtf8(s);
    ASSERT_TRUE(IsValidUtf8(text));
    ASSERT_EQ(Utf8ToBytes(text), s);
    if (n % 100 == 0) ExpectJsonAccepts(text);
  }
}

TEST(TextTest, DecodingArbitraryTextNeverFails) {
  // Not written by BytesToUtf8, still decoded: unknown escapes stay as they are.
  EXPECT_EQ(Utf8ToBytes("\\n\\x4"), "\\n\\x4");
  EXPECT_EQ(Utf8ToBytes("\\x4A\\"), "J\\");
  EXPECT_EQ(Utf8ToBytes("\\xzz"), "\\xzz");
}

}  // namespace
}  // namespace mediadex
