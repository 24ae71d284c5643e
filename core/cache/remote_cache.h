// RemoteCache: the shared HTTP store behind `--cache-remote URL` (issue 15),
// the way Yocto's sstate mirrors and ccache's remote storage work: entries
// (cache_entry.h, the same bytes as on disk) at URL/chunks/ab/<hex>, read
// with GET, written with PUT (a WebDAV server such as nginx with
// dav_methods PUT). A remote is a helper, never a dependency: every
// failure (refused, timed out, an HTTP error, a body that is not the entry)
// is an outcome the caller handles by compressing, never a build error.
//
// libcurl; one RemoteCache per worker thread (a CURL easy handle is not
// thread-safe), each keeping its connection alive between requests.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace ocipack {

struct RemoteCacheOptions {
  std::string url;                  // http://host[:port][/path], no trailing '/' needed
  long connect_timeout_ms = 2000;   // per connection attempt
  long transfer_timeout_ms = 15000; // per request, whole
};

// Checks a remote URL: http:// or https:// with a host, no query or
// fragment. Usage errors name the field "cache.remote".
Status check_remote_cache_url(const std::string& url);

enum class RemoteOutcome { hit, miss, failed };

struct RemoteReply {
  RemoteOutcome outcome = RemoteOutcome::failed;
  std::string problem;  // for failed: one line, e.g. "GET http://127.0.0.1:8080/chunks/ab/…: timed out"
};

class RemoteCache {
 public:
  static Result<std::unique_ptr<RemoteCache>> open(const RemoteCacheOptions& options);
  ~RemoteCache();
  RemoteCache(const RemoteCache&) = delete;
  RemoteCache& operator=(const RemoteCache&) = delete;

  // GET URL/<path> into `body`: hit (200, body ≤ k_max_cache_entry_bytes),
  // miss (404), failed (anything else).
  RemoteReply get(std::string_view path, std::vector<std::byte>& body);
  // PUT `body` to URL/<path>: hit on 200/201/204, failed otherwise.
  RemoteReply put(std::string_view path, std::span<const std::byte> body);

 private:
  struct Impl;
  explicit RemoteCache(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace ocipack
