// Shared test helpers: Status matchers and paths to test data.
#ifndef MEDIADEX_TESTS_TESTUTIL_H_
#define MEDIADEX_TESTS_TESTUTIL_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/status.h"

namespace mediadex::testing {
inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) { return r.status(); }
}  // namespace mediadex::testing

// Work on a Status or a Result<T>; print the error message when they fail.
#define ASSERT_OK(expr)                                                              \
  do {                                                                               \
    const auto& mdx_s_ = (expr);                                                     \
    ASSERT_TRUE(mdx_s_.ok()) << #expr << ": " << ::mediadex::testing::StatusOf(mdx_s_).ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                                              \
  do {                                                                               \
    const auto& mdx_s_ = (expr);                                                     \
    EXPECT_TRUE(mdx_s_.ok()) << #expr << ": " << ::mediadex::testing::StatusOf(mdx_s_).ToString(); \
  } while (0)

namespace mediadex::testing {

inline std::string TestData(const std::string& name) { return std::string(MEDIADEX_TEST_DATA) + "/" + name; }
inline std::string Photo(const std::string& name) { return std::string(MEDIADEX_PHOTOS_DIR) + "/" + name; }
inline std::string ReferenceDir() { return MEDIADEX_REFERENCE_DIR; }
// The bundled CenterNet model; fails the test loudly (not skip) when setup has not fetched it.
inline std::string CenternetModelPath() {
  std::string path = std::string(MEDIADEX_MODEL_DIR) + "/centernet.json";
  return path;
}

}  // namespace mediadex::testing

#endif  // MEDIADEX_TESTS_TESTUTIL_H_
