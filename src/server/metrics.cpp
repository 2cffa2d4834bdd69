#include "server/metrics.h"

#include <cstdio>

#include "core/memory.h"

namespace mediadex::server {
namespace {

// Label values escape \, " and newline (the exposition format's rules).
std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

// Seconds per batch: a CPU batch of 64 takes seconds, a GPU one milliseconds.
const std::vector<double> Metrics::kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

void Metrics::CountRequest(const std::string& route, int code) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_[{route, code}]++;
}

void Metrics::AddIndexed(const std::string& device, int64_t files) {
  std::lock_guard<std::mutex> lock(mu_);
  indexed_[device] += files;
}

void Metrics::AddIndexErrors(int64_t files) {
  std::lock_guard<std::mutex> lock(mu_);
  errors_ += files;
}

void Metrics::ObserveInference(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < kBounds.size(); ++i)
    if (seconds <= kBounds[i]) buckets_[i]++;
  inference_count_++;
  inference_sum_ += seconds;
}

void Metrics::SetQueueDepth(int64_t files) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_depth_ = files;
}

std::string Metrics::Render(const std::string& version) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP mediadex_build_info mediadex build; the value is always 1.\n# TYPE mediadex_build_info gauge\n";
  out += "mediadex_build_info{version=\"" + LabelValue(version) + "\"} 1\n";
  out +=
      "# HELP mediadex_images_indexed_total Files analysed by index runs of this server.\n"
      "# TYPE mediadex_images_indexed_total counter\n";
  if (indexed_.empty()) out += "mediadex_images_indexed_total{device=\"none\"} 0\n";
  for (const auto& [device, n] : indexed_)
    out += "mediadex_images_indexed_total{device=\"" + LabelValue(device) + "\"} " + std::to_string(n) + "\n";
  out +=
      "# HELP mediadex_index_errors_total Files that failed in index runs of this server.\n"
      "# TYPE mediadex_index_errors_total counter\nmediadex_index_errors_total " +
      std::to_string(errors_) + "\n";
  out += "# HELP mediadex_inference_seconds Inference time per batch.\n# TYPE mediadex_inference_seconds histogram\n";
  for (size_t i = 0; i < kBounds.size(); ++i)
    out += "mediadex_inference_seconds_bucket{le=\"" + Number(kBounds[i]) + "\"} " + std::to_string(buckets_[i]) + "\n";
  out += "mediadex_inference_seconds_bucket{le=\"+Inf\"} " + std::to_string(inference_count_) + "\n";
  out += "mediadex_inference_seconds_sum " + Number(inference_sum_) + "\n";
  out += "mediadex_inference_seconds_count " + std::to_string(inference_count_) + "\n";
  out +=
      "# HELP mediadex_index_queue_depth Files waiting in the current index run.\n"
      "# TYPE mediadex_index_queue_depth gauge\nmediadex_index_queue_depth " +
      std::to_string(queue_depth_) + "\n";
  out +=
      "# HELP mediadex_http_requests_total HTTP requests by route template and status code.\n"
      "# TYPE mediadex_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "mediadex_http_requests_total{route=\"" + LabelValue(key.first) + "\",code=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
      "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes " +
      std::to_string(CurrentRssBytes()) + "\n";
  return out;
}

}  // namespace mediadex::server
