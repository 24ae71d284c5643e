// pack_rootfs ROOTFS LAYOUT TAG: the smallest packaging tool built on the
// ocipack library — one call to build_image() with the options a tool would
// set itself (every core, a fixed creation time, a Cmd, a label), then the
// digests printed, warnings passed on, and errors reported as the library
// words them (one line naming the culprit). It is the example the README
// points to, and test_library.sh builds it against an installed ocipack.
#include <cstdio>
#include <thread>

#include "pipeline/image_builder.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: pack_rootfs ROOTFS LAYOUT TAG\n");
    return 2;
  }
  ocipack::BuildOptions options;
  options.layers.push_back({argv[1], std::nullopt});
  options.layout_dir = argv[2];
  options.image.tag = argv[3];
  options.image.created = 1700000000;
  options.image.cmd = std::vector<std::string>{"/bin/sh"};
  options.image.labels["org.example.packed-by"] = "pack_rootfs";
  options.layer.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  auto result = ocipack::build_image(options);
  if (!result) {
    std::fprintf(stderr, "pack_rootfs: %s\n", result.error().message.c_str());
    return 1;
  }
  for (const auto& warning : result->warnings) std::fprintf(stderr, "pack_rootfs: warning: %s\n", warning.c_str());
  std::printf("manifest %s\n", result->manifest.digest.str().c_str());
  for (const auto& layer : result->layers)
    std::printf("layer %s %lld\n", layer.descriptor.digest.str().c_str(), static_cast<long long>(layer.descriptor.size));
  return 0;
}
