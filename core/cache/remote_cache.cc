// RemoteCache over libcurl (see remote_cache.h): one easy handle per
// object, set up once and reused, so consecutive requests share a kept-alive
// connection. Nothing implicit reaches the cache traffic: no proxy from the
// environment (CURLOPT_PROXY ""), no redirects, only http and https, no
// signals (CURLOPT_NOSIGNAL, the handle lives in worker threads). Every
// failure becomes a RemoteReply with a one-line problem naming the method,
// the URL (without credentials) and the cause; nothing throws or prints.
#include "core/cache/remote_cache.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "core/cache/cache_entry.h"
#include "core/cache/curl_library.h"

namespace ocipack {

namespace {

// The loaded libcurl. Every caller runs after load_curl_library succeeded:
// parse_remote_url, which check_remote_cache_url and RemoteCache::open
// start with, loads it or fails.
const CurlLibrary& curl() { return **load_curl_library(); }

struct UrlDeleter {
  void operator()(CURLU* url) const { curl().url_cleanup(url); }
};
using UniqueUrl = std::unique_ptr<CURLU, UrlDeleter>;

// One part of a parsed URL ("" when absent).
std::string url_part(CURLU* url, CURLUPart part) {
  char* text = nullptr;
  if (curl().url_get(url, part, &text, 0) != CURLUE_OK || text == nullptr) return {};
  std::string copy(text);
  curl().free(text);
  return copy;
}

Error url_error(const std::string& url, std::string_view what) {
  std::string rest = " '";
  rest.append(url).append("' ").append(what);
  return field_error(ErrorKind::usage, "cache.remote", rest);
}

bool starts_with_http_scheme(std::string_view url) {
  const auto has_prefix = [&](std::string_view prefix) {
    return url.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), url.begin(),
                      [](char a, char b) { return a == (b | 0x20); });
  };
  return has_prefix("http://") || has_prefix("https://");
}

// Parses and checks a remote URL (usage errors naming "cache.remote").
Result<UniqueUrl> parse_remote_url(const std::string& url) {
  if (!starts_with_http_scheme(url)) return url_error(url, "is not an http:// or https:// URL");
  OCIPACK_TRY(load_curl_library());
  UniqueUrl parsed(curl().url());
  if (!parsed) return url_error(url, "cannot be parsed (out of memory)");
  const CURLUcode code = curl().url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0);
  if (code != CURLUE_OK) return url_error(url, std::string("is not a valid URL: ") + curl().url_strerror(code));
  const bool slash_before_host = url[url.find("://") + 3] == '/';  // libcurl reads "http:///x" as host x
  if (slash_before_host || url_part(parsed.get(), CURLUPART_HOST).empty()) return url_error(url, "has no host");
  if (!url_part(parsed.get(), CURLUPART_QUERY).empty() || url.find('?') != std::string::npos)
    return url_error(url, "has a query ('?'); a cache URL is a plain location");
  if (!url_part(parsed.get(), CURLUPART_FRAGMENT).empty() || url.find('#') != std::string::npos)
    return url_error(url, "has a fragment ('#'); a cache URL is a plain location");
  return parsed;
}

std::string without_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The URL as shown in problem lines: without user and password.
std::string display_url(CURLU* parsed) {
  curl().url_set(parsed, CURLUPART_USER, nullptr, 0);
  curl().url_set(parsed, CURLUPART_PASSWORD, nullptr, 0);
  return without_trailing_slashes(url_part(parsed, CURLUPART_URL));
}

// The GET body: kept only for a 200 answer, refused above the entry limit.
struct Download {
  CURL* handle = nullptr;
  std::vector<std::byte>* body = nullptr;
  bool too_large = false;
  bool out_of_memory = false;
};

size_t receive_body(char* data, size_t size, size_t count, void* user) {
  auto& download = *static_cast<Download*>(user);
  const size_t bytes = size * count;
  long status = 0;
  curl().easy_getinfo(download.handle, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return bytes;  // an error page: not kept
  if (download.body->size() + bytes > k_max_cache_entry_bytes) {
    download.too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  if (download.body->empty()) {
    curl_off_t announced = -1;
    curl().easy_getinfo(download.handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
    if (announced > 0 && static_cast<uint64_t>(announced) <= k_max_cache_entry_bytes)
      download.body->reserve(static_cast<size_t>(announced));
  }
  const auto* first = reinterpret_cast<const std::byte*>(data);
  try {  // no exception may cross libcurl's C frames
    download.body->insert(download.body->end(), first, first + bytes);
  } catch (const std::bad_alloc&) {
    download.out_of_memory = true;
    return 0;
  }
  return bytes;
}

size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

// The PUT body, rewindable: libcurl rewinds when it resends the request on
// a fresh connection because the kept-alive one was closed.
struct Upload {
  std::span<const std::byte> body;
  size_t sent = 0;
};

size_t send_body(char* buffer, size_t size, size_t count, void* user) {
  auto& upload = *static_cast<Upload*>(user);
  const size_t bytes = std::min(size * count, upload.body.size() - upload.sent);
  std::memcpy(buffer, upload.body.data() + upload.sent, bytes);
  upload.sent += bytes;
  return bytes;
}

int rewind_body(void* user, curl_off_t offset, int origin) {
  auto& upload = *static_cast<Upload*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > upload.body.size())
    return CURL_SEEKFUNC_CANTSEEK;
  upload.sent = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// A problem line's cause: libcurl's detailed message on one line.
std::string transfer_cause(CURLcode code, const char* detail) {
  std::string cause = detail[0] != '\0' ? std::string(detail) : std::string(curl().easy_strerror(code));
  std::replace_if(cause.begin(), cause.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  while (!cause.empty() && cause.back() == ' ') cause.pop_back();
  return cause;
}

RemoteReply failed_reply(std::string_view method, const std::string& url, std::string_view cause) {
  RemoteReply reply;
  reply.outcome = RemoteOutcome::failed;
  reply.problem.append(method).append(" ").append(url).append(": ").append(cause);
  return reply;
}

RemoteReply reply_of(RemoteOutcome outcome) {
  RemoteReply reply;
  reply.outcome = outcome;
  return reply;
}

std::string http_status_cause(long status) {
  std::string cause = "HTTP " + std::to_string(status);
  if (status >= 300 && status < 400) cause += " (redirects are not followed)";
  return cause;
}

// What one request came to: a status when the exchange completed, else
// libcurl's cause.
struct Exchange {
  bool completed = false;
  long status = 0;
  CURLcode code = CURLE_OK;
  std::string cause;
  std::string url_shown;
};

std::string url_below(std::string_view base, std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string url(base);
  url.append("/").append(path);
  return url;
}

}  // namespace

Status check_remote_cache_url(const std::string& url) {
  OCIPACK_TRY(parse_remote_url(url));
  return ok_status();
}

struct RemoteCache::Impl {
  CURL* handle = nullptr;
  curl_slist* headers = nullptr;
  std::string base_url;   // without trailing '/'
  std::string shown_url;  // base_url without credentials, for problem lines
  char detail[CURL_ERROR_SIZE] = {};

  ~Impl() {
    if (handle != nullptr) curl().easy_cleanup(handle);
    curl().slist_free_all(headers);
  }

  // The options every request shares; false when libcurl refuses one.
  bool configure(const RemoteCacheOptions& options);
  // Runs the request prepared on `handle` against base/<path>.
  Exchange perform(std::string_view path);
};

bool RemoteCache::Impl::configure(const RemoteCacheOptions& options) {
  headers = curl().slist_append(nullptr, "Expect:");  // no 100-continue round trip before a PUT
  if (headers == nullptr) return false;
  bool ok = true;
  const auto set = [&](CURLoption option, auto value) { ok = ok && curl().easy_setopt(handle, option, value) == CURLE_OK; };
  set(CURLOPT_ERRORBUFFER, detail);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
  set(CURLOPT_TIMEOUT_MS, options.transfer_timeout_ms);
  set(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: the string forms
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  set(CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  set(CURLOPT_PROXY, "");  // never a proxy from http_proxy and friends
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(k_max_cache_entry_bytes));
  set(CURLOPT_HTTPHEADER, headers);
  set(CURLOPT_USERAGENT, "ocipack");
  set(CURLOPT_SEEKFUNCTION, rewind_body);
  return ok;
}

Exchange RemoteCache::Impl::perform(std::string_view path) {
  Exchange exchange;
  exchange.url_shown = url_below(shown_url, path);
  const std::string url = url_below(base_url, path);
  detail[0] = '\0';
  curl().easy_setopt(handle, CURLOPT_URL, url.c_str());
  exchange.code = curl().easy_perform(handle);
  exchange.completed = exchange.code == CURLE_OK;
  if (exchange.completed) curl().easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &exchange.status);
  else exchange.cause = transfer_cause(exchange.code, detail);
  return exchange;
}

RemoteCache::RemoteCache(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
RemoteCache::~RemoteCache() = default;

Result<std::unique_ptr<RemoteCache>> RemoteCache::open(const RemoteCacheOptions& options) {
  OCIPACK_TRY_ASSIGN(auto parsed, parse_remote_url(options.url));
  auto impl = std::make_unique<Impl>();
  impl->base_url = without_trailing_slashes(options.url);
  impl->shown_url = display_url(parsed.get());
  impl->handle = curl().easy_init();
  if (impl->handle == nullptr || !impl->configure(options))
    return field_error(ErrorKind::io, "cache.remote", ": libcurl could not set up a transfer");
  return std::unique_ptr<RemoteCache>(new RemoteCache(std::move(impl)));
}

RemoteReply RemoteCache::get(std::string_view path, std::vector<std::byte>& body) {
  body.clear();
  Download download{m_impl->handle, &body};
  CURL* handle = m_impl->handle;
  curl().easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  curl().easy_setopt(handle, CURLOPT_WRITEFUNCTION, receive_body);
  curl().easy_setopt(handle, CURLOPT_WRITEDATA, &download);
  const Exchange exchange = m_impl->perform(path);
  curl().easy_setopt(handle, CURLOPT_WRITEDATA, nullptr);
  RemoteReply reply = reply_of(RemoteOutcome::hit);
  if (download.too_large || exchange.code == CURLE_FILESIZE_EXCEEDED)
    reply = failed_reply("GET", exchange.url_shown,
                         "too large (more than " + std::to_string(k_max_cache_entry_bytes) + " bytes)");
  else if (download.out_of_memory) reply = failed_reply("GET", exchange.url_shown, "out of memory for the entry");
  else if (!exchange.completed) reply = failed_reply("GET", exchange.url_shown, exchange.cause);
  else if (exchange.status == 404) reply = reply_of(RemoteOutcome::miss);
  else if (exchange.status != 200) reply = failed_reply("GET", exchange.url_shown, http_status_cause(exchange.status));
  if (reply.outcome != RemoteOutcome::hit) body.clear();
  return reply;
}

RemoteReply RemoteCache::put(std::string_view path, std::span<const std::byte> body) {
  Upload upload{body, 0};
  CURL* handle = m_impl->handle;
  curl().easy_setopt(handle, CURLOPT_UPLOAD, 1L);
  curl().easy_setopt(handle, CURLOPT_READFUNCTION, send_body);
  curl().easy_setopt(handle, CURLOPT_READDATA, &upload);
  curl().easy_setopt(handle, CURLOPT_SEEKDATA, &upload);
  curl().easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl().easy_setopt(handle, CURLOPT_WRITEFUNCTION, discard_body);
  const Exchange exchange = m_impl->perform(path);
  curl().easy_setopt(handle, CURLOPT_READDATA, nullptr);
  curl().easy_setopt(handle, CURLOPT_SEEKDATA, nullptr);
  if (!exchange.completed) return failed_reply("PUT", exchange.url_shown, exchange.cause);
  const long status = exchange.status;
  if (status == 200 || status == 201 || status == 204) return reply_of(RemoteOutcome::hit);
  return failed_reply("PUT", exchange.url_shown, http_status_cause(status));
}

}  // namespace ocipack
