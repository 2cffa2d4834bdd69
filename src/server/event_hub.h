// Fans Server-Sent Events out to every open /api/events stream. Streams are held weakly: a
// client that left is dropped at the next event or heartbeat.
#ifndef MEDIADEX_SERVER_EVENT_HUB_H_
#define MEDIADEX_SERVER_EVENT_HUB_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/http_types.h"

namespace mediadex::server {

class EventHub {
 public:
  void Add(std::shared_ptr<StreamSink> sink);
  void Publish(const std::string& event, const std::string& json);
  void Ping();  // the ": ping" comment, every 15 s
  size_t size();

  // "event: NAME\ndata: JSON\n\n" (JSON is one line: nlohmann's dump without indent).
  static std::string Format(const std::string& event, const std::string& json);

 private:
  void Broadcast(const std::string& text);
  std::mutex mu_;
  std::vector<std::weak_ptr<StreamSink>> sinks_;
};

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_EVENT_HUB_H_
