// Tests for cli/shlex.cc: shlex_split must split exactly as Python's
// shlex.split() (POSIX mode) because Yocto's image-oci class splits
// OCI_IMAGE_ENTRYPOINT and OCI_IMAGE_CMD that way, and the same quoting must
// give the same argv. Every expected value below was produced by running
// python3 -c 'import shlex; print(shlex.split(...))' (Python 3.11) on the same
// input; the error cases check Python's messages ("No closing quotation",
// "No escaped character").
#include "cli/shlex.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ocipack::cli {
namespace {

using Words = std::vector<std::string>;

Words split_ok(const std::string& text) {
  auto result = shlex_split(text);
  EXPECT_TRUE(result.ok()) << "input: " << text << " error: "
                           << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : Words{};
}

void expect_error(const std::string& text, const std::string& message) {
  auto result = shlex_split(text);
  ASSERT_FALSE(result.ok()) << "input accepted: " << text;
  EXPECT_NE(result.error().message.find(message), std::string::npos)
      << "input: " << text << " error: " << result.error().message;
}

TEST(Shlex, PlainWords) {
  EXPECT_EQ(split_ok("a b c"), (Words{"a", "b", "c"}));
  EXPECT_EQ(split_ok("  a   b  "), (Words{"a", "b"}));
  EXPECT_EQ(split_ok("/usr/bin/env python3 -u"), (Words{"/usr/bin/env", "python3", "-u"}));
}

TEST(Shlex, EmptyAndBlankInputGiveNoWords) {
  EXPECT_EQ(split_ok(""), Words{});
  EXPECT_EQ(split_ok("   "), Words{});
  EXPECT_EQ(split_ok(" \t\n\r "), Words{});
}

TEST(Shlex, TabsNewlinesAndCarriageReturnsSeparate) {
  EXPECT_EQ(split_ok("a\tb\nc\rd"), (Words{"a", "b", "c", "d"}));
}

TEST(Shlex, OtherControlCharactersAreNotWhitespace) {
  // Python's shlex.whitespace is ' \t\r\n' only.
  EXPECT_EQ(split_ok("a\vb\fc"), (Words{"a\vb\fc"}));
}

TEST(Shlex, SingleQuotes) {
  EXPECT_EQ(split_ok("'a b' c"), (Words{"a b", "c"}));
  EXPECT_EQ(split_ok("'double \" inside'"), (Words{"double \" inside"}));
  // Backslashes are literal inside single quotes.
  EXPECT_EQ(split_ok("'a\\b'"), (Words{"a\\b"}));
}

TEST(Shlex, DoubleQuotes) {
  EXPECT_EQ(split_ok("\"a b\" c"), (Words{"a b", "c"}));
  EXPECT_EQ(split_ok("\"single ' inside\""), (Words{"single ' inside"}));
  EXPECT_EQ(split_ok("\"multi\nline\""), (Words{"multi\nline"}));
}

TEST(Shlex, EscapedQuotesAndBackslashesInDoubleQuotes) {
  EXPECT_EQ(split_ok(R"("a \"b\" c")"), (Words{"a \"b\" c"}));
  EXPECT_EQ(split_ok(R"("a\\b")"), (Words{"a\\b"}));
}

TEST(Shlex, OtherBackslashesInDoubleQuotesStay) {
  EXPECT_EQ(split_ok(R"("a\b")"), (Words{"a\\b"}));
  EXPECT_EQ(split_ok(R"("a\$b")"), (Words{"a\\$b"}));
  EXPECT_EQ(split_ok("\"a\\\nb\""), (Words{"a\\\nb"}));
}

TEST(Shlex, BackslashOutsideQuotesEscapesTheNextCharacter) {
  EXPECT_EQ(split_ok(R"(a\ b)"), (Words{"a b"}));
  EXPECT_EQ(split_ok(R"(\a\b)"), (Words{"ab"}));
  EXPECT_EQ(split_ok(R"(a\\b)"), (Words{"a\\b"}));
  EXPECT_EQ(split_ok(R"(\"x)"), (Words{"\"x"}));
  EXPECT_EQ(split_ok(R"(\'x)"), (Words{"'x"}));
  // A backslash-newline is an escaped newline, not a line continuation.
  EXPECT_EQ(split_ok("\\\nx"), (Words{"\nx"}));
}

TEST(Shlex, AdjacentQuotedPartsJoinIntoOneWord) {
  EXPECT_EQ(split_ok(R"("a"'b'c)"), (Words{"abc"}));
  EXPECT_EQ(split_ok("a''b"), (Words{"ab"}));
  EXPECT_EQ(split_ok(R"(a "b c"d e)"), (Words{"a", "b cd", "e"}));
  EXPECT_EQ(split_ok(R"('it'\''s')"), (Words{"it's"}));
}

TEST(Shlex, EmptyQuotedStringIsAnEmptyWord) {
  EXPECT_EQ(split_ok("''"), (Words{""}));
  EXPECT_EQ(split_ok("\"\""), (Words{""}));
  EXPECT_EQ(split_ok("a '' b"), (Words{"a", "", "b"}));
  EXPECT_EQ(split_ok("\"\" \"\""), (Words{"", ""}));
}

TEST(Shlex, HashIsNotAComment) {
  // shlex.split() disables comments.
  EXPECT_EQ(split_ok("x#y"), (Words{"x#y"}));
  EXPECT_EQ(split_ok("# not a comment"), (Words{"#", "not", "a", "comment"}));
}

TEST(Shlex, NonAsciiBytesArePartOfWords) {
  EXPECT_EQ(split_ok("café \"naïve\""), (Words{"café", "naïve"}));
}

TEST(Shlex, UnterminatedQuotesAreErrors) {
  expect_error("'abc", "No closing quotation");
  expect_error("\"abc", "No closing quotation");
  expect_error("a 'b", "No closing quotation");
  expect_error(R"("a\")", "No closing quotation");  // the quote is escaped
}

TEST(Shlex, TrailingBackslashIsAnError) {
  expect_error("abc\\", "No escaped character");
  expect_error("\\", "No escaped character");
}

TEST(Shlex, TrailingBackslashInsideDoubleQuotesIsAnEscapeError) {
  // Python: shlex.split('"abc\\') raises "No escaped character" (the escape
  // state sees end of input before the missing closing quote matters).
  expect_error("\"abc\\", "No escaped character");
}

TEST(Shlex, ErrorNamesTheInput) {
  auto result = shlex_split("run 'unterminated");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("run 'unterminated"), std::string::npos)
      << result.error().message;
}

}  // namespace
}  // namespace ocipack::cli
