// Tests for core/time_format.cc: the "created" timestamps of OCI documents
// and the parsing of --created and SOURCE_DATE_EPOCH. Formatting must be
// RFC 3339 in UTC with whole seconds ("…Z") so configs are reproducible;
// parsing accepts RFC 3339 with Z or numeric offsets (fractions dropped),
// "@SECONDS" and plain seconds, and rejects anything else with a message that
// quotes the input. Expected epoch values were computed with Python's
// datetime.
#include "core/util/time_format.h"

#include <gtest/gtest.h>

#include <string>

namespace ocipack {
namespace {

int64_t parse_ok(const std::string& text) {
  auto result = parse_timestamp(text);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : INT64_MIN;
}

void expect_timestamp_rejected(const std::string& text) {
  auto result = parse_timestamp(text);
  ASSERT_FALSE(result.ok()) << "accepted '" << text << "' as " << *result;
  EXPECT_NE(result.error().message.find("'" + text + "'"), std::string::npos)
      << result.error().message;
}

TEST(TimeFormat, FormatRfc3339) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_rfc3339(951825600), "2000-02-29T12:00:00Z");
  EXPECT_EQ(format_rfc3339(2147483648LL), "2038-01-19T03:14:08Z");
  EXPECT_EQ(format_rfc3339(253402300799LL), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59Z");
}

TEST(TimeFormat, ParseUtc) {
  EXPECT_EQ(parse_ok("2024-01-02T03:04:05Z"), 1704164645);
  EXPECT_EQ(parse_ok("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_ok("1969-12-31T23:59:59Z"), -1);
  EXPECT_EQ(parse_ok("2000-02-29T12:00:00Z"), 951825600);
  EXPECT_EQ(parse_ok("2038-01-19T03:14:08Z"), 2147483648LL);
}

TEST(TimeFormat, ParseAcceptsLowercaseSeparators) {
  // RFC 3339 §5.6 allows 't' and 'z'.
  EXPECT_EQ(parse_ok("2024-01-02t03:04:05z"), 1704164645);
}

TEST(TimeFormat, ParseOffsets) {
  EXPECT_EQ(parse_ok("2024-01-02T03:04:05+01:00"), 1704161045);
  EXPECT_EQ(parse_ok("2024-01-02T03:04:05-05:30"), 1704184445);
  EXPECT_EQ(parse_ok("2024-01-02T03:04:05+00:00"), 1704164645);
  EXPECT_EQ(parse_ok("2024-01-02T03:04:05-00:00"), 1704164645);
}

TEST(TimeFormat, ParseDropsFractions) {
  EXPECT_EQ(parse_ok("2024-01-02T03:04:05.999999999Z"), 1704164645);
  EXPECT_EQ(parse_ok("2024-01-02T03:04:05.5+01:00"), 1704161045);
  EXPECT_EQ(parse_ok("2024-01-02T03:04:05.000Z"), 1704164645);
}

TEST(TimeFormat, ParseEpochForms) {
  EXPECT_EQ(parse_ok("@1700000000"), 1700000000);
  EXPECT_EQ(parse_ok("@0"), 0);
  EXPECT_EQ(parse_ok("@-86400"), -86400);
  EXPECT_EQ(parse_ok("1700000000"), 1700000000);
  EXPECT_EQ(parse_ok("0"), 0);
}

TEST(TimeFormat, FormatAndParseRoundTrip) {
  for (int64_t t : {int64_t{0}, int64_t{1}, int64_t{1700000000}, int64_t{4102444800},
                    int64_t{-31536000}}) {
    EXPECT_EQ(parse_ok(format_rfc3339(t)), t);
  }
}

TEST(TimeFormat, ParseRejectsGarbage) {
  for (const char* bad : {"", "@", "@abc", "@12x", "yesterday", "12abc", " 1700000000",
                          "1700000000 ", "+1700000000", "2024-01-02", "2024-01-02T03:04:05",
                          "2024-01-02T03:04Z", "2024-01-02 03:04:05", "2024/01/02T03:04:05Z",
                          "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05Zjunk",
                          "2024-01-02T03:04:05+0100", "2024-01-02T03:04:05+01",
                          "2024-01-02T03:04:05+01:0", "2024-01-02T03:04:05 Z",
                          "99999999999999999999999"}) {
    expect_timestamp_rejected(bad);
  }
}

TEST(TimeFormat, ParseRejectsOutOfRangeFields) {
  for (const char* bad : {"2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z", "2024-01-32T00:00:00Z",
                          "2024-01-00T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z",
                          "2024-01-01T00:00:61Z", "2024-01-01T00:00:00+24:00",
                          "2024-01-01T00:00:00+01:60"}) {
    expect_timestamp_rejected(bad);
  }
}

TEST(TimeFormat, ParseRejectsDaysThatDoNotExistInTheMonth) {
  // RFC 3339 §5.7: the day must exist in the month and year. Accepting these
  // would silently turn a typo into a different date (2023-02-29 → March 1).
  for (const char* bad : {"2023-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2024-04-31T00:00:00Z",
                          "1900-02-29T00:00:00Z"}) {
    expect_timestamp_rejected(bad);
  }
  EXPECT_EQ(parse_ok("2024-02-29T00:00:00Z"), 1709164800);  // leap year
}

TEST(TimeFormat, SecondSixtyIsRejectedAtAnyTimeOfDay) {
  // Leap seconds are refused, as Go's and Python's parsers do; the answer must
  // not depend on the time of day (23:59:60 is where normalising would roll
  // over into the next day).
  EXPECT_FALSE(parse_timestamp("2016-12-31T12:00:60Z").ok());
  EXPECT_FALSE(parse_timestamp("2016-12-31T23:59:60Z").ok());
}

TEST(TimeFormat, YearsBeforeOneThousandHaveFourDigits) {
  EXPECT_EQ(format_rfc3339(-62135596800), "0001-01-01T00:00:00Z");
}

TEST(TimeFormat, SourceDateEpoch) {
  auto zero = parse_source_date_epoch("0");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero, 0);
  auto value = parse_source_date_epoch("1700000000");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 1700000000);
  auto big = parse_source_date_epoch("253402300799");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(*big, 253402300799LL);
}

TEST(TimeFormat, SourceDateEpochRejectsNegativeGarbageAndEmpty) {
  for (const char* bad : {"", "-1", "+5", "abc", "12abc", " 12", "12 ", "@1700000000",
                          "1.5", "2024-01-02T03:04:05Z", "99999999999999999999999"}) {
    auto result = parse_source_date_epoch(bad);
    ASSERT_FALSE(result.ok()) << "accepted '" << bad << "'";
    EXPECT_NE(result.error().message.find("SOURCE_DATE_EPOCH"), std::string::npos)
        << result.error().message;
    EXPECT_NE(result.error().message.find("'" + std::string(bad) + "'"), std::string::npos)
        << result.error().message;
  }
}


TEST(TimeFormat, InstantsOutsideYearsZeroToNineThousandNineHundredNinetyNineAreRefused) {
  // skopeo and umoci read year 0000 and refuse 10000, so that is the range.
  for (const char* text : {"10000-01-01T00:00:00Z", "@253402300800", "253402300800", "@-62167219201",
                           "9999-12-31T23:30:00-01:00", "0000-01-01T00:30:00+01:00", "@99999999999999",
                           "@-9223372036854775808"}) {
    auto result = parse_timestamp(text);
    ASSERT_FALSE(result.ok()) << "accepted " << text << " as " << *result;
    EXPECT_NE(result.error().message.find(text), std::string::npos) << result.error().message;
  }
  auto outside = parse_timestamp("@253402300800");
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message.find("outside years 0000-9999"), std::string::npos) << outside.error().message;
  // The ends of the range and year 0000 are fine.
  EXPECT_EQ(parse_ok("9999-12-31T23:59:59Z"), k_max_timestamp);
  EXPECT_EQ(parse_ok("0000-01-01T00:00:00Z"), k_min_timestamp);
  EXPECT_EQ(parse_ok("@-62135596801"), -62135596801);  // 0000-12-31T23:59:59Z
  EXPECT_EQ(format_rfc3339(k_min_timestamp), "0000-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(-62135596801), "0000-12-31T23:59:59Z");
}

TEST(TimeFormat, SourceDateEpochBeyondYearNineThousandNineHundredNinetyNineIsRefused) {
  for (const char* text : {"999999999999", "253402300800"}) {  // 99999999999 is year 5138: fine
    auto result = parse_source_date_epoch(text);
    ASSERT_FALSE(result.ok()) << text;
    EXPECT_NE(result.error().message.find(std::string("SOURCE_DATE_EPOCH '") + text + "'"), std::string::npos)
        << result.error().message;
  }
  auto last = parse_source_date_epoch("253402300799");
  ASSERT_TRUE(last.ok()) << last.error().message;
  EXPECT_EQ(*last, k_max_timestamp);
}

TEST(TimeFormat, GoRfc3339AcceptsWhatGoParses) {
  for (const char* text : {"2024-01-02T03:04:05Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                           "2024-02-29T00:00:00Z", "2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05+23:59",
                           "2024-01-02T03:04:05-00:00"})
    EXPECT_TRUE(check_go_rfc3339(text).ok()) << text;
}

TEST(TimeFormat, GoRfc3339RefusesWhatGoRefuses) {
  for (const char* text : {"10000-01-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-01-00T00:00:00Z",
                           "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-02T24:00:00Z",
                           "2024-01-02T03:60:00Z", "2024-01-02T03:04:60Z", "2024-01-02t03:04:05Z",
                           "2024-01-02T03:04:05z", "2024-01-02 03:04:05Z", "2024-01-02T03:04:05",
                           "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05,5Z", "2024-01-02T03:04:05+24:00",
                           "2024-01-02T03:04:05+01:60", "2024-01-02T03:04:05+0100", "2024-01-02T3:04:05Z",
                           "+2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z ", "", "@1700000000"}) {
    auto status = check_go_rfc3339(text);
    ASSERT_FALSE(status.ok()) << "accepted '" << text << "'";
    EXPECT_NE(status.error().message.find(std::string("'") + text + "'"), std::string::npos)
        << status.error().message;
  }
}

TEST(TimeFormat, UserValuesAreUsageErrorsStoredOnesInputErrors) {
  for (const char* text : {"tomorrow", "@99999999999999", "2024-13-01T00:00:00Z"}) {
    auto parsed = parse_timestamp(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().kind, ErrorKind::usage) << text;
  }
  for (const char* text : {"yesterday", "-1", "99999999999999"}) {
    auto parsed = parse_source_date_epoch(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().kind, ErrorKind::usage) << text;
  }
  auto stored = check_go_rfc3339("2024-01-02 03:04:05Z");
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().kind, ErrorKind::input);
}

}  // namespace
}  // namespace ocipack
