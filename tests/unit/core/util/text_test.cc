// Tests for core/util/text.h: untrusted text becomes one printable line —
// every control byte (C0 and DEL) escaped, every other byte (UTF-8, bytes
// that are not UTF-8, backslashes, quotes) kept exactly.
#include "core/util/text.h"

#include <gtest/gtest.h>

#include <string>

namespace ocipack {
namespace {

TEST(Text, KeepsPrintableAndNonAsciiBytes) {
  EXPECT_EQ(printable("usr/bin/ls"), "usr/bin/ls");
  EXPECT_EQ(printable("caf\xc3\xa9 \xff\xfe"), "caf\xc3\xa9 \xff\xfe");  // UTF-8 and invalid bytes
  EXPECT_EQ(printable("a\\b'c\"d"), "a\\b'c\"d");                     // no double escaping
  EXPECT_EQ(printable(""), "");
}

TEST(Text, EscapesTheThreeCommonControlsByName) {
  EXPECT_EQ(printable("a\nb\tc\rd"), "a\\nb\\tc\\rd");
}

TEST(Text, EscapesEveryOtherControlByteInHex) {
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");  // a terminal escape cannot run
  EXPECT_EQ(printable("\x7f"), "\\x7f");
  EXPECT_EQ(printable("\x1f\x01"), "\\x1f\\x01");
  // Every byte below 0x20 and DEL is escaped; no output byte is a control.
  for (int byte = 0; byte < 256; ++byte) {
    const std::string shown = printable(std::string(1, static_cast<char>(byte)));
    for (char c : shown) {
      const auto u = static_cast<unsigned char>(c);
      EXPECT_TRUE(u >= 0x20 && u != 0x7f) << "byte " << byte;
    }
  }
}

TEST(Text, InQuotesWrapsThePrintableForm) {
  EXPECT_EQ(in_quotes("a\nb"), "'a\\nb'");
  EXPECT_EQ(in_quotes(""), "''");
}

}  // namespace
}  // namespace ocipack
