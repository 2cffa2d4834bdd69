// The access token: with one configured, every request must carry it, as
// `Authorization: Bearer T` or the `mediadex_token` cookie (set by GET /?token=T). Compared in
// constant time. Without a token (loopback only) everything is allowed.
#ifndef MEDIADEX_SERVER_AUTH_H_
#define MEDIADEX_SERVER_AUTH_H_

#include <string>

#include "server/http_types.h"

namespace mediadex::server {

bool ConstantTimeEquals(const std::string& a, const std::string& b);

class Auth {
 public:
  explicit Auth(std::string token) : token_(std::move(token)) {}
  bool enabled() const { return !token_.empty(); }
  bool Allowed(const Request& req) const;
  // GET /?token=T with the right token: a 303 to / that sets the cookie. False otherwise.
  bool CookieLogin(const Request& req, Response* out) const;

 private:
  std::string token_;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopback(const std::string& address);

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_AUTH_H_
