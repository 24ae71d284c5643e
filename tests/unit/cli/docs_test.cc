// Tests for cli/docs.cc: the man pages and completion scripts are generated
// from program_doc() (the parser's own tables), so every flag of every
// subcommand appears in its page (as a roff tag with \- for '-') and in the
// bash and zsh completions; roff requests in text are escaped; `ocipack
// completion SHELL` prints the same scripts. Installing and running them is
// test_docs_install.sh's.
#include "cli/docs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace ocipack::cli {
namespace {

std::string roff_name(const std::string& name) {
  std::string out;
  for (char c : name) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

TEST(Docs, EveryFlagOfEverySubcommandIsInItsPageAndTheCompletions) {
  const CommandDoc program = program_doc();
  const std::string bash = bash_completion(program);
  const std::string zsh = zsh_completion(program);
  ASSERT_GE(program.subcommands.size(), 10u);
  for (const auto& name : man_page_commands(program)) {
    const std::string page = man_page(program, name, "9.9");
    EXPECT_NE(page.find(".TH OCIPACK\\-" + roff_name([&] {
                std::string upper;
                for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                return upper;
              }()) + " 1 \"\" \"ocipack 9.9\""),
              std::string::npos)
        << name;
    for (const auto& sub : program.subcommands) {
      if (sub.name != name) continue;
      std::vector<const CommandDoc*> commands{&sub};
      for (const auto& inner : sub.subcommands) commands.push_back(&inner);
      for (const CommandDoc* command : commands)
        for (const auto& option : command->options)
          for (const auto& flag : option.names) {
            EXPECT_NE(page.find(roff_name(flag)), std::string::npos) << name << " " << flag;
            EXPECT_NE(bash.find(" " + flag), std::string::npos) << name << " " << flag;
            EXPECT_NE(zsh.find("'" + flag + "["), std::string::npos) << name << " " << flag;
          }
    }
  }
}

TEST(Docs, TheProgramPageListsEverySubcommandAndNoHelpOrVersionPage) {
  const CommandDoc program = program_doc();
  const std::string page = man_page(program, "", "1.0");
  for (const auto& sub : program.subcommands) EXPECT_NE(page.find(".B " + roff_name(sub.name) + "\n"), std::string::npos) << sub.name;
  const auto names = man_page_commands(program);
  EXPECT_EQ(std::count(names.begin(), names.end(), "help"), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), "version"), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), "ls"), 1);
  EXPECT_TRUE(man_page(program, "no-such-command", "1.0").empty());
}

TEST(Docs, RoffRequestsInTextAreEscaped) {
  CommandDoc program;
  program.name = "ocipack";
  CommandDoc sub;
  sub.name = "x";
  sub.description = "Back\\slash";
  sub.footer = "\n.rm everything\n'also a request";
  program.subcommands.push_back(sub);
  const std::string page = man_page(program, "x", "1");
  EXPECT_NE(page.find("Back\\eslash"), std::string::npos);
  EXPECT_NE(page.find("\\&.rm everything"), std::string::npos);
  EXPECT_NE(page.find("\\&'also a request"), std::string::npos);
  EXPECT_EQ(page.find("\n.rm"), std::string::npos);
}

TEST(Docs, CompletionCommandPrintsTheGeneratedScripts) {
  auto bash = parse_command_line({"completion", "bash"}, Environment{});
  ASSERT_TRUE(bash.ok());
  EXPECT_EQ(bash->action, CommandLine::Action::completion);
  EXPECT_EQ(bash->text, bash_completion(program_doc()));
  auto zsh = parse_command_line({"completion", "zsh"}, Environment{});
  ASSERT_TRUE(zsh.ok());
  EXPECT_EQ(zsh->text, zsh_completion(program_doc()));
  EXPECT_FALSE(parse_command_line({"completion", "fish"}, Environment{}).ok());
  EXPECT_FALSE(parse_command_line({"completion"}, Environment{}).ok());
}

}  // namespace
}  // namespace ocipack::cli
