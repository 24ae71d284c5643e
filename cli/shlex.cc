// POSIX-mode shlex.split(): whitespace separates words; '…' is literal;
// "…" allows \" and \\ (other backslashes stay); a bare backslash escapes the
// next character; quotes can join parts of one word ("a"'b'c → abc); an empty
// quoted string is an empty word. No comment handling (split() disables it).
#include "cli/shlex.h"

namespace ocipack::cli {

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
}  // namespace

Result<std::vector<std::string>> shlex_split(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // a word has started (it may still be empty: '')
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    char c = text[i];
    if (is_space(c)) {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      ++i;
    } else if (c == '\'') {
      in_word = true;
      size_t close = text.find('\'', i + 1);
      if (close == std::string_view::npos)
        return usage_error("cannot split '" + std::string(text) + "': No closing quotation");
      word.append(text.substr(i + 1, close - i - 1));
      i = close + 1;
    } else if (c == '"') {
      in_word = true;
      ++i;
      bool closed = false;
      while (i < n) {
        char d = text[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 == n)
          return usage_error("cannot split '" + std::string(text) + "': No escaped character");
        if (d == '\\' && (text[i + 1] == '"' || text[i + 1] == '\\')) {
          word.push_back(text[i + 1]);
          i += 2;
          continue;
        }
        word.push_back(d);
        ++i;
      }
      if (!closed) return usage_error("cannot split '" + std::string(text) + "': No closing quotation");
    } else if (c == '\\') {
      in_word = true;
      if (i + 1 >= n)
        return usage_error("cannot split '" + std::string(text) + "': No escaped character");
      word.push_back(text[i + 1]);
      i += 2;
    } else {
      in_word = true;
      word.push_back(c);
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace ocipack::cli
