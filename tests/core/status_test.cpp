#include "core/status.h"

#include <gtest/gtest.h>

namespace mediadex {
namespace {

Status FailsWith(StatusCode code) { return Status(code, "boom"); }

Status Propagates(StatusCode code, bool* reached_end) {
  MDX_RETURN_IF_ERROR(FailsWith(code));
  *reached_end = true;
  return Status::Ok();
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ContextIsPrefixedAndCodeKept) {
  Status s = Corrupt("truncated JPEG data").WithContext("a.jpg");
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_EQ(s.message(), "a.jpg: truncated JPEG data");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(StatusTest, ReturnIfErrorStopsEarly) {
  bool reached = false;
  EXPECT_EQ(Propagates(StatusCode::kIOError, &reached).code(), StatusCode::kIOError);
  EXPECT_FALSE(reached);
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = NotFound("no such photo");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_STREQ(StatusCodeName(bad.status().code()), "NotFound");
}

}  // namespace
}  // namespace mediadex
