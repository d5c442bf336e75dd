// Starting a network from a checkpoint trained with other quantizers: weights and BatchNorm
// carry over, the quantizers that do not fit start fresh and calibrate on their first batch.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "ctmq/core/errors.h"
#include "ctmq/io/checkpoint.h"
#include "ctmq/models/network.h"
#include "support/tiny_network.h"

namespace ctmq {
namespace {

NetworkConfig quantizer_config(const std::string& weights, const std::string& activations) {
  return test::tiny_network_config("bireal", weights, activations);
}

TEST(QuantizerReset, PactCheckpointStartsAnLsqNetwork) {
  torch::manual_seed(3);
  auto pact = make_network(quantizer_config("dorefa", "pact"));
  // Calibrate PACT at 4 bits, so that the checkpoint's calibrated_bits are not zero.
  pact->set_bits(4, 4);
  pact->train();
  pact->forward(torch::randn({4, 1, 28, 28}));
  const StateDict trained = module_state(*pact);

  auto lsq = make_network(quantizer_config("lsq", "lsq"));
  const StateDict fresh = module_state(*lsq);
  EXPECT_THROW(load_module_state(*lsq, trained, "pact.pt"), IoError);

  std::vector<std::string> reset;
  const StateDict adapted = with_fresh_mismatched_quantizers(trained, fresh, &reset);
  ASSERT_FALSE(reset.empty());
  for (const auto& prefix : reset) {
    EXPECT_TRUE(prefix.find("weight_q.") != std::string::npos ||
                prefix.find("act_q.") != std::string::npos)
        << prefix;
  }
  load_module_state(*lsq, adapted, "pact.pt");
  const StateDict loaded = module_state(*lsq);
  int64_t weights = 0, quantizer_entries = 0;
  for (const auto& [name, tensor] : loaded) {
    const bool quantizer =
        name.find(".weight_q.") != std::string::npos || name.find(".act_q.") != std::string::npos;
    // Weights and BatchNorm come from the checkpoint; every quantizer entry is the fresh one,
    // including calibrated_bits (zero), so LSQ calibrates its steps on the first batch.
    const StateDict& expected = quantizer ? fresh : trained;
    EXPECT_TRUE(torch::equal(tensor, expected.at(name))) << name;
    (quantizer ? quantizer_entries : weights) += 1;
  }
  EXPECT_GT(weights, 0);
  EXPECT_GT(quantizer_entries, 0);

  lsq->set_bits(4, 4);
  lsq->train();
  const auto logits = lsq->forward(torch::randn({4, 1, 28, 28}));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
}

TEST(QuantizerReset, MatchingQuantizersAreKeptAndNothingIsReset) {
  auto a = make_network(quantizer_config("dorefa", "pact"));
  a->set_bits(4, 4);
  a->train();
  a->forward(torch::randn({2, 1, 28, 28}));
  auto b = make_network(quantizer_config("dorefa", "pact"));
  std::vector<std::string> reset{"stale"};
  const StateDict trained = module_state(*a);
  const StateDict adapted = with_fresh_mismatched_quantizers(trained, module_state(*b), &reset);
  EXPECT_TRUE(reset.empty());
  ASSERT_EQ(adapted.size(), trained.size());
  for (const auto& [name, tensor] : trained) {
    EXPECT_TRUE(torch::equal(adapted.at(name), tensor)) << name;
  }
}

}  // namespace
}  // namespace ctmq
