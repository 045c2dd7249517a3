// Units for the edit distance and suggestion rules behind "did you mean" hints.
#include "compiler/frontend/DidYouMean.h"

#include <gtest/gtest.h>

using lfc::frontend::closestMatch;
using lfc::frontend::didYouMeanSuffix;
using lfc::frontend::editDistance;

TEST(EditDistance, ClassicLevenshteinCases) {
  // Hand-computed: kitten -> sitten -> sittin -> sitting.
  EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(editDistance("", "abc"), 3u);
  EXPECT_EQ(editDistance("abc", ""), 3u);
  EXPECT_EQ(editDistance("heads", "heads"), 0u);
  EXPECT_EQ(editDistance("head", "heads"), 1u);
  EXPECT_EQ(editDistance("flaw", "lawn"), 2u);
}

TEST(EditDistance, AdjacentSwapCostsOne) {
  EXPECT_EQ(editDistance("haeds", "heads"), 1u);
  EXPECT_EQ(editDistance("ab", "ba"), 1u);
  // Optimal string alignment does not edit a swapped pair again: "ca" -> "abc"
  // is 3.
  EXPECT_EQ(editDistance("ca", "abc"), 3u);
}

TEST(ClosestMatch, SuggestsPlausibleTypos) {
  const std::vector<std::string> geometryKeys = {"heads",
                                                 "head_dim",
                                                 "dtype",
                                                 "tokens_per_frame",
                                                 "frames_per_chunk",
                                                 "chunks",
                                                 "passes_per_chunk",
                                                 "kv_window_frames",
                                                 "sink_frames",
                                                 "layers"};
  EXPECT_EQ(closestMatch("haeds", geometryKeys), "heads");
  EXPECT_EQ(closestMatch("tokens_per_frames", geometryKeys),
            "tokens_per_frame");
  EXPECT_EQ(closestMatch("headdim", geometryKeys), "head_dim");
  EXPECT_EQ(closestMatch("chunk", geometryKeys), "chunks");
  EXPECT_EQ(closestMatch("layer", geometryKeys), "layers");
}

TEST(ClosestMatch, RejectsUnrelatedWords) {
  const std::vector<std::string> keys = {"heads", "head_dim", "k"};
  EXPECT_EQ(closestMatch("resolution", keys), std::nullopt);
  // A one-letter key is never "close" to another one-letter key.
  EXPECT_EQ(closestMatch("x", keys), std::nullopt);
  EXPECT_EQ(closestMatch("", keys), std::nullopt);
}

TEST(ClosestMatch, PrefersTheNearestCandidate) {
  // "block_kk" is 1 from "block_k" and 2 from "block_q".
  EXPECT_EQ(closestMatch("block_kk", {"block_q", "block_k"}), "block_k");
  // Equal distances: the earlier candidate wins, so hints are deterministic.
  EXPECT_EQ(closestMatch("block_x", {"block_q", "block_k"}), "block_q");
}

TEST(DidYouMeanSuffix, FormatsTheHint) {
  EXPECT_EQ(didYouMeanSuffix("haeds", {"heads"}), "; did you mean 'heads'?");
  EXPECT_EQ(didYouMeanSuffix("zzzzzz", {"heads"}), "");
}
