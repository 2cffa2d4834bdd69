#include "core/memory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/bounded_queue.h"

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
        ASSERT_TRUE(budget.Acquire(bytes));
        if (budget.in_use() > budget.limit()) violated = true;
        budget.Release(bytes);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(violated);
  EXPECT_EQ(budget.in_use(), 0u);
  EXPECT_LE(budget.peak(), 1000u);
  EXPECT_GT(budget.peak(), 400u);
}

TEST(MemoryBudgetTest, TooBigNeverFitsAndCancelWakesWaiters) {
  MemoryBudget budget(100);
  EXPECT_FALSE(budget.Acquire(101));
  ASSERT_TRUE(budget.Acquire(100));
  EXPECT_FALSE(budget.TryAcquire(1));
  std::thread waiter([&] { EXPECT_FALSE(budget.Acquire(50)); });
  budget.Cancel();
  waiter.join();
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

}  // namespace
}  // namespace mediadex
