// Edit distance and closest-match lookup behind the front end's "did you mean"
// hints.
#include "compiler/frontend/DidYouMean.h"

#include <algorithm>

namespace lfc::frontend {

size_t editDistance(std::string_view a, std::string_view b) {
  // Three rolling rows suffice: the swap rule looks two rows back.
  const size_t n = b.size();
  std::vector<size_t> prev2(n + 1), prev(n + 1), cur(n + 1);
  for (size_t j = 0; j <= n; ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= n; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[n];
}

std::optional<std::string>
closestMatch(std::string_view typed,
             const std::vector<std::string> &candidates) {
  std::optional<std::string> best;
  size_t bestDistance = 0;
  for (const std::string &candidate : candidates) {
    size_t distance = editDistance(typed, candidate);
    size_t longer = std::max(typed.size(), candidate.size());
    size_t allowed = std::max<size_t>(1, longer / 3);
    if (distance > allowed || distance >= typed.size())
      continue;
    if (!best || distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

std::string didYouMeanSuffix(std::string_view typed,
                             const std::vector<std::string> &candidates) {
  if (auto match = closestMatch(typed, candidates))
    return "; did you mean '" + *match + "'?";
  return "";
}

} // namespace lfc::frontend
