#include "engine/device.h"
#include "engine/gpu_jpeg.h"

#include <gtest/gtest.h>

#include "testutil.h"

namespace mediadex::engine {
namespace {

bool HasKind(DeviceKind kind) {
  for (const auto& d : ListDevices()) {
    if (d.kind == kind) return true;
  }
  return false;
}

TEST(DeviceTest, CpuIsAlwaysListedLast) {
  auto devices = ListDevices();
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices.back().kind, DeviceKind::kCpu);
  EXPECT_EQ(devices.back().name, "cpu");
}

TEST(DeviceTest, ExplicitCpu) {
  auto choice = PickDevice({"cpu", false});
  ASSERT_OK(choice);
  EXPECT_EQ(choice->device.kind, DeviceKind::kCpu);
  EXPECT_TRUE(choice->notes.empty());
}

TEST(DeviceTest, AutoPrefersCudaThenMpsThenCpu) {
  auto choice = PickDevice({"auto", false});
  ASSERT_OK(choice);
  const DeviceKind expected = HasKind(DeviceKind::kCuda)  ? DeviceKind::kCuda
                              : HasKind(DeviceKind::kMps) ? DeviceKind::kMps
                                                          : DeviceKind::kCpu;
  EXPECT_EQ(choice->device.kind, expected);
  EXPECT_FALSE(choice->reason.empty());
}

TEST(DeviceTest, AbsentAcceleratorIsAClearError) {
  if (!HasKind(DeviceKind::kCuda)) {
    auto cuda = PickDevice({"cuda", false});
    ASSERT_FALSE(cuda.ok());
    EXPECT_EQ(cuda.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(cuda.status().message().find("CUDA"), std::string::npos) << cuda.status().message();
  }
  if (!HasKind(DeviceKind::kMps)) {
    auto mps = PickDevice({"mps", false});
    ASSERT_FALSE(mps.ok());
    EXPECT_NE(mps.status().message().find("Metal"), std::string::npos) << mps.status().message();
  }
  auto beyond = PickDevice({"cuda:99", false});
  ASSERT_FALSE(beyond.ok());
}

TEST(DeviceTest, MalformedRequestsAreRejected) {
  for (const char* bad : {"gpu", "cuda:x", "cuda:-1", "CPU "}) {
    auto choice = PickDevice({bad, false});
    EXPECT_FALSE(choice.ok()) << bad;
  }
}

TEST(DeviceTest, MetalSwitchWithoutMetalSaysSoOnceAndFallsBack) {
  auto choice = PickDevice({"auto", /*metal_env=*/true});
  ASSERT_OK(choice);
  if (HasKind(DeviceKind::kMps)) {
    EXPECT_EQ(choice->device.kind, DeviceKind::kMps);
  } else {
    ASSERT_EQ(choice->notes.size(), 1u);
    EXPECT_NE(choice->notes[0].find("TF_METAL_DEVICE=1"), std::string::npos);
    EXPECT_NE(choice->device.kind, DeviceKind::kMps);
  }
}

TEST(DeviceTest, ThreadsAreApplied) {
  SetCpuThreads(1);
  EXPECT_EQ(CpuThreads(), 1);
  SetCpuThreads(2);
  EXPECT_EQ(CpuThreads(), 2);
}

TEST(DeviceTest, MatmulSelfTestRunsOnTheChosenDevice) {
  auto choice = PickDevice({"auto", false});
  ASSERT_OK(choice);
  auto timing = TimeMatmul(choice->device, 256);
  ASSERT_OK(timing);
  EXPECT_GT(timing->seconds, 0.0);
  EXPECT_GT(timing->gflops, 0.0);
}

// A CPU (or a build without CUDA) cannot decode JPEGs on a GPU, and says so instead of crashing.
TEST(GpuJpegDecoderTest, RefusesNonCudaDevicesWithAReason) {
  auto cpu = PickDevice({"cpu", false});
  ASSERT_OK(cpu);
  auto decoder = GpuJpegDecoder::Create(cpu->device);
  ASSERT_FALSE(decoder.ok());
  EXPECT_EQ(decoder.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(decoder.status().message().find("CUDA"), std::string::npos) << decoder.status().message();
}

}  // namespace
}  // namespace mediadex::engine
