// Micro-benchmarks of the pipeline on seeded, realistic data (text-like and
// binary-like mixes, so ratios resemble a rootfs): per-chunk compression for
// each backend (gzip members with libdeflate and ISA-L, zstd frames), level
// and chunk size; SHA-256; the tar producer (walk +
// headers + read() into chunk buffers) over a generated tree in the page
// cache; the whole layer pipeline for 1..cores threads (libdeflate 6, ISA-L
// 1, zstd 3 with its 8 MiB chunks); and a build of one
// big and one small layer at once, whose cores_busy counter (process CPU
// time / wall time) shows whether every core stays busy until the end.
// Each reports bytes/s; compression and the pipeline also report the
// compressed ratio.
// Run: ./build/bench/ocipack_bench  (OCIPACK_BENCH_TREE=DIR to use another tree)
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/codec/codec.h"
#include "core/layer/layer_format.h"
#include "core/util/unique_fd.h"
#include "core/util/sha256.h"
#include "pipeline/chunker.h"
#include "pipeline/layer_graph.h"

namespace {

// Half text drawn from a small vocabulary, half binary with repeats: roughly
// what /usr looks like to a compressor (ratio ~0.35-0.45 at level 6).
std::vector<std::byte> realistic_data(size_t size, int seed = 12345) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
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

void compress_chunk_bench(benchmark::State& state, ocipack::CodecKind kind,
                          ocipack::CompressedShape shape = ocipack::CompressedShape::gzip_member) {
  const int level = static_cast<int>(state.range(0));
  const size_t chunk = static_cast<size_t>(state.range(1));
  auto input = realistic_data(chunk);
  auto compressor = ocipack::make_compressor(kind, level, shape);
  std::vector<std::byte> output((*compressor)->bound(chunk));
  size_t compressed = 0;
  for (auto _ : state) {
    auto n = (*compressor)->compress(input, {}, output);
    compressed = *n;
    benchmark::DoNotOptimize(output.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk));
  state.counters["ratio"] = static_cast<double>(compressed) / static_cast<double>(chunk);
}
void BM_CompressLibdeflate(benchmark::State& state) {
  compress_chunk_bench(state, ocipack::CodecKind::libdeflate);
}
void BM_CompressIsal(benchmark::State& state) { compress_chunk_bench(state, ocipack::CodecKind::isal); }
void BM_CompressZstd(benchmark::State& state) {
  compress_chunk_bench(state, ocipack::CodecKind::zstd, ocipack::CompressedShape::zstd_frame);
}
BENCHMARK(BM_CompressZstd)
    ->ArgsProduct({{1, 3, 9, 19}, {256 << 10, 1 << 20, 8 << 20}})
    ->ArgNames({"level", "chunk"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompressLibdeflate)
    ->ArgsProduct({{1, 6, 9, 12}, {256 << 10, 1 << 20, 8 << 20}})
    ->ArgNames({"level", "chunk"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompressIsal)
    ->ArgsProduct({{0, 1, 2, 3}, {256 << 10, 1 << 20, 8 << 20}})
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

// A generated tree (~160 MiB: many small text files, some large binaries),
// made once per process under /tmp and read from the page cache.
const std::string& bench_tree() {
  static const std::string path = [] {
    if (const char* dir = std::getenv("OCIPACK_BENCH_TREE")) return std::string(dir);
    std::string root = "/tmp/ocipack-bench-tree";
    if (::access((root + "/.complete").c_str(), F_OK) == 0) return root;
    std::system(("rm -rf " + root + " && mkdir -p " + root).c_str());
    for (int d = 0; d < 40; ++d) {
      std::string dir = root + "/usr/share/d" + std::to_string(d);
      std::system(("mkdir -p " + dir).c_str());
      for (int f = 0; f < 100; ++f) {
        auto bytes = realistic_data(2000 + static_cast<size_t>((d * 100 + f) % 37) * 700, d * 100 + f);
        std::ofstream(dir + "/f" + std::to_string(f), std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      }
    }
    std::system(("mkdir -p " + root + "/usr/lib").c_str());
    for (int f = 0; f < 12; ++f) {
      auto bytes = realistic_data(12u << 20, 1000 + f);
      std::ofstream(root + "/usr/lib/big" + std::to_string(f), std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    std::ofstream(root + "/.complete") << "";
    return root;
  }();
  return path;
}

void BM_TarProducer(benchmark::State& state) {
  const std::string& root = bench_tree();
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto walker = ocipack::RootfsWalker::open(root, {});
    ocipack::ChunkingOptions options;
    ocipack::TarChunker chunker(std::make_unique<ocipack::RootfsWalker>(std::move(*walker)), options);
    ocipack::Chunk chunk;
    chunk.capacity = options.capacity();
    chunk.data = ocipack::LargeBuffer(chunk.capacity);
    while (*chunker.fill(chunk)) bytes += chunk.size;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_TarProducer)->Unit(benchmark::kMillisecond)->MinTime(1.0);

// A job that walks `root` into `blob`.
ocipack::LayerJob walk_job(const std::string& root, const ocipack::UniqueFd& blob) {
  return {[root]() -> ocipack::Result<std::unique_ptr<ocipack::EntrySource>> {
            OCIPACK_TRY_ASSIGN(auto walker, ocipack::RootfsWalker::open(root, {}));
            return std::unique_ptr<ocipack::EntrySource>(std::make_unique<ocipack::RootfsWalker>(std::move(walker)));
          },
          blob.get(), "/dev/null"};
}

// Runs the layer graph over `roots` (one layer each) into /dev/null.
std::vector<ocipack::LayerOutcome> run_layers(const std::vector<std::string>& roots,
                                              const ocipack::LayerPipelineOptions& options) {
  auto format = ocipack::resolve_layer_format(options.codec);
  ocipack::UniqueFd out(::open("/dev/null", O_WRONLY));
  std::vector<ocipack::LayerJob> jobs;
  for (const auto& root : roots) jobs.push_back(walk_job(root, out));
  auto outcomes = ocipack::run_layer_graph(**format, options, std::move(jobs));
  if (!outcomes) std::abort();
  return std::move(*outcomes);
}

void pipeline_bench(benchmark::State& state, ocipack::CodecOptions codec) {
  const std::string& root = bench_tree();
  ocipack::LayerPipelineOptions options;
  options.threads = static_cast<int>(state.range(0));
  options.codec = codec;
  options.chunking.target_size = ocipack::default_chunk_size(codec.compression);  // as the CLI does
  uint64_t bytes = 0, compressed = 0;
  for (auto _ : state) {
    auto outcomes = run_layers({root}, options);
    bytes += outcomes[0].result.uncompressed_size;
    compressed += outcomes[0].result.compressed_size;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["ratio"] = static_cast<double>(compressed) / static_cast<double>(bytes);
}
// CPU seconds this process has used, over all its threads.
double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The bench tree (~160 MiB) and one of its small directories as a second
// layer, built together with every core.
void BM_PipelineBigAndSmallLayers(benchmark::State& state) {
  const std::string& big = bench_tree();
  const std::string small = big + "/usr/share/d0";
  ocipack::LayerPipelineOptions options;
  options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  uint64_t bytes = 0;
  const double cpu_before = process_cpu_seconds();
  const auto wall_before = std::chrono::steady_clock::now();
  for (auto _ : state) {
    for (const auto& outcome : run_layers({big, small}, options)) bytes += outcome.result.uncompressed_size;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["cores_busy"] = wall > 0 ? (process_cpu_seconds() - cpu_before) / wall : 0;
  state.counters["threads"] = options.threads;
}
BENCHMARK(BM_PipelineBigAndSmallLayers)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PipelineLibdeflate6(benchmark::State& state) {
  pipeline_bench(state, {ocipack::CodecKind::libdeflate, 6, ocipack::GzipFormat::members, false});
}
void BM_PipelineIsal1(benchmark::State& state) {
  pipeline_bench(state, {ocipack::CodecKind::isal, 1, ocipack::GzipFormat::members, false});
}
void BM_PipelineZstd3(benchmark::State& state) {
  ocipack::CodecOptions zstd;
  zstd.compression = ocipack::LayerCompression::zstd;
  pipeline_bench(state, zstd);
}
BENCHMARK(BM_PipelineZstd3)
    ->DenseRange(1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())))
    ->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PipelineLibdeflate6)
    ->DenseRange(1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())))
    ->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PipelineIsal1)
    ->DenseRange(1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())))
    ->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
