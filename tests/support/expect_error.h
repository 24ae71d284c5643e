// Assertions about the library's errors shared by the unit tests: that a
// Result failed with a message holding every given part (each missing part is
// reported with the whole message), and a substring test for messages.
#pragma once

#include <initializer_list>
#include <string>

#include <gtest/gtest.h>

#include "core/util/result.h"

namespace ocipack::testing {

template <typename T>
void expect_error(const Result<T>& result, std::initializer_list<std::string> parts) {
  ASSERT_FALSE(result.ok());
  for (const auto& part : parts)
    EXPECT_NE(result.error().message.find(part), std::string::npos)
        << "message: " << result.error().message << "\nmissing: " << part;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace ocipack::testing
