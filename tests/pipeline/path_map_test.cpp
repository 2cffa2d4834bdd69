// `mediadex worker --path-map FROM=TO` (pipeline/queue_worker.h): parsing, and which catalog
// paths map to which local ones. The worker only reads at the mapped path; results stay keyed
// by media id on the catalog's path (tests/pg/queue_path_map_e2e.sh runs a worker with a map).
#include <gtest/gtest.h>

#include "pipeline/queue_worker.h"
#include "testutil.h"

namespace mediadex::pipeline {
namespace {

PathMap Parse(const std::string& text) {
  auto map = ParsePathMap(text);
  EXPECT_OK(map.status());
  return map.ok() ? *map : PathMap{};
}

TEST(PathMapTest, ParsesFromAndToDroppingTrailingSlashes) {
  PathMap m = Parse("/mnt/photos=/Volumes/photos");
  EXPECT_EQ(m.from, "/mnt/photos");
  EXPECT_EQ(m.to, "/Volumes/photos");
  m = Parse("/mnt/photos//=/Volumes/photos/");
  EXPECT_EQ(m.from, "/mnt/photos");
  EXPECT_EQ(m.to, "/Volumes/photos");
  m = Parse("/=/srv/copy");  // the root stays the root
  EXPECT_EQ(m.from, "/");
}

TEST(PathMapTest, RefusesWhatIsNotFromEqualsTo) {
  for (const char* bad : {"", "/mnt/photos", "=/Volumes/photos", "/mnt/photos="}) {
    auto map = ParsePathMap(bad);
    ASSERT_FALSE(map.ok()) << bad;
    EXPECT_EQ(map.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(map.status().message().find("FROM=TO"), std::string::npos) << map.status().message();
  }
}

TEST(PathMapTest, MapsWholeLeadingComponentsOnly) {
  const std::vector<PathMap> maps = {Parse("/mnt/photos=/Volumes/photos")};
  EXPECT_EQ(MapPath("/mnt/photos/2024/a.jpg", maps), "/Volumes/photos/2024/a.jpg");
  EXPECT_EQ(MapPath("/mnt/photos", maps), "/Volumes/photos");
  EXPECT_EQ(MapPath("/mnt/photos2/a.jpg", maps), "/mnt/photos2/a.jpg");  // another folder
  EXPECT_EQ(MapPath("/mnt/photo", maps), "/mnt/photo");
  EXPECT_EQ(MapPath("/srv/mnt/photos/a.jpg", maps), "/srv/mnt/photos/a.jpg");  // not a prefix
  EXPECT_EQ(MapPath("/mnt/photos/caf\xe9.jpg", maps), "/Volumes/photos/caf\xe9.jpg");  // bytes, not UTF-8
}

TEST(PathMapTest, FirstMatchWins) {
  const std::vector<PathMap> maps = {Parse("/mnt/photos/raw=/fast/raw"), Parse("/mnt/photos=/Volumes/photos"),
                                     Parse("/mnt/photos/raw=/never")};
  EXPECT_EQ(MapPath("/mnt/photos/raw/x.cr2", maps), "/fast/raw/x.cr2");
  EXPECT_EQ(MapPath("/mnt/photos/jpg/x.jpg", maps), "/Volumes/photos/jpg/x.jpg");
  EXPECT_EQ(MapPath("/home/x.jpg", maps), "/home/x.jpg");
  EXPECT_EQ(MapPath("/home/x.jpg", {}), "/home/x.jpg");
}

TEST(PathMapTest, RootMapPrefixesEveryAbsolutePath) {
  EXPECT_EQ(MapPath("/a/b.jpg", {Parse("/=/srv/copy")}), "/srv/copy/a/b.jpg");
  EXPECT_EQ(MapPath("/a/b.jpg", {Parse("/srv/copy=/")}), "/a/b.jpg");
  EXPECT_EQ(MapPath("/srv/copy/a/b.jpg", {Parse("/srv/copy=/")}), "/a/b.jpg");
}

}  // namespace
}  // namespace mediadex::pipeline
