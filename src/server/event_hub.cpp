#include "server/event_hub.h"

namespace mediadex::server {

std::string EventHub::Format(const std::string& event, const std::string& json) {
  return "event: " + event + "\ndata: " + json + "\n\n";
}

void EventHub::Add(std::shared_ptr<StreamSink> sink) {
  std::lock_guard<std::mutex> lock(mu_);
  sinks_.push_back(sink);
}

void EventHub::Publish(const std::string& event, const std::string& json) { Broadcast(Format(event, json)); }

void EventHub::Ping() { Broadcast(": ping\n\n"); }

size_t EventHub::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return sinks_.size();
}

void EventHub::Broadcast(const std::string& text) {
  std::vector<std::shared_ptr<StreamSink>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::weak_ptr<StreamSink>> kept;
    for (auto& weak : sinks_) {
      if (auto sink = weak.lock()) {
        live.push_back(sink);
        kept.push_back(weak);
      }
    }
    sinks_.swap(kept);
  }
  // Send() only queues (posted to the stream's own strand), so this never waits on a client.
  for (auto& sink : live) (void)sink->Send(text);
}

}  // namespace mediadex::server
