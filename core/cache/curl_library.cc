// load_curl_library (see curl_library.h): dlopen, dlsym of each function,
// curl_global_init; the outcome is kept for the rest of the process.
#include "core/cache/curl_library.h"

#include <dlfcn.h>

namespace ocipack {

namespace {

constexpr const char* k_curl_soname = "libcurl.so.4";

template <typename Function>
bool find(void* library, const char* name, Function& slot) {
  slot = reinterpret_cast<Function>(::dlsym(library, name));
  return slot != nullptr;
}

Result<CurlLibrary> open_curl_library() {
  const auto unusable = [](const std::string& why) {
    return field_error(ErrorKind::io, "cache.remote", ": a remote cache needs libcurl (" + why + ")");
  };
  void* library = ::dlopen(k_curl_soname, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = ::dlerror();
    return unusable(why != nullptr ? why : std::string(k_curl_soname) + " cannot be loaded");
  }
  // Never dlclose'd: handles and global state live until the process ends.
  CurlLibrary curl;
  const bool complete =
      find(library, "curl_global_init", curl.global_init) && find(library, "curl_easy_init", curl.easy_init) &&
      find(library, "curl_easy_setopt", curl.easy_setopt) && find(library, "curl_easy_getinfo", curl.easy_getinfo) &&
      find(library, "curl_easy_perform", curl.easy_perform) &&
      find(library, "curl_easy_cleanup", curl.easy_cleanup) &&
      find(library, "curl_easy_strerror", curl.easy_strerror) &&
      find(library, "curl_slist_append", curl.slist_append) &&
      find(library, "curl_slist_free_all", curl.slist_free_all) && find(library, "curl_url", curl.url) &&
      find(library, "curl_url_cleanup", curl.url_cleanup) && find(library, "curl_url_set", curl.url_set) &&
      find(library, "curl_url_get", curl.url_get) && find(library, "curl_url_strerror", curl.url_strerror) &&
      find(library, "curl_free", curl.free);
  if (!complete) return unusable(std::string(k_curl_soname) + " lacks a function ocipack calls; 7.80 or newer is needed");
  if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return unusable("curl_global_init failed");
  return curl;
}

}  // namespace

Result<const CurlLibrary*> load_curl_library() {
  static const Result<CurlLibrary> loaded = open_curl_library();
  if (!loaded.ok()) return loaded.error();
  return &*loaded;
}

}  // namespace ocipack
