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

}  // namespace
}  // namespace mediadex
