// The search box's grammar (server/query_parser.h).
#include "server/query_parser.h"

#include <gtest/gtest.h>

namespace mediadex::server {
namespace {

catalog::MediaFilter Parse(const std::string& q) {
  catalog::MediaFilter f;
  Status s = ParseSearchQuery(q, &f);
  EXPECT_TRUE(s.ok()) << q << ": " << s.ToString();
  return f;
}

std::string Error(const std::string& q) {
  catalog::MediaFilter f;
  Status s = ParseSearchQuery(q, &f);
  EXPECT_FALSE(s.ok()) << q;
  return s.message();
}

TEST(QueryParser, WordsAreLabelsThatMustAllBePresent) {
  auto f = Parse("dog person");
  ASSERT_EQ(f.label_groups.size(), 2u);
  EXPECT_EQ(f.label_groups[0], std::vector<std::string>{"dog"});
  EXPECT_EQ(f.label_groups[1], std::vector<std::string>{"person"});
}

TEST(QueryParser, BarMeansAny) {
  auto f = Parse("dog|cat person");
  ASSERT_EQ(f.label_groups.size(), 2u);
  EXPECT_EQ(f.label_groups[0], (std::vector<std::string>{"dog", "cat"}));
}

TEST(QueryParser, Filters) {
  auto f = Parse("score>0.6 folder:2024/trip after:2024-06-01 before:2024-12-31 status:failed");
  EXPECT_FLOAT_EQ(f.min_score, 0.6f);
  EXPECT_EQ(f.folder, "2024/trip");
  EXPECT_EQ(f.after, 1717200000);           // 2024-06-01T00:00:00Z
  EXPECT_EQ(f.before, 1735603200 + 86400);  // the whole of 2024-12-31
  EXPECT_EQ(f.status, "failed");
  EXPECT_TRUE(f.label_groups.empty());
  EXPECT_FLOAT_EQ(Parse("score>=0.25").min_score, 0.25f);
}

TEST(QueryParser, EmptyAndSpacesAreNothing) {
  auto f = Parse("   ");
  EXPECT_TRUE(f.label_groups.empty());
  EXPECT_EQ(f.min_score, 0.0f);
}

TEST(QueryParser, BadWordsSayWhy) {
  EXPECT_NE(Error("colour:red").find("unknown filter 'colour:'"), std::string::npos);
  EXPECT_NE(Error("score>abc").find("not a score"), std::string::npos);
  EXPECT_NE(Error("score>1.5").find("not a score"), std::string::npos);
  EXPECT_NE(Error("after:yesterday").find("not a date"), std::string::npos);
  EXPECT_NE(Error("after:2024-02-30").find("not a calendar date"), std::string::npos);
  EXPECT_NE(Error("status:bogus").find("done, failed or pending"), std::string::npos);
  EXPECT_NE(Error("folder:").find("no value"), std::string::npos);
  EXPECT_NE(Error("a<b").find("not a label"), std::string::npos);
  EXPECT_NE(Error("|").find("no label"), std::string::npos);
}

TEST(QueryParser, Dates) {
  EXPECT_EQ(*ParseDate("1970-01-01", "d"), 0);
  EXPECT_EQ(*ParseDate("2000-03-01", "d"), 951868800);
  EXPECT_TRUE(ParseDate("2024-02-29", "d").ok());
  EXPECT_FALSE(ParseDate("2023-02-29", "d").ok());
  EXPECT_FALSE(ParseDate("2024-1-01", "d").ok());
}

}  // namespace
}  // namespace mediadex::server
