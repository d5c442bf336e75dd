#pragma once
// The one tensor comparison of the tests: same shape, and |actual - expected| <= atol +
// rtol |expected| everywhere (torch::allclose's rule). A failure prints the largest difference.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

namespace ctmq::test {

inline void expect_close(const torch::Tensor& actual, const torch::Tensor& expected,
                         double atol = 1e-5, double rtol = 1e-5, const std::string& what = "") {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  EXPECT_TRUE(torch::allclose(actual, expected, rtol, atol))
      << what << ": largest |difference| " << (actual - expected).abs().max().item<double>()
      << " (atol " << atol << ", rtol " << rtol << ")";
}

}  // namespace ctmq::test
