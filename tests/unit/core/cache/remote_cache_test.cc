// Tests for core/cache/remote_cache.cc that need no server: the checks of
// `--cache-remote`'s URL (field "cache.remote"), and a connection refused on
// a closed port of 127.0.0.1 — the one failure a unit test can cause without
// a server. It must come back as `failed` with one line naming the method,
// the URL (never its credentials) and the cause, and it must be the direct
// connection that failed, not a proxy from the environment. What GET and PUT
// make of real answers (hit, miss, HTTP errors, a redirect, a read-only
// mirror, an entry too large, a silent server, keep-alive, the PUT body,
// credentials in the URL) is tested against Debian's nginx in
// tests/integration/test_cache_remote.sh.
#include "core/cache/remote_cache.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ocipack {
namespace {

// A port on 127.0.0.1 that was just free: bound, then closed (nobody listens).
int refused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::unique_ptr<RemoteCache> open_remote(const std::string& url) {
  RemoteCacheOptions options;
  options.url = url;
  auto remote = RemoteCache::open(options);
  EXPECT_TRUE(remote.ok()) << remote.error().message;
  return remote.ok() ? std::move(remote).value() : nullptr;
}

std::vector<std::byte> bytes_of(std::string_view text) {
  const auto* first = reinterpret_cast<const std::byte*>(text.data());
  return {first, first + text.size()};
}

void expect_one_line_problem(const RemoteReply& reply, const std::string& starts_with, const std::string& cause) {
  EXPECT_EQ(reply.outcome, RemoteOutcome::failed);
  EXPECT_EQ(reply.problem.rfind(starts_with, 0), 0u) << reply.problem;
  EXPECT_NE(reply.problem.find(cause), std::string::npos) << reply.problem;
  EXPECT_EQ(reply.problem.find('\n'), std::string::npos) << reply.problem;
}

const std::string k_path = "chunks/ab/abcdef";

TEST(RemoteCacheUrl, AcceptsHttpAndHttpsLocations) {
  for (const char* url : {"http://127.0.0.1:8080", "http://127.0.0.1:8080/", "https://cache.example/ocipack/",
                          "HTTP://Cache.Example:443/a/b", "http://user:secret@cache.example/x", "http://[::1]:80/c"}) {
    auto checked = check_remote_cache_url(url);
    EXPECT_TRUE(checked.ok()) << url << ": " << checked.error().message;
  }
}

TEST(RemoteCacheUrl, RefusesOtherSchemesMissingHostsQueriesAndFragments) {
  for (const char* url : {"", "ftp://127.0.0.1/x", "file:///tmp/cache", "127.0.0.1:8080", "cache.example/x",
                          "http://", "http:///x", "http://127.0.0.1:1/x?y", "http://h/x?", "http://h/x#part",
                          "http://h x/", "http://h:99999/", "gopher://h/"}) {
    auto checked = check_remote_cache_url(url);
    ASSERT_FALSE(checked.ok()) << "accepted: '" << url << "'";
    EXPECT_EQ(checked.error().kind, ErrorKind::usage) << url;
    EXPECT_EQ(checked.error().field(), "cache.remote") << url;
    EXPECT_EQ(checked.error().message.rfind("cache.remote '" + std::string(url) + "'", 0), 0u)
        << checked.error().message;
    RemoteCacheOptions options;
    options.url = url;
    auto opened = RemoteCache::open(options);
    ASSERT_FALSE(opened.ok()) << url;
    EXPECT_EQ(opened.error().field(), "cache.remote");
  }
}

TEST(RemoteCache, RefusedConnectionFailsWithOneLineNamingMethodAndUrl) {
  const std::string base = "http://127.0.0.1:" + std::to_string(refused_port());
  auto remote = open_remote(base + "/store/");
  ASSERT_TRUE(remote);
  std::vector<std::byte> body = bytes_of("left over");
  const RemoteReply got = remote->get(k_path, body);
  expect_one_line_problem(got, "GET " + base + "/store/" + k_path + ": ", "onnect");
  EXPECT_TRUE(body.empty());
  const RemoteReply put = remote->put(k_path, bytes_of("entry"));
  expect_one_line_problem(put, "PUT " + base + "/store/" + k_path + ": ", "onnect");
}

TEST(RemoteCache, ProblemLinesOfARefusedConnectionDoNotShowCredentials) {
  const std::string port = std::to_string(refused_port());
  auto remote = open_remote("http://builder:s3cret@127.0.0.1:" + port + "/store");
  ASSERT_TRUE(remote);
  std::vector<std::byte> body;
  const std::string shown = "http://127.0.0.1:" + port + "/store/" + k_path + ": ";
  const RemoteReply got = remote->get(k_path, body);
  expect_one_line_problem(got, "GET " + shown, "onnect");
  const RemoteReply put = remote->put(k_path, bytes_of("entry"));
  expect_one_line_problem(put, "PUT " + shown, "onnect");
  for (const RemoteReply& reply : {got, put}) {
    EXPECT_EQ(reply.problem.find("s3cret"), std::string::npos) << reply.problem;
    EXPECT_EQ(reply.problem.find("builder"), std::string::npos) << reply.problem;
  }
}

// With every proxy variable naming another closed port, the failure is
// still the direct connection's: the problem names the cache's port, never
// the proxy's, and says nothing of a proxy.
TEST(RemoteCache, IgnoresProxiesFromTheEnvironment) {
  const std::string cache_port = std::to_string(refused_port());
  std::string proxy_port = std::to_string(refused_port());
  while (proxy_port == cache_port) proxy_port = std::to_string(refused_port());
  const std::string proxy = "http://127.0.0.1:" + proxy_port;
  const char* const names[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
  for (const char* name : names) ::setenv(name, proxy.c_str(), 1);
  auto remote = open_remote("http://127.0.0.1:" + cache_port);
  std::vector<std::byte> body;
  const RemoteReply got = remote ? remote->get(k_path, body) : RemoteReply{};
  const RemoteReply put = remote ? remote->put(k_path, bytes_of("entry")) : RemoteReply{};
  for (const char* name : names) ::unsetenv(name);
  for (const RemoteReply& reply : {got, put}) {
    EXPECT_EQ(reply.outcome, RemoteOutcome::failed);
    EXPECT_NE(reply.problem.find(": Failed to connect to 127.0.0.1 port " + cache_port), std::string::npos)
        << reply.problem;
    EXPECT_EQ(reply.problem.find("port " + proxy_port), std::string::npos) << reply.problem;
    EXPECT_EQ(reply.problem.find("roxy"), std::string::npos) << reply.problem;
  }
}

}  // namespace
}  // namespace ocipack
