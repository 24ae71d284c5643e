// Micro-benchmarks of the pipeline's stage bodies on seeded, realistic data
// (text-like and binary-like mixes, so ratios resemble a rootfs): per-chunk
// gzip compression by level and chunk size, and SHA-256 throughput. Each
// reports bytes/s and, for compression, the compressed/uncompressed ratio.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/codec.h"
#include "core/sha256.h"

namespace {

// Half text drawn from a small vocabulary, half binary with repeats: roughly
// what /usr looks like to a compressor (ratio ~0.35-0.45 at level 6).
std::vector<std::byte> realistic_data(size_t size, uint32_t seed = 12345) {
  std::mt19937 rng(seed);
  static const char* words[] = {"the ", "lib", "usr/", "share", "config", "=", "\n", "int ",
                                "return ", "0x", "error", "file", "/etc/", "value", "  ", "{"};
  std::vector<std::byte> out;
  out.reserve(size);
  while (out.size() < size) {
    if ((out.size() / 4096) % 2 == 0) {
      const char* w = words[rng() % 16];
      for (const char* p = w; *p && out.size() < size; ++p) out.push_back(static_cast<std::byte>(*p));
    } else {
      uint32_t v = static_cast<uint32_t>(rng());
      size_t run = 1 + (v >> 28);
      std::byte b = static_cast<std::byte>(v & 0x3f);
      for (size_t i = 0; i < run && out.size() < size; ++i) out.push_back(b);
    }
  }
  return out;
}

void BM_CompressChunk(benchmark::State& state) {
  const int level = static_cast<int>(state.range(0));
  const size_t chunk = static_cast<size_t>(state.range(1));
  auto input = realistic_data(chunk);
  auto compressor = ocipack::make_compressor({ocipack::CodecKind::libdeflate, level});
  std::vector<std::byte> output((*compressor)->bound(chunk));
  size_t compressed = 0;
  for (auto _ : state) {
    auto n = (*compressor)->compress_member(input, output);
    compressed = *n;
    benchmark::DoNotOptimize(output.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk));
  state.counters["ratio"] = static_cast<double>(compressed) / static_cast<double>(chunk);
}
BENCHMARK(BM_CompressChunk)
    ->ArgsProduct({{1, 6, 9, 12}, {256 << 10, 1 << 20, 8 << 20}})
    ->ArgNames({"level", "chunk"})
    ->Unit(benchmark::kMillisecond);

void BM_Sha256(benchmark::State& state) {
  auto input = realistic_data(static_cast<size_t>(state.range(0)));
  ocipack::Sha256 hash;
  for (auto _ : state) {
    hash.update(input);
    benchmark::DoNotOptimize(hash.finish());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_Sha256)->Arg(1 << 20)->Arg(8 << 20);

}  // namespace
