// Loading from disk (weights manifest, quantization, error messages) and the bundled CenterNet.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "model/tfjs/graph_model.h"
#include "testutil.h"
#include "tiny_graph.h"
#include "core/files.h"

namespace mediadex::model::tfjs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mdx_tfjs_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { RemoveTree(path_); }
  std::string Write(const std::string& name, const std::string& data) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }

 private:
  std::string path_;
};

// Three quantized constants, each read through an Identity.
json QuantModel() {
  json nodes = json::array();
  for (const char* n : {"u8", "u16", "f16"}) {
    nodes.push_back({{"name", n}, {"op", "Const"}, {"attr", json::object()}});
    nodes.push_back({{"name", std::string("out_") + n}, {"op", "Identity"}, {"input", {n}}});
  }
  json weights = json::array({
      {{"name", "u8"}, {"shape", {3}}, {"dtype", "float32"},
       {"quantization", {{"dtype", "uint8"}, {"scale", 0.5}, {"min", -1.0}, {"original_dtype", "float32"}}}},
      {{"name", "u16"}, {"shape", {2}}, {"dtype", "float32"},
       {"quantization", {{"dtype", "uint16"}, {"scale", 0.25}, {"min", 1.0}, {"original_dtype", "float32"}}}},
      {{"name", "f16"}, {"shape", {2}}, {"dtype", "float32"}, {"quantization", {{"dtype", "float16"}}}},
  });
  return {{"format", "graph-model"},
          {"modelTopology", {{"node", nodes}}},
          {"weightsManifest", {{{"paths", {"group1-shard1of2.bin", "group1-shard2of2.bin"}}, {"weights", weights}}}}};
}
// u8 [0, 2, 4] -> [-1, 0, 1]; u16 [0, 65535] -> [1, 16384.75]; f16 [1.0, -2.0].
const std::string kQuantBytes = std::string("\x00\x02\x04", 3) + std::string("\x00\x00\xff\xff", 4) +
                                std::string("\x00\x3c\x00\xc0", 4);

TEST(TfjsLoad, DecodesQuantizedWeightsAcrossShards) {
  TempDir dir;
  const std::string path = dir.Write("model.json", QuantModel().dump());
  dir.Write("group1-shard1of2.bin", kQuantBytes.substr(0, 5));
  dir.Write("group1-shard2of2.bin", kQuantBytes.substr(5));
  auto model = GraphModel::Load(path, c10::kCPU);
  ASSERT_OK(model);
  auto out = (*model)->Execute({}, {"out_u8", "out_u16", "out_f16"});
  ASSERT_OK(out);
  EXPECT_TRUE(at::equal(out.value()[0], at::tensor({-1.0f, 0.0f, 1.0f})));
  EXPECT_TRUE(at::equal(out.value()[1], at::tensor({1.0f, 16384.75f})));
  EXPECT_TRUE(at::equal(out.value()[2], at::tensor({1.0f, -2.0f})));
}

void ExpectError(const Status& s, StatusCode code, std::vector<std::string> parts) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), code) << s.ToString();
  for (const std::string& p : parts) EXPECT_NE(s.message().find(p), std::string::npos) << s.message() << " lacks " << p;
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << "one line: " << s.message();
}

TEST(TfjsLoad, MissingAndTruncatedShards) {
  TempDir dir;
  const std::string path = dir.Write("model.json", QuantModel().dump());
  dir.Write("group1-shard1of2.bin", kQuantBytes.substr(0, 5));
  ExpectError(GraphModel::Load(path, c10::kCPU).status(), StatusCode::kNotFound,
              {path, "group1-shard2of2.bin", "missing"});
  dir.Write("group1-shard2of2.bin", kQuantBytes.substr(5, 3));
  ExpectError(GraphModel::Load(path, c10::kCPU).status(), StatusCode::kCorrupt, {path, "truncated", "group1-shard2of2.bin"});
  ExpectError(GraphModel::Load(dir.Write("x", "") + "nope.json", c10::kCPU).status(), StatusCode::kNotFound, {"nope.json"});
}

TEST(TfjsLoad, MalformedJsonAndUnsupportedDtype) {
  TempDir dir;
  ExpectError(GraphModel::Load(dir.Write("bad.json", "{\"modelTopology\": {\"node\": [}"), c10::kCPU).status(),
              StatusCode::kCorrupt, {"bad.json", "malformed JSON"});
  json m = QuantModel();
  m["weightsManifest"][0]["weights"][0]["dtype"] = "complex64";
  ExpectError(GraphModel::Load(dir.Write("dtype.json", m.dump()), c10::kCPU).status(), StatusCode::kUnsupported,
              {"dtype.json", "complex64", "u8"});
}

TEST(TfjsLoad, UnknownOpNamesFileNodeAndOp) {
  TempDir dir;
  json m = {{"format", "graph-model"},
            {"modelTopology",
             {{"node", {{{"name", "x"}, {"op", "Placeholder"}}, {{"name", "tower_0/foo"}, {"op", "Bar"}, {"input", {"x"}}}}}}}};
  const std::string path = dir.Write("x.json", m.dump());
  ExpectError(GraphModel::Load(path, c10::kCPU).status(), StatusCode::kUnsupported,
              {path + ": node 'tower_0/foo' (op 'Bar'): op not supported"});
  m["modelTopology"]["node"][1]["input"] = {"nothere"};
  ExpectError(GraphModel::Load(dir.Write("y.json", m.dump()), c10::kCPU).status(), StatusCode::kCorrupt,
              {"y.json", "tower_0/foo", "nothere"});
}

TEST(TfjsExecute, MissingInputAndShapeMismatch) {
  testing::TinyGraph g;
  g.Placeholder("a");
  g.Placeholder("b");
  g.Node("sum", "AddV2", {"a", "b"});
  auto model = g.Build();
  ASSERT_OK(model);
  ExpectError((*model)->Execute({{"a", at::ones({2})}}, {"sum"}).status(), StatusCode::kInvalidArgument,
              {"tiny.json", "missing input 'b'"});
  ExpectError((*model)->Execute({{"a", at::ones({2})}, {"b", at::ones({3})}}, {"sum"}).status(),
              StatusCode::kInvalidArgument, {"tiny.json: node 'sum' (op 'AddV2'): "});
  ExpectError((*model)->Execute({{"a", at::ones({2})}, {"b", at::ones({2})}}, {"nope"}).status(),
              StatusCode::kInvalidArgument, {"nope"});
}

TEST(TfjsExecute, GraphWithCycleIsAnError) {
  json m = {{"format", "graph-model"},
            {"modelTopology",
             {{"node", {{{"name", "a"}, {"op", "Relu"}, {"input", {"b"}}}, {{"name", "b"}, {"op", "Relu"}, {"input", {"a"}}}}}}}};
  auto model = GraphModel::Parse(m.dump(), "", c10::kCPU, "cycle.json");
  ASSERT_OK(model);  // no sink, so no default outputs; asking for one finds the cycle
  ExpectError((*model)->Execute({}, {"a"}).status(), StatusCode::kCorrupt, {"cycle.json", "cycle"});
}

// ---- the bundled model --------------------------------------------------------------------
TEST(TfjsCenternet, RunsBatchedLikeSingleImages) {
  const std::string path = mediadex::testing::CenternetModelPath();
  ASSERT_TRUE(fs::exists(path)) << path << " is missing: run scripts/fetch-model.sh";
  auto model = GraphModel::Load(path, c10::kCPU);
  ASSERT_OK(model);
  ASSERT_EQ((*model)->inputs().size(), 1u);
  EXPECT_EQ((*model)->inputs()[0].name, "tower_0/images");
  at::manual_seed(7);
  at::Tensor x = at::rand({3, 512, 512, 3}) * 255;
  auto all = (*model)->Execute({{"tower_0/images", x}}, {"tower_0/detections"});
  ASSERT_OK(all);
  const at::Tensor d3 = all.value()[0];
  ASSERT_EQ(d3.sizes(), (std::vector<int64_t>{3, 100, 6}));
  EXPECT_TRUE(d3.isfinite().all().item<bool>());
  for (int64_t b = 0; b < 3; ++b) {
    auto one = (*model)->Execute({{"tower_0/images", x.narrow(0, b, 1)}}, {"tower_0/detections"});
    ASSERT_OK(one);
    const at::Tensor d1 = one.value()[0];
    ASSERT_EQ(d1.sizes(), (std::vector<int64_t>{1, 100, 6}));
    // Coordinates reach 512: compare relative to the magnitude (1e-4 of it, at least 1e-4).
    const double tol = 1e-4 * std::max(1.0, d1.abs().max().item<double>());
    EXPECT_LE((d3[b] - d1[0]).abs().max().item<double>(), tol) << "image " << b;
  }
  auto wrong = (*model)->Execute({{"tower_0/images", at::zeros({1, 256, 256, 3})}}, {"tower_0/detections"});
  ExpectError(wrong.status(), StatusCode::kInvalidArgument, {"tower_0/images", "[1,256,256,3]"});
}

}  // namespace
}  // namespace mediadex::model::tfjs
