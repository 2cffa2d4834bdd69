// The server's small parts: token comparison, safe static paths, routing, resizing, metrics.
#include <gtest/gtest.h>

#include "server/auth.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/static_assets.h"
#include "server/thumbnails.h"

namespace mediadex::server {
namespace {

TEST(Auth, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secreT", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret1", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", ""));
}

TEST(Auth, BearerOrCookie) {
  Auth auth("t0k");
  Request req;
  EXPECT_FALSE(auth.Allowed(req));
  req.headers["authorization"] = "Bearer t0k";
  EXPECT_TRUE(auth.Allowed(req));
  req.headers["authorization"] = "Bearer wrong";
  EXPECT_FALSE(auth.Allowed(req));
  req.headers.erase("authorization");
  req.headers["cookie"] = "a=b; mediadex_token=t0k";
  EXPECT_TRUE(auth.Allowed(req));
  req.headers["cookie"] = "mediadex_token=t0";
  EXPECT_FALSE(auth.Allowed(req));
  EXPECT_TRUE(Auth("").Allowed(Request{}));
}

TEST(Auth, CookieLoginRedirects) {
  Auth auth("t0k");
  Request req;
  req.method = "GET";
  req.path = "/";
  req.query["token"] = "t0k";
  Response r;
  ASSERT_TRUE(auth.CookieLogin(req, &r));
  EXPECT_EQ(r.status, 303);
  bool cookie = false;
  for (auto& [k, v] : r.headers)
    cookie |=
        k == "Set-Cookie" && v.find("HttpOnly") != std::string::npos && v.find("SameSite=Strict") != std::string::npos;
  EXPECT_TRUE(cookie);
  req.query["token"] = "nope";
  EXPECT_FALSE(auth.CookieLogin(req, &r));
}

TEST(Auth, Loopback) {
  EXPECT_TRUE(IsLoopback("127.0.0.1"));
  EXPECT_TRUE(IsLoopback("::1"));
  EXPECT_FALSE(IsLoopback("0.0.0.0"));
  EXPECT_FALSE(IsLoopback("192.168.1.2"));
}

TEST(StaticAssets, SafeRelativePath) {
  EXPECT_EQ(SafeRelativePath("/"), "index.html");
  EXPECT_EQ(SafeRelativePath("/js/app.js"), "js/app.js");
  EXPECT_EQ(SafeRelativePath("/js/"), "js/index.html");
  EXPECT_EQ(SafeRelativePath("/../etc/passwd"), "");
  EXPECT_EQ(SafeRelativePath("/js/../../x"), "");
  EXPECT_EQ(SafeRelativePath("//etc/passwd"), "");
  EXPECT_EQ(SafeRelativePath("/.git/config"), "");
  EXPECT_EQ(SafeRelativePath("/a\\..\\b"), "");
}

TEST(Router, TemplatesAndMethods) {
  Router router;
  int hit = 0;
  router.Add("GET", "/api/media/{id}", [&](const Request&, const Params& p, Reply) { hit = std::stoi(p[0]); });
  auto m = router.Find("GET", "/api/media/42");
  ASSERT_NE(m.fn, nullptr);
  EXPECT_EQ(m.pattern, "/api/media/{id}");
  (*m.fn)(Request{}, m.params, nullptr);
  EXPECT_EQ(hit, 42);
  EXPECT_TRUE(router.Find("POST", "/api/media/42").wrong_method);
  EXPECT_EQ(router.Find("GET", "/api/media/").fn, nullptr);
  EXPECT_EQ(router.Find("GET", "/api/media/1/x").fn, nullptr);
}

TEST(Thumbnails, ResizeAveragesAreas) {
  std::vector<uint8_t> src(4 * 2 * 3);
  for (int x = 0; x < 4; ++x)
    for (int y = 0; y < 2; ++y) src[(y * 4 + x) * 3] = x < 2 ? 0 : 200;
  auto out = ResizeRgb(src.data(), 4, 2, 2, 1);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[3], 200);
  EXPECT_NE(FindThumbSize("grid"), nullptr);
  EXPECT_EQ(FindThumbSize("grid")->longest_side, 250);
  EXPECT_EQ(FindThumbSize("preview")->longest_side, 1440);
  EXPECT_EQ(FindThumbSize("../x"), nullptr);
}

TEST(Metrics, TextFormat) {
  Metrics m;
  m.CountRequest("/api/media/{id}", 200);
  m.AddIndexed("cuda:0", 5);
  m.ObserveInference(0.3);
  const std::string text = m.Render("1.2.3");
  EXPECT_NE(text.find("mediadex_http_requests_total{route=\"/api/media/{id}\",code=\"200\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("mediadex_images_indexed_total{device=\"cuda:0\"} 5\n"), std::string::npos);
  EXPECT_NE(text.find("mediadex_inference_seconds_bucket{le=\"0.5\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("mediadex_inference_seconds_bucket{le=\"0.25\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("mediadex_build_info{version=\"1.2.3\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace mediadex::server
