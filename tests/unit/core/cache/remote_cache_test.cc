// Tests for core/cache/remote_cache.cc: the checks of `--cache-remote`'s URL
// (field "cache.remote"), and what GET and PUT make of every kind of answer.
// A remote is a helper, never a dependency, so every answer that is not a
// clean 200/404 (refused, timed out, an HTTP error, a redirect, an entry too
// large) must come back as `failed` with one line naming the method, the URL
// and the cause — never as a hit. The answers come from a scripted HTTP/1.1
// server on 127.0.0.1 in a thread of the test (one canned answer per
// request), which also records what the client sent: the method, the path,
// the body, the headers and how many connections it used (keep-alive).
#include "core/cache/remote_cache.h"
#include "core/cache/cache_entry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ocipack {
namespace {

struct CannedAnswer {
  std::string head;          // status line and headers, without the blank line
  std::string body;
  bool never_answer = false;  // keep the client waiting (timeouts)
  bool close_silently = false;  // close the connection after answering, without saying so
};

CannedAnswer answer(int status, std::string body = "", std::string extra_headers = "") {
  CannedAnswer canned;
  canned.head = "HTTP/1.1 " + std::to_string(status) + " Status\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n" + extra_headers;
  canned.body = std::move(body);
  return canned;
}

struct SeenRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// A one-thread HTTP/1.1 server on 127.0.0.1:<free port> answering requests
// in order from a script; a request beyond the script gets a 500.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<CannedAnswer> script) : m_script(script.begin(), script.end()) {
    m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(m_listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(m_listener, 8) != 0 || ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("scripted server: cannot listen on 127.0.0.1");
    m_port = ntohs(address.sin_port);
    m_thread = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    m_stop = true;
    m_thread.join();
    ::close(m_listener);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::vector<SeenRequest> requests() {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }
  int connections() const { return m_connections; }

 private:
  // Waits up to 20 ms for `fd` to be readable; false when stopping.
  bool readable(int fd) {
    while (!m_stop) {
      pollfd waiting{fd, POLLIN, 0};
      if (::poll(&waiting, 1, 20) > 0) return true;
    }
    return false;
  }
  void serve() {
    while (readable(m_listener)) {
      const int connection = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) continue;
      ++m_connections;
      converse(connection);
      ::close(connection);
    }
  }
  // Answers requests on one connection until the client closes it.
  void converse(int connection) {
    std::string pending;
    while (auto request = read_request(connection, pending)) {
      CannedAnswer canned = answer(500, "script exhausted");
      {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(*request);
        if (!m_script.empty()) {
          canned = m_script.front();
          m_script.pop_front();
        }
      }
      if (canned.never_answer) {
        char sink[4096];
        while (readable(connection) && ::recv(connection, sink, sizeof sink, 0) > 0) {
        }
        return;  // the client gave up and closed

      }
      const std::string reply = canned.head + "\r\n" + canned.body;
      if (::send(connection, reply.data(), reply.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(reply.size())) return;
      if (canned.close_silently) return;
    }
  }
  bool fill(int connection, std::string& pending) {
    char buffer[65536];
    if (!readable(connection)) return false;
    const ssize_t got = ::recv(connection, buffer, sizeof buffer, 0);
    if (got <= 0) return false;
    pending.append(buffer, static_cast<size_t>(got));
    return true;
  }
  std::optional<SeenRequest> read_request(int connection, std::string& pending) {
    size_t end;
    while ((end = pending.find("\r\n\r\n")) == std::string::npos)
      if (!fill(connection, pending)) return std::nullopt;
    SeenRequest request;
    const std::string head = pending.substr(0, end);
    pending.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    request.method = request_line.substr(0, request_line.find(' '));
    request.target = request_line.substr(request.method.size() + 1, request_line.rfind(' ') - request.method.size() - 1);
    while (line_end != std::string::npos) {
      const size_t next = head.find("\r\n", line_end + 2);
      const std::string line = head.substr(line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = colon == std::string::npos ? "" : line.substr(line.find_first_not_of(' ', colon + 1));
      line_end = next;
    }
    const size_t length = request.headers.count("content-length") ? std::stoul(request.headers["content-length"]) : 0;
    while (pending.size() < length)
      if (!fill(connection, pending)) return std::nullopt;
    request.body = pending.substr(0, length);
    pending.erase(0, length);
    return request;
  }

  int m_listener = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  std::mutex m_mutex;
  std::deque<CannedAnswer> m_script;
  std::vector<SeenRequest> m_requests;
  std::thread m_thread;
};

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

std::unique_ptr<RemoteCache> open_remote(const std::string& url, long transfer_timeout_ms = 5000) {
  RemoteCacheOptions options;
  options.url = url;
  options.transfer_timeout_ms = transfer_timeout_ms;
  auto remote = RemoteCache::open(options);
  EXPECT_TRUE(remote.ok()) << remote.error().message;
  return remote.ok() ? std::move(remote).value() : nullptr;
}

std::vector<std::byte> bytes_of(std::string_view text) {
  const auto* first = reinterpret_cast<const std::byte*>(text.data());
  return {first, first + text.size()};
}

std::string text_of(const std::vector<std::byte>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
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

TEST(RemoteCache, GetTellsHitMissAndFailureAndFollowsNoRedirect) {
  constexpr char k_entry[] = "entry\0with\xff binary bytes";
  const std::string entry(k_entry, sizeof k_entry - 1);
  ScriptedServer server({answer(200, entry), answer(404, "<html>not found</html>"), answer(500, "oops"),
                         answer(301, "", "Location: /elsewhere\r\n"), answer(403, "no"), answer(200, "again")});
  auto remote = open_remote(server.url() + "/base//");
  ASSERT_TRUE(remote);
  std::vector<std::byte> body;
  EXPECT_EQ(remote->get(k_path, body).outcome, RemoteOutcome::hit);
  EXPECT_EQ(text_of(body), entry);
  EXPECT_EQ(remote->get(k_path, body).outcome, RemoteOutcome::miss);
  EXPECT_TRUE(body.empty());
  const std::string shown = "GET " + server.url() + "/base/" + k_path + ": ";
  expect_one_line_problem(remote->get(k_path, body), shown, "HTTP 500");
  EXPECT_TRUE(body.empty());
  expect_one_line_problem(remote->get(k_path, body), shown, "HTTP 301");
  expect_one_line_problem(remote->get(k_path, body), shown, "HTTP 403");
  EXPECT_EQ(remote->get(k_path, body).outcome, RemoteOutcome::hit);
  EXPECT_EQ(text_of(body), "again");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 6u);  // the redirect was not followed
  for (const auto& request : requests) {
    EXPECT_EQ(request.method, "GET");
    EXPECT_EQ(request.target, "/base/" + k_path);
  }
  EXPECT_EQ(server.connections(), 1);  // one kept-alive connection
}

TEST(RemoteCache, PutSendsTheBodyWithItsLength) {
  std::string entry(300000, 'x');  // above libcurl's 100-continue threshold
  entry[7] = '\0';
  ScriptedServer server({answer(201), answer(204), answer(200), answer(403, "forbidden"), answer(405)});
  auto remote = open_remote(server.url());
  ASSERT_TRUE(remote);
  EXPECT_EQ(remote->put(k_path, bytes_of(entry)).outcome, RemoteOutcome::hit);
  EXPECT_EQ(remote->put(k_path, bytes_of("b")).outcome, RemoteOutcome::hit);
  EXPECT_EQ(remote->put(k_path, bytes_of("")).outcome, RemoteOutcome::hit);
  const std::string shown = "PUT " + server.url() + "/" + k_path + ": ";
  expect_one_line_problem(remote->put(k_path, bytes_of("c")), shown, "HTTP 403");
  expect_one_line_problem(remote->put(k_path, bytes_of("d")), shown, "HTTP 405");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/" + k_path);
  EXPECT_EQ(requests[0].headers.at("content-length"), "300000");
  EXPECT_EQ(requests[0].body, entry);
  EXPECT_EQ(requests[0].headers.count("expect"), 0u);
  EXPECT_EQ(requests[1].body, "b");
  EXPECT_EQ(requests[2].headers.at("content-length"), "0");
  EXPECT_EQ(server.connections(), 1);
}

TEST(RemoteCache, GetAfterPutIsAGetAgain) {
  ScriptedServer server({answer(201), answer(200, "entry"), answer(201)});
  auto remote = open_remote(server.url());
  ASSERT_TRUE(remote);
  std::vector<std::byte> body;
  EXPECT_EQ(remote->put(k_path, bytes_of("sent")).outcome, RemoteOutcome::hit);
  EXPECT_EQ(remote->get(k_path, body).outcome, RemoteOutcome::hit);
  EXPECT_EQ(remote->put(k_path, bytes_of("sent again")).outcome, RemoteOutcome::hit);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].body, "");
  EXPECT_EQ(requests[2].method, "PUT");
  EXPECT_EQ(requests[2].body, "sent again");
}

TEST(RemoteCache, PutIsResentWhenTheKeptConnectionWasClosed) {
  CannedAnswer closing = answer(201);
  closing.close_silently = true;
  ScriptedServer server({closing, answer(201)});
  auto remote = open_remote(server.url());
  ASSERT_TRUE(remote);
  EXPECT_EQ(remote->put(k_path, bytes_of("first")).outcome, RemoteOutcome::hit);
  const RemoteReply second = remote->put(k_path, bytes_of("second entry"));
  EXPECT_EQ(second.outcome, RemoteOutcome::hit) << second.problem;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].body, "second entry");
  EXPECT_EQ(server.connections(), 2);
}

TEST(RemoteCache, RefusesAnEntryAboveTheLimit) {
  CannedAnswer huge;
  huge.head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(k_max_cache_entry_bytes + 1) + "\r\n";
  huge.close_silently = true;
  ScriptedServer server({huge});
  auto remote = open_remote(server.url());
  ASSERT_TRUE(remote);
  std::vector<std::byte> body;
  expect_one_line_problem(remote->get(k_path, body), "GET " + server.url() + "/" + k_path + ": ", "too large");
  EXPECT_TRUE(body.empty());
}

TEST(RemoteCache, ASilentServerTimesOut) {
  CannedAnswer silent;
  silent.never_answer = true;
  ScriptedServer server({silent});
  auto remote = open_remote(server.url(), 300);
  ASSERT_TRUE(remote);
  std::vector<std::byte> body;
  expect_one_line_problem(remote->get(k_path, body), "GET " + server.url() + "/" + k_path + ": ", "timed out");
}

TEST(RemoteCache, IgnoresProxiesFromTheEnvironment) {
  const std::string proxy = "http://127.0.0.1:" + std::to_string(refused_port());
  ScriptedServer server({answer(200, "direct")});
  for (const char* name : {"http_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) ::setenv(name, proxy.c_str(), 1);
  auto remote = open_remote(server.url());
  std::vector<std::byte> body;
  const RemoteReply reply = remote ? remote->get(k_path, body) : RemoteReply{};
  for (const char* name : {"http_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) ::unsetenv(name);
  EXPECT_EQ(reply.outcome, RemoteOutcome::hit) << reply.problem;
  EXPECT_EQ(text_of(body), "direct");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/" + k_path);  // a proxy would see the absolute URL
}

TEST(RemoteCache, ProblemLinesDoNotShowCredentials) {
  ScriptedServer server({answer(401, "who are you")});
  const std::string with_credentials = "http://builder:s3cret@127.0.0.1:" + server.url().substr(17);
  auto remote = open_remote(with_credentials);
  ASSERT_TRUE(remote);
  std::vector<std::byte> body;
  const RemoteReply reply = remote->get(k_path, body);
  expect_one_line_problem(reply, "GET " + server.url() + "/" + k_path + ": ", "HTTP 401");
  EXPECT_EQ(reply.problem.find("s3cret"), std::string::npos) << reply.problem;
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].headers.count("authorization"), 1u);  // sent to the server, not shown
}

}  // namespace
}  // namespace ocipack
