// ocipack_docgen OUTDIR VERSION: writes the generated documentation of
// cli/docs.h — OUTDIR/man1/ocipack.1 and ocipack-CMD.1 for each subcommand,
// OUTDIR/completion/ocipack (bash) and OUTDIR/completion/_ocipack (zsh) —
// at build time, for `cmake --install` to copy into share/. Not installed.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli/docs.h"

namespace {

bool write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) std::fprintf(stderr, "ocipack_docgen: cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ocipack_docgen OUTDIR VERSION\n");
    return 2;
  }
  using namespace ocipack::cli;
  const std::filesystem::path dir = argv[1];
  const std::string version = argv[2];
  std::error_code error;
  std::filesystem::create_directories(dir / "man1", error);
  std::filesystem::create_directories(dir / "completion", error);
  const CommandDoc program = program_doc();
  bool ok = write_file(dir / "man1" / "ocipack.1", man_page(program, "", version));
  for (const auto& name : man_page_commands(program))
    ok = write_file(dir / "man1" / ("ocipack-" + name + ".1"), man_page(program, name, version)) && ok;
  ok = write_file(dir / "completion" / "ocipack", bash_completion(program)) && ok;
  ok = write_file(dir / "completion" / "_ocipack", zsh_completion(program)) && ok;
  return ok ? 0 : 1;
}
