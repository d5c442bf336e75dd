#pragma once

#include <string>
#include <vector>

namespace ctmq {

/// Levenshtein distance, used to suggest the key or choice a user probably meant.
size_t edit_distance(const std::string& a, const std::string& b);

/// The candidate closest to `word`, or "" when none is close enough to be a plausible typo.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

/// "a, b or c" for error messages.
std::string join_choices(const std::vector<std::string>& choices);

}  // namespace ctmq
