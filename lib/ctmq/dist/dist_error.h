#pragma once
// The error type of dist/: every message names the rank it happened on, so that the one stderr
// line main prints from a multi-process job says which process failed first.

#include <cstdint>
#include <string>

#include "ctmq/core/errors.h"

namespace ctmq {

/// A distributed-training problem (bad launcher environment, rendezvous or collective failure).
class DistError : public Error {
 public:
  /// `rank` < 0 means "not known yet" (e.g. while reading the launcher's environment).
  DistError(const std::string& message, int64_t rank, int exit_code = kExitFailure)
      : Error(rank >= 0 ? "rank " + std::to_string(rank) + ": " + message : message, exit_code),
        rank_(rank) {}
  int64_t rank() const { return rank_; }

 private:
  int64_t rank_;
};

}  // namespace ctmq
