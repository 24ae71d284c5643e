// `ocipack verify --json`: one JSON document on stdout whether or not the
// check could run, so a script reads every outcome the same way. "ran" says
// whether the layout was checked at all (false: no layout, an unknown --ref;
// "error" then says why and the exit status is that error's); "ok" whether
// it was found valid; "problems" lists what was found, one string each, as
// the text output prints them. Keys in a fixed order: layout, ref, ran, ok,
// error, problems, checked.
#pragma once

#include <optional>
#include <string>

#include "core/image/layout_verify.h"

namespace ocipack::cli {

// The document for a check that ran (`report`) or could not run (`error`,
// the one-line message printed on stderr too). `ref` is "" for every manifest.
std::string verify_json(const std::string& layout, const std::string& ref, const VerifyReport* report,
                        const std::optional<std::string>& error);

}  // namespace ocipack::cli
