// BatchMemory: decoders wait only for memory that will come back, and fail at once (never wait
// forever) when what they need is held by their own batch or reserved for the detector.
#include "pipeline/batch_memory.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

namespace mediadex::pipeline {
namespace {

using namespace std::chrono_literals;

TEST(BatchMemoryTest, ARequestThatCanNeverFitFailsAtOnceSayingHowMuchCanBeFree) {
  BatchMemory memory(1000);
  ASSERT_TRUE(memory.Reserve(400));  // the detector's, for the run
  ASSERT_TRUE(memory.Acquire(300).ok());
  memory.Pin(300);  // a photo of this batch: it stays until the batch is reported
  const Status s = memory.Acquire(301);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("at most 300 B can be free under --max-memory"), std::string::npos) << s.message();
  EXPECT_TRUE(memory.Acquire(300).ok()) << "what can be free is still given";
}

TEST(BatchMemoryTest, AWaiterGetsMemoryThatAnotherDecoderOrThePreviousBatchReleases) {
  BatchMemory memory(1000);
  ASSERT_TRUE(memory.Acquire(600).ok());
  memory.Pin(600);
  memory.NextBatch();  // that batch goes to the device: its 600 will come back
  auto waiter = std::async(std::launch::async, [&] { return memory.Acquire(700); });
  EXPECT_EQ(waiter.wait_for(100ms), std::future_status::timeout) << "700 do not fit beside 600";
  memory.Release(600);  // the previous batch is reported
  ASSERT_EQ(waiter.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(waiter.get().ok());
  EXPECT_EQ(memory.peak(), 700u);
}

TEST(BatchMemoryTest, AWaiterWhoseBatchFillsUpMeanwhileFailsInsteadOfWaitingForever) {
  BatchMemory memory(1000);
  ASSERT_TRUE(memory.Acquire(500).ok());  // another decoder's file bytes (transient)
  auto waiter = std::async(std::launch::async, [&] { return memory.Acquire(600); });
  EXPECT_EQ(waiter.wait_for(100ms), std::future_status::timeout);
  memory.Pin(500);  // ... become a decoded photo of the same batch: it will not come back
  ASSERT_EQ(waiter.wait_for(10s), std::future_status::ready) << "a waiter that can never be served must wake";
  EXPECT_FALSE(waiter.get().ok());
}

TEST(BatchMemoryTest, NoLimitGivesEverything) {
  BatchMemory memory(0);
  EXPECT_TRUE(memory.Reserve(1ull << 50));
  EXPECT_TRUE(memory.Acquire(1ull << 50).ok());
  EXPECT_TRUE(memory.TryAcquire(1ull << 50));
}

}  // namespace
}  // namespace mediadex::pipeline
