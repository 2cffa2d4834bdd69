// Tile layout and the merge of tiled detections (model/tiling.h), by hand.
#include "model/tiling.h"

#include <gtest/gtest.h>

namespace mediadex::model {
namespace {

Detection Det(int cls, float score, Box box) {
  Detection d;
  d.class_id = cls;
  d.score = score;
  d.box = box;
  return d;
}

TEST(TilingTest, ParsesOffAutoAndGrids) {
  EXPECT_TRUE(ParseTileSpec("off")->off());
  EXPECT_EQ(ParseTileSpec("auto")->mode, TileSpec::Mode::kAuto);
  auto grid = ParseTileSpec("2x3");
  ASSERT_TRUE(grid.ok());
  EXPECT_EQ(grid->rows, 2);
  EXPECT_EQ(grid->cols, 3);
  EXPECT_EQ(grid->ToString(), "2x3");
  for (const char* bad : {"on", "3", "0x3", "9x9", "1x1", "3x3x", "3x3 "}) {
    auto parsed = ParseTileSpec(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) EXPECT_NE(parsed.status().message().find(bad), std::string::npos);
  }
}

TEST(TilingTest, AutoGivesA12MegapixelPhotoThreeByThreeOverlappingTiles) {
  const auto tiles = LayOutTiles(*ParseTileSpec("auto"), 4000, 3000, 512, 512);
  ASSERT_EQ(tiles.size(), 9u);
  // width 4000 / (3 - 2 * 0.2) = 1538.46, step 1230.77; height 3000 / 2.6 = 1153.85, step 923.08
  EXPECT_NEAR(tiles[0].width, 1538.46f, 0.01f);
  EXPECT_NEAR(tiles[0].height, 1153.85f, 0.01f);
  EXPECT_FLOAT_EQ(tiles[0].x, 0);
  EXPECT_NEAR(tiles[1].x, 1230.77f, 0.01f);
  EXPECT_NEAR(tiles[2].x + tiles[2].width, 4000.0f, 0.01f);  // flush with the right edge
  EXPECT_NEAR(tiles[8].y + tiles[8].height, 3000.0f, 0.01f);
  // Neighbours overlap by 20% of a tile.
  EXPECT_NEAR(tiles[0].x + tiles[0].width - tiles[1].x, 0.2f * tiles[0].width, 0.01f);
  EXPECT_LE(MostTiles(*ParseTileSpec("auto")) + 1, 10);
}

TEST(TilingTest, AutoLeavesPhotosNotMuchLargerThanTheInputAlone) {
  const TileSpec autos = *ParseTileSpec("auto");
  EXPECT_TRUE(LayOutTiles(autos, 640, 480, 512, 512).empty());
  EXPECT_TRUE(LayOutTiles(autos, 1500, 1000, 512, 512).empty());  // under 3x the input
  EXPECT_EQ(LayOutTiles(autos, 1920, 1080, 512, 512).size(), 2u);  // 2 x 1
  EXPECT_EQ(LayOutTiles(autos, 3000, 2000, 512, 512).size(), 6u);  // 3 x 2
  EXPECT_EQ(LayOutTiles(autos, 8000, 6000, 512, 512).size(), 9u);  // at most 3 x 3
  EXPECT_TRUE(LayOutTiles(*ParseTileSpec("off"), 8000, 6000, 512, 512).empty());
  EXPECT_EQ(LayOutTiles(*ParseTileSpec("2x4"), 640, 480, 512, 512).size(), 8u);  // a grid always tiles
}

TEST(TilingTest, TilesAskForADecodeKeepingTheInputPerTile) {
  EXPECT_EQ(TileDecodeSide(*ParseTileSpec("off"), 512), 0);
  EXPECT_EQ(TileDecodeSide(*ParseTileSpec("auto"), 512), 1332);  // 512 x 2.6, rounded up
  EXPECT_EQ(TileDecodeSide(*ParseTileSpec("2x2"), 512), 922);    // 512 x 1.8
}

class MergeTest : public ::testing::Test {
 protected:
  // 4000x3000 photo, 512 input: 160 input px in the whole-image pass = 1250 px across.
  const std::vector<TileRect> tiles = LayOutTiles(*ParseTileSpec("auto"), 4000, 3000, 512, 512);
  std::vector<Detection> Merge(const std::vector<Detection>& whole, size_t tile, const std::vector<Detection>& found,
                               int most = 0) {
    std::vector<std::vector<Detection>> per_tile(tiles.size());
    per_tile[tile] = found;
    return MergeTiled(whole, per_tile, tiles, 4000, 3000, 512, 512, most);
  }
};

TEST_F(MergeTest, KeepsASmallObjectOnlyATileFound) {
  const auto merged = Merge({Det(0, 0.9f, {100, 100, 2000, 2500})}, 4, {Det(41, 0.5f, {1800, 1300, 1860, 1380})});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].class_id, 0);
  EXPECT_EQ(merged[1].class_id, 41);
}

TEST_F(MergeTest, DropsABoxCutByAnInnerTileEdgeButNotByThePhotosEdge) {
  const TileRect& centre = tiles[4];
  const float right = centre.x + centre.width;
  EXPECT_TRUE(Merge({}, 4, {Det(41, 0.5f, {right - 80, 1300, right - 2, 1380})}).empty());
  // Tile 0's left and top edges are the photo's: a box touching them is whole.
  EXPECT_EQ(Merge({}, 0, {Det(41, 0.5f, {0, 0, 60, 60})}).size(), 1u);
}

TEST_F(MergeTest, LeavesLargeObjectsToTheWholeImagePass) {
  // Inside the centre tile (x 1230.8..2769.2): 1310 px across is 168 input px in the
  // whole-image pass, a part of something large; 1200 px (154) is kept.
  EXPECT_TRUE(Merge({}, 4, {Det(0, 0.9f, {1250, 1000, 2560, 1900})}).empty());
  EXPECT_EQ(Merge({}, 4, {Det(0, 0.9f, {1300, 1000, 2500, 1900})}).size(), 1u);
}

TEST_F(MergeTest, OneObjectSeenTwiceIsOneBoxTheBestPerClass) {
  const Box cup{1800, 1300, 1860, 1380};
  const Box nearly{1802, 1302, 1862, 1378};
  auto merged = Merge({Det(41, 0.3f, cup)}, 4, {Det(41, 0.6f, nearly), Det(39, 0.4f, cup)});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_FLOAT_EQ(merged[0].score, 0.6f);  // the tile's better cup
  EXPECT_EQ(merged[1].class_id, 39);       // another class at the same place stays
}

TEST_F(MergeTest, KeepsAtMostTheCapBestFirst) {
  std::vector<Detection> whole;
  for (int i = 0; i < 5; ++i) whole.push_back(Det(i, 0.3f + 0.1f * i, {100.0f * i, 0, 100.0f * i + 50, 50}));
  const auto merged = Merge(whole, 4, {}, 3);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].class_id, 4);
  EXPECT_EQ(merged[2].class_id, 2);
}

}  // namespace
}  // namespace mediadex::model
