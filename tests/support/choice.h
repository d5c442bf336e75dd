#pragma once
// Tests name spec choices as the spec does ("bireal", "lsq"); this turns a name into its enum.

#include <stdexcept>
#include <string>

#include "ctmq/spec/choices.h"

namespace ctmq::test {

template <typename E>
E choice(const std::string& name) {
  if (auto value = parse_choice<E>(name)) return *value;
  throw std::invalid_argument("test: no choice named " + name);
}

}  // namespace ctmq::test
