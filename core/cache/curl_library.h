// libcurl, opened with dlopen when a remote cache is first named instead of
// linked: a linked libcurl makes every ocipack start map and relocate it and
// the ~35 libraries it needs (TLS, HTTP/2, LDAP, Kerberos, SSH, IDN, ...),
// 8 ms of each command on the project's 2-core machine (20 ms instead of
// 12 ms for `ocipack --version`), for a feature most builds never use. The
// declarations still come from libcurl's -dev package; the functions are
// looked up by name once per process (libcurl.so.4: its SONAME since 2006).
#pragma once

#include <curl/curl.h>

#include "core/util/result.h"

namespace ocipack {

// The libcurl functions ocipack calls, with the types of curl.h.
struct CurlLibrary {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
  decltype(&::curl_url) url = nullptr;
  decltype(&::curl_url_cleanup) url_cleanup = nullptr;
  decltype(&::curl_url_set) url_set = nullptr;
  decltype(&::curl_url_get) url_get = nullptr;
  decltype(&::curl_url_strerror) url_strerror = nullptr;
  decltype(&::curl_free) free = nullptr;
};

// libcurl loaded and initialised (curl_global_init) once per process. An io
// error naming the field cache.remote when it cannot be: not installed, or
// a library without one of the functions above.
Result<const CurlLibrary*> load_curl_library();

}  // namespace ocipack
