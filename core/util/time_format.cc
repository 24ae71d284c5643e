// RFC 3339 formatting/parsing with timegm/gmtime_r (UTC only, no locale).
#include "core/util/time_format.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace ocipack {

std::string format_rfc3339(int64_t epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  // Four-digit years always (RFC 3339 has no shorter form).
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

namespace {
bool parse_digits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

bool parse_integer(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool in_range(int64_t seconds) { return seconds >= k_min_timestamp && seconds <= k_max_timestamp; }

Error out_of_range(std::string_view what, std::string_view text) {
  return usage_error(std::string(what) + " '" + std::string(text) +
               "' is outside years 0000-9999 (image consumers cannot read such a date)");
}

bool is_leap_year(int year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int days_in_month(int year, int month) {
  static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : k_days[month - 1];
}
}  // namespace

Result<int64_t> parse_source_date_epoch(std::string_view text) {
  int64_t value = 0;
  if (!parse_integer(text, value) || value < 0 || text[0] == '+')
    return usage_error("invalid SOURCE_DATE_EPOCH '" + std::string(text) +
                      "' (expected a non-negative number of seconds)");
  if (!in_range(value)) return out_of_range("SOURCE_DATE_EPOCH", text);
  return value;
}

Status check_go_rfc3339(std::string_view text) {
  auto bad = [&] {
    return input_error("time '" + std::string(text) +
                       "' is not RFC 3339 as Go reads it (YYYY-MM-DDTHH:MM:SS[.digits](Z|+HH:MM|-HH:MM))");
  };
  int year, month, day, hour, minute, second;
  if (!parse_digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' || !parse_digits(text, 5, 2, month) ||
      text[7] != '-' || !parse_digits(text, 8, 2, day) || text[10] != 'T' || !parse_digits(text, 11, 2, hour) ||
      text[13] != ':' || !parse_digits(text, 14, 2, minute) || text[16] != ':' ||
      !parse_digits(text, 17, 2, second))
    return bad();
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 59)
    return bad();
  size_t pos = 19;
  if (text[pos] == '.') {
    const size_t start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return bad();
  }
  if (pos < text.size() && text[pos] == 'Z') return pos + 1 == text.size() ? ok_status() : bad();
  int offset_hour, offset_minute;
  if (pos + 6 != text.size() || (text[pos] != '+' && text[pos] != '-') ||
      !parse_digits(text, pos + 1, 2, offset_hour) || text[pos + 3] != ':' ||
      !parse_digits(text, pos + 4, 2, offset_minute) || offset_hour > 23 || offset_minute > 59)
    return bad();
  return ok_status();
}

Result<int64_t> parse_timestamp(std::string_view text) {
  auto bad = [&] {
    return usage_error("invalid time '" + std::string(text) +
                       "' (expected RFC 3339 like 2024-01-02T03:04:05Z, or @SECONDS)");
  };
  int64_t seconds = 0;
  if (!text.empty() && text[0] == '@') {
    if (!parse_integer(text.substr(1), seconds)) return bad();
    if (!in_range(seconds)) return out_of_range("time", text);
    return seconds;
  }
  if (parse_integer(text, seconds)) {
    if (!in_range(seconds)) return out_of_range("time", text);
    return seconds;
  }

  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !parse_digits(text, 0, 4, year) || text[4] != '-' ||
      !parse_digits(text, 5, 2, month) || text[7] != '-' || !parse_digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !parse_digits(text, 11, 2, hour) ||
      text[13] != ':' || !parse_digits(text, 14, 2, minute) || text[16] != ':' ||
      !parse_digits(text, 17, 2, second))
    return bad();
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return bad();
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return bad();
  }
  int64_t offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!parse_digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !parse_digits(text, pos + 4, 2, om) || oh > 23 || om > 59)
      return bad();
    offset = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::tm requested = tm;
  const std::time_t t = timegm(&tm);  // normalises out-of-range days (Feb 30 → Mar 2)
  if (tm.tm_mday != requested.tm_mday || tm.tm_mon != requested.tm_mon) return bad();
  const int64_t utc = static_cast<int64_t>(t) - offset;
  if (!in_range(utc)) return out_of_range("time", text);
  return utc;
}

}  // namespace ocipack
