// Inputs the model_json fuzzer found (or that guard the same paths): each must give an error
// Status, never a crash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/tfjs/graph_model.h"

namespace mediadex::model::tfjs {
namespace {

TEST(TfjsFuzzRegression, HostileModelJsonIsAnError) {
  const std::vector<std::string> cases = {
      "",
      "null",
      "[]",
      "{\"modelTopology\":{\"node\":{}}}",
      "{\"modelTopology\":{\"node\":[{\"name\":1}]}}",
      "{\"modelTopology\":{\"node\":[{\"name\":\"a\",\"op\":\"Const\"}]},\"weightsManifest\":[{\"paths\":[],"
      "\"weights\":[{\"name\":\"a\",\"shape\":[\"99999999999\",\"99999999999\"],\"dtype\":\"float32\"}]}]}",
      "{\"modelTopology\":{\"node\":[{\"name\":\"a\",\"op\":\"Const\"}]},\"weightsManifest\":[{\"paths\":[],"
      "\"weights\":[{\"name\":\"a\",\"shape\":[-1],\"dtype\":\"float32\"}]}]}",
      "{\"modelTopology\":{\"node\":[{\"name\":\"a\",\"op\":\"Relu\",\"input\":[\"a:99999999\"]}]}}",
      "{\"modelTopology\":{\"node\":[{\"name\":\"a\",\"op\":\"Conv2D\",\"attr\":{\"strides\":{\"list\":{\"i\":[\"1\",\"0\"]}}}}]}}",
      "{\"modelTopology\":{\"node\":[{\"name\":\"a\",\"op\":\"MaxPool\",\"attr\":{\"ksize\":{\"list\":{\"i\":\"x\"}}}}]}}",
      "{\"modelTopology\":{\"node\":[{\"name\":\"a\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{\"s\":\"%%%\"}}}]}}",
  };
  for (const std::string& text : cases) {
    auto model = GraphModel::Parse(text, "", c10::kCPU, "fuzz.json", /*fold_constants=*/false);
    EXPECT_FALSE(model.ok()) << text;
    if (!model.ok()) {
      EXPECT_EQ(model.status().message().rfind("fuzz.json", 0), 0u) << model.status().message();
    }
  }
}

}  // namespace
}  // namespace mediadex::model::tfjs
