// The libpq wrapper (catalog/postgres/pg_connection.h) against the fixture's real server.
#include "catalog/postgres/pg_connection.h"

#include <gtest/gtest.h>

#include "pg_test_util.h"
#include "testutil.h"

namespace mediadex::catalog::postgres {
namespace {

class PgConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(pgtest::FreshDatabase("conn", &url_));
    auto conn = Connection::Connect(url_);
    ASSERT_OK(conn);
    conn_ = std::move(conn).value();
  }
  std::string url_;
  std::unique_ptr<Connection> conn_;
};

TEST(PgUrlTest, PasswordsNeverReachMessages) {
  EXPECT_EQ(RedactUrl("postgresql://bob:s3cret@db:5432/lib"), "postgresql://bob:***@db:5432/lib");
  EXPECT_EQ(RedactUrl("postgres://db/lib?user=bob&password=s3cret&sslmode=require"),
            "postgres://db/lib?user=bob&password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("postgresql://bob@db/lib"), "postgresql://bob@db/lib");
  auto refused = Connection::Connect("postgresql://bob:s3cret@127.0.0.1:1/lib?connect_timeout=2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kIOError);
  EXPECT_EQ(refused.status().message().find("s3cret"), std::string::npos) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("bob:***@127.0.0.1"), std::string::npos) << refused.status().ToString();
}

TEST_F(PgConnectionTest, ParamsBytesAndRealsRoundTrip) {
  ASSERT_OK(conn_->Exec("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, b BYTEA, x DOUBLE PRECISION, s TEXT)"));
  const std::string bytes("\xff\x00\n\t\\a\xc3", 7);
  auto ins = conn_->Query("INSERT INTO t (b, x, s) VALUES ($1, $2, $3) RETURNING id",
                          {Param::Bytes(bytes), Param::Real(0.1f), Param::Null()});
  ASSERT_OK(ins);
  auto rows = conn_->Query("SELECT b, x, s IS NULL FROM t WHERE id = $1", {Param::Int(ins->Int(0, 0))});
  ASSERT_OK(rows);
  ASSERT_EQ(rows->rows(), 1);
  EXPECT_EQ(rows->Bytes(0, 0), bytes);
  EXPECT_EQ(rows->Real(0, 1), static_cast<double>(0.1f));
  EXPECT_EQ(rows->Text(0, 2), "t");
}

TEST_F(PgConnectionTest, CopyInEscapesEverything) {
  ASSERT_OK(conn_->Exec("CREATE TABLE t (b BYTEA, s TEXT, x DOUBLE PRECISION)"));
  std::string data;
  for (int i = 0; i < 1000; ++i) {
    AppendCopyBytes(&data, std::string("\xfe\\\t", 3) + std::to_string(i));
    data += '\t';
    AppendCopyText(&data, "tab\there\\n\nline");
    data += '\t';
    AppendCopyReal(&data, i / 3.0);
    data += '\n';
  }
  auto copied = conn_->CopyIn("COPY t (b, s, x) FROM STDIN", data);
  ASSERT_OK(copied);
  EXPECT_EQ(*copied, 1000);
  auto rows = conn_->Query("SELECT b, s, x FROM t WHERE x = $1", {Param::Real(7 / 3.0)});
  ASSERT_OK(rows);
  ASSERT_EQ(rows->rows(), 1);
  EXPECT_EQ(rows->Bytes(0, 0), std::string("\xfe\\\t", 3) + "7");
  EXPECT_EQ(rows->Text(0, 1), "tab\there\\n\nline");
  // A bad row fails the whole COPY, and the connection stays usable.
  EXPECT_FALSE(conn_->CopyIn("COPY t (b, s, x) FROM STDIN", "\\\\x00\tok\tnot-a-number\n").ok());
  EXPECT_EQ(*conn_->QueryInt("SELECT COUNT(*) FROM t"), 1000);
}

TEST_F(PgConnectionTest, ErrorsKeepTheirSqlStateAndCode) {
  ASSERT_OK(conn_->Exec("CREATE TABLE u (k TEXT PRIMARY KEY)"));
  ASSERT_OK(conn_->Query("INSERT INTO u VALUES ($1)", {Param::Text("a")}));
  auto dup = conn_->Query("INSERT INTO u VALUES ($1)", {Param::Text("a")});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(conn_->last_sqlstate(), "23505");
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dup.status().message().find("SQLSTATE 23505"), std::string::npos) << dup.status().ToString();
  auto bad = conn_->Exec("SELEC 1");
  EXPECT_EQ(conn_->last_sqlstate(), "42601");
  EXPECT_TRUE(IsRetryableSqlState("40001"));
  EXPECT_TRUE(IsRetryableSqlState("40P01"));
  EXPECT_FALSE(IsRetryableSqlState("23505"));
}

TEST_F(PgConnectionTest, TransactionRollsBackUnlessCommitted) {
  ASSERT_OK(conn_->Exec("CREATE TABLE t (v INT)"));
  {
    Transaction tx(*conn_);
    ASSERT_OK(tx.Begin());
    ASSERT_OK(conn_->Exec("INSERT INTO t VALUES (1)"));
  }
  EXPECT_EQ(*conn_->QueryInt("SELECT COUNT(*) FROM t"), 0);
  {
    Transaction tx(*conn_);
    ASSERT_OK(tx.Begin());
    ASSERT_OK(conn_->Exec("INSERT INTO t VALUES (1)"));
    EXPECT_FALSE(conn_->Exec("INSERT INTO t VALUES ('x')").ok());
    EXPECT_FALSE(tx.Commit().ok()) << "an aborted transaction must not report success";
  }
  EXPECT_FALSE(conn_->in_transaction());
  {
    Transaction tx(*conn_);
    ASSERT_OK(tx.Begin());
    ASSERT_OK(conn_->Exec("INSERT INTO t VALUES (2)"));
    ASSERT_OK(tx.Commit());
  }
  EXPECT_EQ(*conn_->QueryInt("SELECT COUNT(*) FROM t"), 1);
}

TEST_F(PgConnectionTest, AdvisoryLocksExcludeOtherSessions) {
  auto other = Connection::Connect(url_);
  ASSERT_OK(other);
  ASSERT_OK(conn_->AdvisoryLock(7, 1));
  EXPECT_FALSE(*(*other)->TryAdvisoryLock(7, 1));
  EXPECT_TRUE(*(*other)->TryAdvisoryLock(7, 2)) << "another key is another lock";
  ASSERT_OK(conn_->AdvisoryUnlock(7, 1));
  EXPECT_TRUE(*(*other)->TryAdvisoryLock(7, 1));
  conn_.reset();  // dropping a session drops its locks
}

TEST_F(PgConnectionTest, ALostConnectionIsAnIoErrorAndRollsBack) {
  ASSERT_OK(conn_->Exec("CREATE TABLE t (v INT)"));
  auto pid = conn_->QueryInt("SELECT pg_backend_pid()");
  ASSERT_OK(pid);
  auto killer = Connection::Connect(url_);
  ASSERT_OK(killer);
  {
    Transaction tx(*conn_);
    ASSERT_OK(tx.Begin());
    ASSERT_OK(conn_->Exec("INSERT INTO t VALUES (1)"));
    ASSERT_OK((*killer)->Query("SELECT pg_terminate_backend($1)", {Param::Int(*pid)}));
    Status lost = conn_->Exec("INSERT INTO t VALUES (2)");
    EXPECT_EQ(lost.code(), StatusCode::kIOError) << lost.ToString();
    EXPECT_NE(lost.message().find("lost the connection"), std::string::npos) << lost.ToString();
    EXPECT_FALSE(conn_->alive());
    EXPECT_FALSE(tx.Commit().ok());
  }
  EXPECT_EQ(*(*killer)->QueryInt("SELECT COUNT(*) FROM t"), 0) << "the server rolled the transaction back";
}

}  // namespace
}  // namespace mediadex::catalog::postgres
