// Timestamps for OCI documents: RFC 3339 in UTC with whole seconds
// ("2024-01-02T03:04:05Z"), and parsing of the forms users pass to --created
// and SOURCE_DATE_EPOCH.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ocipack {

std::string format_rfc3339(int64_t epoch_seconds);

// Accepts RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)), "@SECONDS" or
// "SECONDS". Fractions are dropped (layers store whole seconds). Leap
// seconds (:60) are refused, as Go's and Python's parsers do.
Result<int64_t> parse_timestamp(std::string_view text);

// SOURCE_DATE_EPOCH is a non-negative decimal integer of seconds.
Result<int64_t> parse_source_date_epoch(std::string_view text);

}  // namespace ocipack
