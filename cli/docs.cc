// man_page, bash_completion and zsh_completion (see docs.h): walks of the
// CommandDoc tree, escaping text for roff and for shell single quotes.
#include "cli/docs.h"

#include <algorithm>
#include <cctype>

namespace ocipack::cli {

namespace {

// Text as roff shows it: backslashes escaped, '-' as \- (so options can be
// searched and copied), a leading '.' or '\'' kept from being a request.
std::string roff(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  std::string lines;
  size_t start = 0;
  while (start <= out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(start, end - start);
    if (!line.empty() && (line[0] == '.' || line[0] == '\'')) line = "\\&" + line;
    lines += line + (end < out.size() ? "\n" : "");
    start = end + 1;
  }
  return lines;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string joined(const std::vector<std::string>& words, const std::string& separator) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : separator) + word;
  return out;
}

// Trimmed, blank-line-free footer text, as paragraphs.
std::string footer_text(const std::string& footer) {
  std::string out;
  for (size_t start = 0; start < footer.size();) {
    size_t end = footer.find('\n', start);
    if (end == std::string::npos) end = footer.size();
    const std::string line = footer.substr(start, end - start);
    out += line.empty() ? ".PP\n" : roff(line) + "\n";
    start = end + 1;
  }
  return out;
}

// The SYNOPSIS and OPTIONS of one command (`path` is "ocipack cache prune").
std::string command_section(const CommandDoc& command, const std::string& path) {
  std::string out = ".SH SYNOPSIS\n.B " + roff(path) + "\n";
  for (const auto& positional : command.positionals) out += ".I " + roff(positional.value) + "\n";
  if (!command.options.empty()) out += "[\\fIOPTIONS\\fR]\n";
  out += ".SH DESCRIPTION\n" + roff(command.description) + ".\n";
  if (!command.positionals.empty() || !command.options.empty()) out += ".SH OPTIONS\n";
  for (const auto& positional : command.positionals)
    out += ".TP\n.I " + roff(positional.value) + "\n" + roff(positional.description) + "\n";
  for (const auto& option : command.options) {
    out += ".TP\n.B " + roff(joined(option.names, ", "));
    if (!option.value.empty()) out += " \\fI" + roff(option.value) + "\\fR";
    out += "\n" + roff(option.description);
    if (!option.default_value.empty()) out += " (default: " + roff(option.default_value) + ")";
    out += "\n";
  }
  return out;
}

const CommandDoc* find_command(const CommandDoc& program, const std::string& name) {
  for (const auto& sub : program.subcommands)
    if (sub.name == name) return &sub;
  return nullptr;
}

std::string see_also(const CommandDoc& program, const std::string& except) {
  std::vector<std::string> pages;
  if (!except.empty()) pages.push_back(".BR ocipack (1)");
  for (const auto& name : man_page_commands(program))
    if (name != except) pages.push_back(".BR ocipack\\-" + name + " (1)");
  std::string out = ".SH SEE ALSO\n";
  for (size_t i = 0; i < pages.size(); ++i) out += pages[i] + (i + 1 < pages.size() ? " ,\n" : "\n");
  return out;
}

// Words of a shell single-quoted string ("it's" → 'it'\''s').
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> option_names(const CommandDoc& command, bool with_value) {
  std::vector<std::string> names;
  for (const auto& option : command.options)
    if (!with_value || !option.value.empty())
      for (const auto& name : option.names) names.push_back(name);
  return names;
}

// One bash `case` arm: the flags of `command` and those taking a value.
std::string bash_arm(const CommandDoc& command) {
  std::string out = "    " + command.name + ")\n";
  if (!command.subcommands.empty()) {
    std::vector<std::string> names;
    for (const auto& sub : command.subcommands) names.push_back(sub.name);
    out += "      if [[ -z $sub ]]; then COMPREPLY=($(compgen -W " + quoted(joined(names, " ")) +
           " -- \"$cur\")); return; fi\n      case $sub in\n";
    for (const auto& sub : command.subcommands) {
      out += "        " + sub.name + ") opts=" + quoted(joined(option_names(sub, false), " ")) +
             "; valued=" + quoted(joined(option_names(sub, true), " ")) + " ;;\n";
    }
    return out + "      esac ;;\n";
  }
  out += "      opts=" + quoted(joined(option_names(command, false), " ")) + "\n";
  out += "      valued=" + quoted(joined(option_names(command, true), " ")) + " ;;\n";
  return out;
}

// zsh _arguments text: ':' and brackets escaped, single quotes as '\''.
std::string zsh_description(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_arguments(const CommandDoc& command) {
  std::string out = "_arguments -s";
  for (const auto& option : command.options)
    for (const auto& name : option.names) {
      std::string spec = name + "[" + zsh_description(option.description) + "]";
      if (!option.value.empty()) spec += ":" + zsh_description(option.value) + ":_files";
      out += " \\\n        " + quoted(spec);
    }
  out += " \\\n        " + quoted("*:file:_files");
  return out;
}

}  // namespace

std::vector<std::string> man_page_commands(const CommandDoc& program) {
  std::vector<std::string> names;
  for (const auto& sub : program.subcommands)
    if (sub.name != "help" && sub.name != "version") names.push_back(sub.name);
  return names;
}

std::string man_page(const CommandDoc& program, const std::string& command, const std::string& version) {
  const CommandDoc* doc = command.empty() ? &program : find_command(program, command);
  if (doc == nullptr) return {};
  const std::string page = command.empty() ? "ocipack" : "ocipack-" + command;
  std::string summary = doc->description;  // the program's reads "ocipack: turn ..."
  if (summary.rfind(page + ": ", 0) == 0) summary.erase(0, page.size() + 2);
  std::string out = ".\\\" Generated by ocipack_docgen from the option tables of cli/options.cc; do not edit.\n";
  out += ".TH " + roff(upper(page)) + " 1 \"\" \"ocipack " + roff(version) + "\" \"User Commands\"\n";
  out += ".SH NAME\n" + roff(page) + " \\- " + roff(summary) + "\n";
  if (command.empty()) {
    out += ".SH SYNOPSIS\n.B ocipack\n.I COMMAND\n[\\fIOPTIONS\\fR]\n.SH DESCRIPTION\nocipack: " + roff(summary) +
           ".\nEach command has its own page, listed below.\n.SH COMMANDS\n";
    for (const auto& sub : program.subcommands)
      out += ".TP\n.B " + roff(sub.name) + "\n" + roff(sub.description) + "\n";
    out += ".SH OPTIONS\n";
    for (const auto& option : program.options)
      out += ".TP\n.B " + roff(joined(option.names, ", ")) + "\n" + roff(option.description) + "\n";
  } else if (doc->subcommands.empty()) {
    out += command_section(*doc, "ocipack " + command);
  } else {
    out += ".SH DESCRIPTION\n" + roff(doc->description) + ".\n";
    for (const auto& sub : doc->subcommands) out += command_section(sub, "ocipack " + command + " " + sub.name);
  }
  out += ".SH NOTES\n" + footer_text(doc->footer);
  return out + see_also(program, command);
}

std::string bash_completion(const CommandDoc& program) {
  std::vector<std::string> commands;
  for (const auto& sub : program.subcommands) commands.push_back(sub.name);
  std::string out =
      "# bash completion for ocipack, generated from its option tables (ocipack completion bash).\n"
      "_ocipack() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      "  local cmd='' sub='' opts='' valued='' i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    case ${COMP_WORDS[i]} in\n"
      "      -*) ;;\n"
      "      *) if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}; elif [[ $cmd == cache && -z $sub ]]; then sub=${COMP_WORDS[i]}; fi ;;\n"
      "    esac\n"
      "  done\n"
      "  if [[ -z $cmd ]]; then\n"
      "    COMPREPLY=($(compgen -W " + quoted(joined(commands, " ") + " " + joined(option_names(program, false), " ")) +
      " -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  case $cmd in\n";
  for (const auto& sub : program.subcommands)
    if (sub.name != "help" && sub.name != "completion") out += bash_arm(sub);
  out +=
      "    help) COMPREPLY=($(compgen -W " + quoted(joined(commands, " ")) + " -- \"$cur\")); return ;;\n"
      "    completion) COMPREPLY=($(compgen -W 'bash zsh' -- \"$cur\")); return ;;\n"
      "  esac\n"
      "  if [[ -n $prev && \" $valued \" == *\" $prev \"* ]]; then\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  elif [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -d -- \"$cur\") $(compgen -f -X '!*.tar' -- \"$cur\"))\n"
      "  fi\n"
      "}\n"
      "complete -F _ocipack ocipack\n";
  return out;
}

std::string zsh_completion(const CommandDoc& program) {
  std::string out =
      "#compdef ocipack\n"
      "# zsh completion for ocipack, generated from its option tables (ocipack completion zsh).\n"
      "_ocipack() {\n"
      "  local -a commands\n"
      "  commands=(\n";
  for (const auto& sub : program.subcommands)
    out += "    " + quoted(sub.name + ":" + zsh_description(sub.description)) + "\n";
  out +=
      "  )\n"
      "  if (( CURRENT == 2 )); then\n"
      "    _describe 'command' commands\n"
      "    return\n"
      "  fi\n"
      "  local command=$words[2]\n"
      "  shift words\n"
      "  (( CURRENT-- ))\n"
      "  case $command in\n";
  for (const auto& sub : program.subcommands) {
    if (!sub.subcommands.empty()) {
      std::vector<std::string> names;
      for (const auto& inner : sub.subcommands) names.push_back(inner.name);
      out += "    " + sub.name + ")\n      if (( CURRENT == 2 )); then _values 'command' " + joined(names, " ") +
             "; return; fi\n      case $words[2] in\n";
      for (const auto& inner : sub.subcommands)
        out += "        " + inner.name + ") " + zsh_arguments(inner) + " ;;\n";
      out += "      esac ;;\n";
      continue;
    }
    out += "    " + sub.name + ") " + zsh_arguments(sub) + " ;;\n";
  }
  out +=
      "  esac\n"
      "}\n"
      "_ocipack \"$@\"\n";
  return out;
}

}  // namespace ocipack::cli
