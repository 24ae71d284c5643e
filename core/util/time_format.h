// Timestamps for OCI documents: RFC 3339 in UTC with whole seconds
// ("2024-01-02T03:04:05Z"), and parsing of the forms users pass to --created
// and SOURCE_DATE_EPOCH. The parsers read what a user typed, so a refusal is
// a usage error; check_go_rfc3339 checks a stored document, so its refusal
// is an input error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/result.h"

namespace ocipack {

// The instants an RFC 3339 timestamp with a four-digit year can name:
// 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z. Go's time.Parse (skopeo,
// containerd, umoci) reads year 0000 and no year beyond 9999, so every
// `created` ocipack writes lies in this range.
inline constexpr int64_t k_min_timestamp = -62167219200;
inline constexpr int64_t k_max_timestamp = 253402300799;

// `epoch_seconds` must lie in [k_min_timestamp, k_max_timestamp].
std::string format_rfc3339(int64_t epoch_seconds);

// Accepts RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)), "@SECONDS" or
// "SECONDS". Fractions are dropped (layers store whole seconds). Leap
// seconds (:60) are refused, as Go's and Python's parsers do, and so is an
// instant outside years 0000–9999 in UTC (an offset can push a valid-looking
// 9999-12-31T23:30:00-01:00 past it).
Result<int64_t> parse_timestamp(std::string_view text);

// SOURCE_DATE_EPOCH is a non-negative decimal integer of seconds, at most
// k_max_timestamp.
Result<int64_t> parse_source_date_epoch(std::string_view text);

// Whether `text` is a timestamp that Go's encoding/json reads into a
// time.Time (strict RFC 3339, what containers/image and umoci parse
// `created` with): YYYY-MM-DDTHH:MM:SS[.digits](Z|±HH:MM), upper-case T and
// Z, a day that exists in its month, hours < 24, minutes and seconds < 60,
// offset hours < 24. The error quotes the text.
Status check_go_rfc3339(std::string_view text);

}  // namespace ocipack
