// Linked into every test program that computes with LibTorch: the process computes in the
// numerics mode of CTMQ_TEST_NUMERICS (reproducible unless it says native) from its start, as
// the ctmq processes the tests start do (cli/run_ctmq.h). ctest runs the suite in the
// reproducible mode and the tests that bound two numeric paths once more in the native one.

#include <cstdlib>
#include <string>

#include "ctmq/platform/numerics.h"

namespace {

const bool pinned = [] {
  const char* mode = std::getenv("CTMQ_TEST_NUMERICS");
  const bool native = mode != nullptr && std::string(mode) == "native";
  ctmq::pin_numerics(native ? ctmq::NumericsMode::kNative : ctmq::NumericsMode::kReproducible);
  return true;
}();

}  // namespace
