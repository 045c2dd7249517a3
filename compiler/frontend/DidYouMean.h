// Spelling suggestions for unknown policy keys and names ("did you mean
// 'heads'?").
#ifndef LFC_COMPILER_FRONTEND_DIDYOUMEAN_H
#define LFC_COMPILER_FRONTEND_DIDYOUMEAN_H

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lfc::frontend {

/// Optimal-string-alignment distance: insertions, deletions, substitutions and
/// swaps of two adjacent characters each cost 1. Swaps count once because
/// transposed letters
/// ("haeds") are the most common typo in hand-written keys.
size_t editDistance(std::string_view a, std::string_view b);

/// The candidate closest to `typed`, if it is close enough to be a plausible
/// typo: at most a third of the longer word's letters (and at least one)
/// differ, and fewer than the typed word has (so "x" never suggests "k"). Ties
/// go to the earlier candidate.
std::optional<std::string>
closestMatch(std::string_view typed,
             const std::vector<std::string> &candidates);

/// "; did you mean 'X'?" or an empty string, ready to append to a message.
std::string didYouMeanSuffix(std::string_view typed,
                             const std::vector<std::string> &candidates);

} // namespace lfc::frontend

#endif // LFC_COMPILER_FRONTEND_DIDYOUMEAN_H
