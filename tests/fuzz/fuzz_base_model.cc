// libFuzzer target for the base-image model (core/layer/base_model.cc): any
// byte string, read as a base layer (plain, gzip or zstd tar) and applied twice —
// once onto an empty model, once onto the result, so its whiteouts meet
// lower entries — must either be refused with an error or leave a model
// whose every path is relative, free of "." and "..", holds no whiteout name
// and sits below directories only; a parent no entry described is an implied
// directory that keeps no path. Crashes, leaks and sanitizer reports are the
// failures.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/layer/base_model.h"
#include "core/tar/tar_scan.h"

namespace {

void check_node(const ocipack::ModelNode& node, const std::string& parent) {
  for (const auto& [name, child] : node.children) {
    if (!node.is_directory()) std::abort();  // children below a non-directory
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.rfind(".wh.", 0) == 0)
      std::abort();
    const std::string path = parent + name;
    if (child->implied) {
      if (!child->is_directory() || !child->entry().path.empty()) std::abort();
    } else if (ocipack::normalize_tar_path(child->entry().path) != path) {
      std::abort();
    }
    check_node(*child, path + "/");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = ::memfd_create("ocipack-fuzz-layer", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (::write(fd, data, size) != static_cast<ssize_t>(size)) {
    ::close(fd);
    return 0;
  }
  ocipack::TreeModel model;
  for (int layer = 0; layer < 2; ++layer) {
    ::lseek(fd, 0, SEEK_SET);
    ocipack::Sha256 hash;
    if (!model.apply_layer(fd, "fuzz layer", nullptr, &hash).ok()) break;
    check_node(model.root(), "");
    for (const auto& [name, child] : model.root().children)
      if (!child->is_directory()) (void)model.link_group(*child);
  }
  ::close(fd);
  return 0;
}
