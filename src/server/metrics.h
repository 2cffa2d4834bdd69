// Prometheus metrics (text format 0.0.4). Label values are route templates, devices and codes,
// never file paths.
#ifndef MEDIADEX_SERVER_METRICS_H_
#define MEDIADEX_SERVER_METRICS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mediadex::server {

class Metrics {
 public:
  void CountRequest(const std::string& route, int code);
  void AddIndexed(const std::string& device, int64_t files);
  void AddIndexErrors(int64_t files);
  void ObserveInference(double seconds);  // one batch
  void SetQueueDepth(int64_t files);
  std::string Render(const std::string& version);

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  std::map<std::string, int64_t> indexed_;
  int64_t errors_ = 0;
  int64_t queue_depth_ = 0;
  std::vector<int64_t> buckets_ = std::vector<int64_t>(kBounds.size(), 0);
  int64_t inference_count_ = 0;
  double inference_sum_ = 0;
  static const std::vector<double> kBounds;
};

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_METRICS_H_
