// What the command line makes of a library Error. The library names the
// option field at fault ("tar_output", "layers[2].diff_base", "codec.level");
// the user typed a flag, so messages show the flag instead ("--tar-output",
// "--diff-base", "--level") through one table of field → flag. The exit
// status comes from the error's kind, never from its text: usage → 2,
// interrupted → 130 (128 + the signal when the front end knows it), every
// other kind → 1.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/util/result.h"

namespace ocipack::cli {

inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_usage = 2;
inline constexpr int k_exit_interrupted = 130;  // SIGINT; SIGTERM gives 143

// The status of a command stopped by `signal_number` (128 + it, as shells
// report a process killed by that signal: 130 for SIGINT, 143 for SIGTERM).
int exit_status_after_signal(int signal_number);

// The flag (or, for the rootfs, the word "rootfs") the user knows the option
// field `field` by; an index such as [2] in `field` may be any number.
// nullopt for a field the table does not know.
std::optional<std::string_view> flag_for_field(std::string_view field);

// The error's message with its field shown as the flag (unchanged when the
// error names no field, or one the table does not know). `command` names a
// subcommand whose words for some fields differ from build's: "add-layer"
// (its image is IMAGE, not --base or -o; its directory is DIR).
std::string message_for_user(const Error& error, std::string_view command = {});

// The exit status for a command that failed with `error`.
int exit_status(const Error& error);

// An error found while reading the command line: a usage error, whatever kind
// the library validator that refused the value gives (the same check on
// stored data is an input error), with the field already shown as the flag.
Error command_line_error(const Error& error);

}  // namespace ocipack::cli
