// The loader's batch memory is reused once a batch is freed, and a batch outlives its pool.

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "ctmq/data/batch_buffer_pool.h"

namespace ctmq::data {
namespace {

TEST(BatchBufferPool, FreedBatchMemoryIsReusedForTheSameShape) {
  auto pool = BatchBufferPool::create(2);
  void* first = nullptr;
  {
    torch::Tensor batch = pool->take({4, 3, 8, 8}, torch::kFloat32);
    EXPECT_EQ(batch.scalar_type(), torch::kFloat32);
    EXPECT_EQ(batch.sizes(), (std::vector<int64_t>{4, 3, 8, 8}));
    batch.fill_(1.5f);
    EXPECT_FLOAT_EQ(batch.sum().item<float>(), 1.5f * 4 * 3 * 8 * 8);
    first = batch.data_ptr();
    EXPECT_EQ(pool->idle(), 0u);
  }
  EXPECT_EQ(pool->idle(), 1u);
  torch::Tensor again = pool->take({4, 3, 8, 8}, torch::kFloat32);
  EXPECT_EQ(again.data_ptr(), first);
  EXPECT_EQ(pool->idle(), 0u);
  // Another size does not take a buffer of the wrong length.
  torch::Tensor other = pool->take({2, 3, 8, 8}, torch::kFloat32);
  EXPECT_NE(other.data_ptr(), first);
  torch::Tensor bytes = pool->take({4, 3, 8, 8}, torch::kUInt8);
  EXPECT_EQ(bytes.scalar_type(), torch::kUInt8);
  EXPECT_NE(bytes.data_ptr(), first);  // a quarter of the float buffer's length
}

TEST(BatchBufferPool, KeepsAtMostMaxFreeAndBatchesOutliveThePool) {
  auto pool = BatchBufferPool::create(1);
  std::vector<torch::Tensor> batches;
  for (int i = 0; i < 3; ++i) batches.push_back(pool->take({16}, torch::kFloat32));
  batches.clear();
  EXPECT_EQ(pool->idle(), 1u);

  torch::Tensor survivor = pool->take({16}, torch::kFloat32).fill_(2.0f);
  std::weak_ptr<BatchBufferPool> weak = pool;
  pool.reset();
  EXPECT_FALSE(weak.expired());  // the batch's deleter keeps the pool alive
  EXPECT_FLOAT_EQ(survivor.sum().item<float>(), 32.0f);
  survivor = torch::Tensor();
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace ctmq::data
