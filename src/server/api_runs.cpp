// /api/runs, /api/runs/current, /api/runs/current/cancel and the event stream /api/events.
#include "server/api.h"
#include "server/json_text.h"

namespace mediadex::server {

void RegisterRunRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/api/runs", [&ctx](const Request&, const Params&, Reply reply) {
    Status started = ctx.runs->Start();
    if (!started.ok()) return reply(StatusResponse(started));
    reply(JsonResponse(202, ctx.runs->State()));
  });
  router.Add(
      "GET", "/api/runs/current",
      [&ctx](const Request&, const Params&, Reply reply) { reply(JsonResponse(200, ctx.runs->State())); },
      /*on_io=*/true);
  router.Add(
      "POST", "/api/runs/current/cancel",
      [&ctx](const Request&, const Params&, Reply reply) {
        Status cancelled = ctx.runs->Cancel();
        if (!cancelled.ok()) return reply(ErrorResponse(409, cancelled.message()));
        reply(JsonResponse(202, ctx.runs->State()));
      },
      /*on_io=*/true);

  // The stream costs a socket, not a thread: the sink lives in the event hub until the client goes.
  router.Add(
      "GET", "/api/events",
      [&ctx](const Request&, const Params&, Reply reply) {
        Response r;
        r.event_stream = true;
        r.Set("Content-Type", "text/event-stream; charset=utf-8");
        r.Set("Cache-Control", "no-store");
        r.Set("X-Accel-Buffering", "no");
        r.body = "retry: 3000\n\n" + EventHub::Format("hello", Dump(ctx.runs->State()));
        EventHub* hub = ctx.hub;
        r.on_open = [hub](std::shared_ptr<StreamSink> sink) { hub->Add(std::move(sink)); };
        reply(std::move(r));
      },
      /*on_io=*/true);
}

}  // namespace mediadex::server
