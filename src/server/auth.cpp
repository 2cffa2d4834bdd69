#include "server/auth.h"

namespace mediadex::server {

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  // Walks the whole of `b` (the secret's length leaks, its bytes do not).
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    const unsigned char ca = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(ca ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

namespace {

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t pos = 0;
  while (pos < header.size()) {
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == ';')) ++pos;
    const size_t end = header.find(';', pos);
    const std::string part = header.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    const size_t eq = part.find('=');
    if (eq != std::string::npos && part.substr(0, eq) == name) return part.substr(eq + 1);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return "";
}

}  // namespace

bool Auth::Allowed(const Request& req) const {
  if (token_.empty()) return true;
  const std::string auth = req.Header("authorization");
  if (auth.rfind("Bearer ", 0) == 0 && ConstantTimeEquals(auth.substr(7), token_)) return true;
  const std::string cookie = CookieValue(req.Header("cookie"), "mediadex_token");
  return !cookie.empty() && ConstantTimeEquals(cookie, token_);
}

bool Auth::CookieLogin(const Request& req, Response* out) const {
  if (token_.empty() || req.method != "GET" || req.path != "/") return false;
  auto it = req.query.find("token");
  if (it == req.query.end() || !ConstantTimeEquals(it->second, token_)) return false;
  out->status = 303;
  out->Set("Location", "/");
  out->Set("Set-Cookie", "mediadex_token=" + token_ + "; Path=/; HttpOnly; SameSite=Strict");
  out->Set("Cache-Control", "no-store");
  out->route = "/";
  return true;
}

bool IsLoopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

}  // namespace mediadex::server
