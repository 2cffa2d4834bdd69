#include "server/query_parser.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace mediadex::server {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

Result<int64_t> ParseDate(const std::string& text, const std::string& what) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || text[4] != '-' ||
      text[7] != '-') {
    return InvalidArgument(what + ": '" + text + "' is not a date (YYYY-MM-DD)");
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0)) {
    return InvalidArgument(what + ": '" + text + "' is not a calendar date");
  }
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * 86400;
}

Result<float> ParseScore(const std::string& text, const std::string& what) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end == text.c_str() || *end != '\0' || !std::isfinite(v) || v < 0 || v > 1) {
    return InvalidArgument(what + ": '" + text + "' is not a score between 0 and 1");
  }
  return static_cast<float>(v);
}

Status ParseSearchQuery(const std::string& q, catalog::MediaFilter* filter) {
  std::istringstream words(q);
  std::string word;
  while (words >> word) {
    const std::string lower = [&] {
      std::string s = word;
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    }();
    if (lower.rfind("score>=", 0) == 0 || lower.rfind("score>", 0) == 0) {
      const size_t skip = lower.rfind("score>=", 0) == 0 ? 7 : 6;
      auto score = ParseScore(word.substr(skip), "q: score");
      if (!score.ok()) return score.status();
      filter->min_score = std::max(filter->min_score, *score);
      continue;
    }
    const size_t colon = word.find(':');
    if (colon != std::string::npos) {
      const std::string key = lower.substr(0, colon), value = word.substr(colon + 1);
      if (value.empty()) return InvalidArgument("q: '" + word + "' has no value after ':'");
      if (key == "folder") {
        filter->folder = value;
      } else if (key == "after" || key == "before") {
        auto date = ParseDate(value, "q: " + key);
        if (!date.ok()) return date.status();
        if (key == "after")
          filter->after = *date;
        else
          filter->before = *date + 86400;  // the whole day
      } else if (key == "status") {
        if (value != "done" && value != "failed" && value != "pending") {
          return InvalidArgument("q: status:" + value + ": status is done, failed or pending");
        }
        filter->status = value;
      } else if (key == "label") {
        filter->label_groups.push_back({value});
      } else {
        return InvalidArgument("q: unknown filter '" + key +
                               ":' (known: folder:, after:, before:, status:, label:, score>)");
      }
      continue;
    }
    if (word.find_first_of("<>=\"") != std::string::npos) {
      return InvalidArgument("q: '" + word + "' is not a label or a known filter (e.g. score>0.6)");
    }
    std::vector<std::string> group;
    size_t start = 0;
    while (start <= word.size()) {
      size_t bar = word.find('|', start);
      if (bar == std::string::npos) bar = word.size();
      if (bar > start) group.push_back(word.substr(start, bar - start));
      start = bar + 1;
    }
    if (group.empty()) return InvalidArgument("q: '" + word + "' has no label");
    filter->label_groups.push_back(std::move(group));
  }
  return Status::Ok();
}

}  // namespace mediadex::server
