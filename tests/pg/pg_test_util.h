// For tests that need the PostgreSQL server of tests/pg/pg_fixture.sh (see tests/pg/README.md):
// the server's URL, and a fresh database per test so tests stay independent.
//
//   std::string url;
//   ASSERT_OK(pgtest::FreshDatabase("queue_claims", &url));   // postgresql://.../mdx_queue_claims_...
//   auto catalog = catalog::OpenCatalog(url);
//
// Without the server (the test was run outside `ctest -L pg` and MEDIADEX_TEST_PG_URL is unset)
// these return an error that says so: the test FAILS with that reason, it never skips.
#ifndef MEDIADEX_TESTS_PG_PG_TEST_UTIL_H_
#define MEDIADEX_TESTS_PG_PG_TEST_UTIL_H_

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>

#include "catalog/postgres/pg_connection.h"
#include "core/status.h"

namespace mediadex::pgtest {

// The fixture server's URL (its `postgres` database): $MEDIADEX_TEST_PG_URL, else the file
// named by $MEDIADEX_TEST_PG_URL_FILE (CTest sets it for tests with FIXTURES_REQUIRED pg_server).
inline Result<std::string> ServerUrl() {
  if (const char* url = std::getenv("MEDIADEX_TEST_PG_URL"); url && *url) return std::string(url);
  const char* file = std::getenv("MEDIADEX_TEST_PG_URL_FILE");
  if (!file || !*file) {
    return NotFound(
        "no PostgreSQL test server: set MEDIADEX_TEST_PG_URL, or run the test through "
        "`ctest -L pg` (its fixture tests/pg/pg_fixture.sh starts one)");
  }
  std::ifstream in(file);
  std::string url;
  if (!in || !std::getline(in, url) || url.empty()) {
    return NotFound(std::string(file) +
                    ": no PostgreSQL test server URL (did pg_server_start fail? "
                    "see its output in `ctest -L pg --output-on-failure`)");
  }
  return url;
}

// `server_url` with its database replaced by `db` (the URL has the form .../postgres).
inline std::string WithDatabase(const std::string& server_url, const std::string& db) {
  const size_t scheme = server_url.find("://");
  const size_t slash = server_url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const size_t query = server_url.find('?');
  std::string base = slash == std::string::npos ? server_url : server_url.substr(0, slash);
  std::string tail = query == std::string::npos ? "" : server_url.substr(query);
  return base + "/" + db + tail;
}

// Creates an empty database "mdx_<name>_<pid>_<n>" on the fixture server; *url names it.
inline Status FreshDatabase(const std::string& name, std::string* url) {
  auto server = ServerUrl();
  if (!server.ok()) return server.status();
  static std::atomic<int> counter{0};
  std::string db = "mdx_";
  for (char c : name) db += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  db = db.substr(0, 40) + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  auto conn = catalog::postgres::Connection::Connect(*server, "mediadex-test");
  if (!conn.ok()) return conn.status();
  MDX_RETURN_IF_ERROR((*conn)->Exec("DROP DATABASE IF EXISTS " + db));
  MDX_RETURN_IF_ERROR((*conn)->Exec("CREATE DATABASE " + db));
  *url = WithDatabase(*server, db);
  return Status::Ok();
}

}  // namespace mediadex::pgtest

#endif  // MEDIADEX_TESTS_PG_PG_TEST_UTIL_H_
