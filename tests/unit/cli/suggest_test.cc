// Tests for cli/suggest.cc: the edit distance (swaps of neighbours count 1)
// and which names are offered: close ones only, dashes not counted, a unique
// extension of what was typed, nothing for a word that resembles nothing.
#include "cli/suggest.h"

#include <gtest/gtest.h>

namespace ocipack::cli {
namespace {

TEST(CliSuggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("build", "build"), 0u);
  EXPECT_EQ(edit_distance("biuld", "build"), 1u);  // a swap of neighbours
  EXPECT_EQ(edit_distance("bild", "build"), 1u);   // a deletion
  EXPECT_EQ(edit_distance("buildd", "build"), 1u); // an insertion
  EXPECT_EQ(edit_distance("bxild", "build"), 1u);  // a substitution
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);  // optimal string alignment, not full Damerau (2)
}

TEST(CliSuggest, OffersOnlyCloseNames) {
  const std::vector<std::string> commands = {"build", "tags", "inspect", "verify", "gc", "index", "attach"};
  EXPECT_EQ(nearest_name("biuld", commands), "build");
  EXPECT_EQ(nearest_name("tag", commands), "tags");
  EXPECT_EQ(nearest_name("inspcet", commands), "inspect");
  EXPECT_EQ(nearest_name("verfy", commands), "verify");
  EXPECT_FALSE(nearest_name("push", commands).has_value());
  EXPECT_FALSE(nearest_name("frobnicate", commands).has_value());
  EXPECT_FALSE(nearest_name("", commands).has_value());
  EXPECT_FALSE(nearest_name("x", {}).has_value());

  const std::vector<std::string> flags = {"--tag", "--tar-output", "--threads", "-o", "--output", "--compression-format",
                                          "--compressor"};
  EXPECT_EQ(nearest_name("--tga", flags), "--tag");
  EXPECT_EQ(nearest_name("--ouptut", flags), "--output");
  EXPECT_EQ(nearest_name("--thread", flags), "--threads");
  EXPECT_EQ(nearest_name("--compression", flags), "--compression-format");  // the one name it starts
  EXPECT_EQ(nearest_name("--compress", flags), "--compressor");  // starts two names: the nearer
  EXPECT_FALSE(nearest_name("--no-such-flag", flags).has_value());
  EXPECT_FALSE(nearest_name("-x", flags).has_value()) << "one letter is 1 from every one-letter flag: no guess";
}

TEST(CliSuggest, DidYouMeanText) {
  EXPECT_EQ(did_you_mean("biuld", {"build"}), " (did you mean 'build'?)");
  EXPECT_EQ(did_you_mean("zzzzzz", {"build"}), "");
}

}  // namespace
}  // namespace ocipack::cli
