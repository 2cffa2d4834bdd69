#include "core/memory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/bounded_queue.h"
#include "core/status.h"

namespace mediadex {
namespace {

TEST(MemoryBudgetTest, NeverExceedsItsLimitUnderContention) {
  MemoryBudget budget(1000);
  std::atomic<bool> violated{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const uint64_t bytes = 100 + (t * 37 + i * 11) % 400;
        auto lease = budget.Acquire(bytes);
        ASSERT_TRUE(lease.ok()) << lease.status().ToString();
        if (budget.in_use() > budget.limit()) violated = true;
      }  // each lease gives its bytes back here
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(violated);
  EXPECT_EQ(budget.in_use(), 0u);
  EXPECT_LE(budget.peak(), 1000u);
  EXPECT_GT(budget.peak(), 400u);
}

TEST(MemoryBudgetTest, TooBigFailsAtOnceSayingWhyAndCancelWakesWaiters) {
  MemoryBudget budget(100);
  auto too_big = budget.Acquire(101);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kOverBudget);
  EXPECT_NE(too_big.status().message().find("needs 101 B"), std::string::npos) << too_big.status().message();
  auto all = budget.Acquire(100);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(budget.TryAcquire(1).ok());
  std::thread waiter([&] {
    auto waited = budget.Acquire(50);
    ASSERT_FALSE(waited.ok());
    EXPECT_EQ(waited.status().code(), StatusCode::kCancelled);
  });
  // The waiter is not stuck (this thread's 100 bytes can come back), so it waits for Cancel.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  budget.Cancel();
  waiter.join();
}

TEST(MemoryLeaseTest, GivesItsBytesBackOnDestructionShrinkSplitAndMove) {
  MemoryBudget budget(100);
  {
    auto lease = budget.Acquire(60);
    ASSERT_TRUE(lease.ok());
    EXPECT_EQ(budget.in_use(), 60u);
    MemoryLease part = lease->Split(20);
    EXPECT_EQ(part.bytes(), 20u);
    EXPECT_EQ(lease->bytes(), 40u);
    EXPECT_EQ(budget.in_use(), 60u) << "splitting moves bytes, it gives none back";
    part.ShrinkTo(5);
    EXPECT_EQ(budget.in_use(), 45u);
    MemoryLease moved = std::move(part);
    EXPECT_EQ(part.bytes(), 0u);  // NOLINT: a moved-from lease is empty by contract
    moved.Absorb(std::move(lease).value());
    EXPECT_EQ(moved.bytes(), 45u);
    EXPECT_EQ(budget.in_use(), 45u);
  }
  EXPECT_EQ(budget.in_use(), 0u);
}

// What is held for the whole run (the detectors' share) can never come back: a request larger
// than what is left fails at once instead of waiting forever.
TEST(MemoryBudgetTest, WhatTheRunHoldsLowersWhatAnyRequestCanGet) {
  MemoryBudget budget(100);
  auto run = budget.AcquireForRun(60);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(budget.most_available(), 40u);
  auto big = budget.Acquire(50);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kOverBudget);
  EXPECT_TRUE(budget.Acquire(40).ok());
  // What the caller itself holds while it asks counts too.
  auto file = budget.Acquire(30);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(budget.Acquire(20, file->bytes()).status().code(), StatusCode::kOverBudget);
}

// Two decoders each hold a file and wait for room to decode it that only the other could give:
// hold-and-wait. The larger request is refused, the other goes on; nobody waits forever.
TEST(MemoryBudgetTest, HoldAndWaitRefusesTheLargestWaiterInsteadOfDeadlocking) {
  MemoryBudget budget(100);
  std::atomic<int> refused{0}, granted{0};
  std::atomic<int> holding{0};
  auto decoder = [&](uint64_t file, uint64_t pixels) {
    auto held = budget.Acquire(file);
    ASSERT_TRUE(held.ok());
    ++holding;
    while (holding.load() < 2) std::this_thread::yield();
    auto more = budget.Acquire(pixels, held->bytes());
    if (more.ok()) {
      ++granted;
    } else {
      EXPECT_EQ(more.status().code(), StatusCode::kOverBudget) << more.status().ToString();
      ++refused;
    }
  };
  std::thread a(decoder, 40, 55);  // needs 55: fits only once b gives its 40 back
  std::thread b(decoder, 40, 50);  // needs 50: fits only once a gives its 40 back
  a.join();
  b.join();
  EXPECT_EQ(refused.load(), 1);
  EXPECT_EQ(granted.load(), 1);
  EXPECT_EQ(budget.in_use(), 0u);
}

// A large request waits its turn and is not overtaken forever by a stream of small ones.
TEST(MemoryBudgetTest, WaitersAreServedInOrder) {
  MemoryBudget budget(100);
  auto first = budget.Acquire(90);
  ASSERT_TRUE(first.ok());
  std::atomic<bool> big_granted{false};
  std::thread big([&] {
    auto lease = budget.Acquire(80);
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
    big_granted = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(budget.TryAcquire(5).ok()) << "a small request may not jump the queue";
  first->Release();
  big.join();
  EXPECT_TRUE(big_granted);
}

TEST(MemoryTest, RssIsReadable) {
  EXPECT_GT(CurrentRssBytes(), 0u);
  EXPECT_GE(PeakRssBytes(), CurrentRssBytes());
}

TEST(BoundedQueueTest, ProducerWaitsWhenFullAndConsumerDrainsAfterClose) {
  BoundedQueue<int> q(2);
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(q.Push(i));
      ++pushed;
    }
    q.Close();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(pushed.load(), 3);  // capacity 2 (+1 in hand): it had to wait
  std::vector<int> got;
  while (auto v = q.Pop()) got.push_back(*v);
  producer.join();
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i], i);  // FIFO
  EXPECT_FALSE(q.Push(11));
  EXPECT_FALSE(q.PopFor(std::chrono::milliseconds(1)).has_value());
}

// Batches take what is ready, up to their size, without waiting long for more; an empty batch
// means closed and drained.
TEST(BoundedQueueTest, PopBatchTakesWhatIsReadyUpToItsSize) {
  BoundedQueue<int> q(16);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.Push(i));
  EXPECT_EQ(q.PopBatch(3, std::chrono::milliseconds(1)), (std::vector<int>{0, 1, 2}));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(q.PopBatch(10, std::chrono::milliseconds(20)), (std::vector<int>{3, 4}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << "it waited for a full batch";
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    q.Push(5);
    q.Close();
  });
  EXPECT_EQ(q.PopBatch(10, std::chrono::milliseconds(1)), std::vector<int>{5}) << "the first item is waited for";
  late.join();
  EXPECT_TRUE(q.PopBatch(10, std::chrono::milliseconds(1)).empty());
}

// TryPush never waits: a full or closed queue leaves the item with the caller, unmoved.
TEST(BoundedQueueTest, TryPushKeepsTheItemWhenFullOrClosed) {
  BoundedQueue<std::string> q(1);
  std::string first = "first", second = "second";
  EXPECT_TRUE(q.TryPush(first));
  EXPECT_FALSE(q.TryPush(second));
  EXPECT_EQ(second, "second") << "a refused item is not moved from";
  EXPECT_EQ(q.Pop(), "first");
  q.Close();
  EXPECT_FALSE(q.TryPush(second));
  EXPECT_EQ(second, "second");
}

}  // namespace
}  // namespace mediadex
