// Documentation generated from the option tables (options.h's program_doc),
// so that no flag is documented twice: the man pages (`ocipack(1)`, one
// `ocipack-CMD(1)` per subcommand, written at build time by ocipack_docgen
// and installed into share/man/man1) and the bash and zsh completion
// scripts (installed too, and printed by `ocipack completion bash|zsh`).
// Pure text functions; the output depends only on the tables and the version.
#pragma once
#include <string>
#include <vector>

#include "cli/options.h"

namespace ocipack::cli {

// The subcommands that get a page of their own (all but help and version).
std::vector<std::string> man_page_commands(const CommandDoc& program);

// ocipack(1) when `command` is empty, else ocipack-COMMAND(1), in roff
// (man(7) macros), for `version` ("0.9.0").
std::string man_page(const CommandDoc& program, const std::string& command, const std::string& version);

// A bash completion script defining _ocipack (complete -F _ocipack ocipack):
// subcommands, each subcommand's flags, file names after flags that take a
// value, directories (layouts) and files for positional arguments.
std::string bash_completion(const CommandDoc& program);

// The same for zsh (#compdef ocipack), for share/zsh/site-functions/_ocipack.
std::string zsh_completion(const CommandDoc& program);

}  // namespace ocipack::cli
