// Tests for core/util/result.h: error kinds survive propagation and context,
// and OCIPACK_TRY / OCIPACK_TRY_ASSIGN return the first error unchanged.
#include "core/util/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace ocipack {
namespace {

Result<int> parse_positive(int value) {
  if (value < 0) return usage_error("negative: " + std::to_string(value));
  if (value == 0) return corrupt_error("zero");
  return value;
}

Result<int> doubled(int value) {
  OCIPACK_TRY_ASSIGN(const int parsed, parse_positive(value));
  return parsed * 2;
}

Result<int> sum_into_existing(int a, int b) {
  int total = 0;
  OCIPACK_TRY_ASSIGN(total, parse_positive(a));
  OCIPACK_TRY_ASSIGN(auto second, parse_positive(b));  // two in one scope
  return total + second;
}

Status check(int value) {
  OCIPACK_TRY(parse_positive(value));
  return ok_status();
}

Result<std::unique_ptr<int>> boxed(int value) {
  if (value < 0) return io_error("no box");
  return std::make_unique<int>(value);
}

Result<int> unbox(int value) {
  OCIPACK_TRY_ASSIGN(auto box, boxed(value));  // move-only values are moved out
  return *box;
}

TEST(Result, TryAssignDeclaresTheValueOrReturnsTheError) {
  ASSERT_TRUE(doubled(21).ok());
  EXPECT_EQ(*doubled(21), 42);
  auto failed = doubled(-1);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::usage);
  EXPECT_EQ(failed.error().message, "negative: -1");
}

TEST(Result, TryAssignAssignsToAnExistingVariable) {
  EXPECT_EQ(*sum_into_existing(2, 3), 5);
  EXPECT_EQ(sum_into_existing(2, 0).error().kind, ErrorKind::corrupt);
  EXPECT_EQ(sum_into_existing(-4, 0).error().message, "negative: -4");
}

TEST(Result, TryAssignMovesMoveOnlyValues) {
  EXPECT_EQ(*unbox(7), 7);
  EXPECT_EQ(unbox(-1).error().kind, ErrorKind::io);
}

TEST(Result, TryReturnsTheErrorWithItsKind) {
  EXPECT_TRUE(check(3).ok());
  EXPECT_TRUE(check(0).error().is(ErrorKind::corrupt));
  EXPECT_FALSE(check(0).error().is(ErrorKind::input));
}

TEST(Result, ContextKeepsTheKind) {
  const Error error = input_error("missing");
  const Error prefixed = error.with_context("--base: ");
  EXPECT_EQ(prefixed.message, "--base: missing");
  EXPECT_EQ(prefixed.kind, ErrorKind::input);
  EXPECT_EQ(interrupted_error().with_context("x: ").kind, ErrorKind::interrupted);
  EXPECT_EQ(std::string(error_kind_name(ErrorKind::corrupt)), "corrupt");
}

TEST(Result, FieldErrorsCanBeShownWithAnotherNameForTheField) {
  const Error error = field_error(ErrorKind::usage, "layers[1].diff_base", " 'old' is not a directory");
  EXPECT_EQ(error.message, "layers[1].diff_base 'old' is not a directory");
  EXPECT_EQ(error.with_field_named("--diff-base"), "--diff-base 'old' is not a directory");
  const Error prefixed = error.with_context("layer 2: ");
  EXPECT_EQ(prefixed.with_field_named("--diff-base"), "layer 2: --diff-base 'old' is not a directory");
  EXPECT_EQ(prefixed.kind, ErrorKind::usage);
  EXPECT_EQ(input_error("plain").with_field_named("--x"), "plain");
}

}  // namespace
}  // namespace ocipack
