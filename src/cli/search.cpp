// mediadex search LABEL... : the files where the catalog saw these objects, best first.
//
// Exit codes follow grep: 0 = something matched, 1 = nothing matched, 2 = error (no catalog,
// unknown label, bad flag). A label that is neither a COCO class nor in the catalog is almost
// always a typo, so it is an error with the closest known labels, not a silent "no match".
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "cli/catalog_open.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/json_output.h"
#include "model/detector.h"

namespace mediadex::cli {
namespace {

struct SearchArgs {
  SettingsFlags settings;
  std::vector<std::string> labels;
  bool all = false;
  bool any = false;
  double min_score = 0;
  int limit = 100;
  bool json = false;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Known labels close to `label`: small edit distance, or one contains the other ("bear" ->
// "teddy bear"), closest first, at most 5.
std::vector<std::string> CloseLabels(const std::string& label, const std::set<std::string>& known) {
  const std::string want = Lower(label);
  const size_t max_distance = std::max<size_t>(2, want.size() / 3);
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& k : known) {
    const std::string have = Lower(k);
    size_t distance = EditDistance(want, have);
    if (want.size() >= 3 && (have.find(want) != std::string::npos || want.find(have) != std::string::npos)) {
      distance = std::min<size_t>(distance, 1);
    }
    if (distance <= max_distance) scored.emplace_back(distance, k);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < 5; ++i) out.push_back(scored[i].second);
  return out;
}

bool IsCocoLabel(const std::string& label) {
  const std::string want = Lower(label);
  for (const auto& l : model::CocoLabels()) {
    if (Lower(l) == want) return true;
  }
  return false;
}

// OK when every label is a COCO class or has at least one detection in the catalog.
Status CheckLabels(catalog::Catalog& db, const std::vector<std::string>& labels) {
  for (const auto& label : labels) {
    if (IsCocoLabel(label)) continue;
    catalog::SearchQuery probe;
    probe.labels = {label};
    probe.limit = 1;
    auto hits = db.Search(probe);
    if (!hits.ok()) return hits.status();
    if (!hits->empty()) continue;
    std::set<std::string> known(model::CocoLabels().begin(), model::CocoLabels().end());
    if (auto summary = db.Summary(0); summary.ok()) {
      for (const auto& [l, files] : summary->top_labels) known.insert(l);
    }
    std::string message = "unknown label '" + label + "': not a COCO class and not in the catalog";
    auto close = CloseLabels(label, known);
    if (!close.empty()) {
      message += "; did you mean ";
      for (size_t i = 0; i < close.size(); ++i) message += (i ? ", " : "") + ("'" + close[i] + "'");
      message += "?";
    } else {
      message += " (`mediadex status` lists the labels found so far)";
    }
    return InvalidArgument(message);
  }
  return Status::Ok();
}

// 12 -> "12.0s".
std::string Seconds(double t) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fs", t);
  return buf;
}

// Photos: "dog x2, cat"; videos: "dog at 12.0s, 14.0s; cat at 3.0s" (moments in time order).
std::string DescribeMatches(const catalog::SearchHit& hit) {
  std::vector<std::string> order;  // labels in first-seen order (best first for photos)
  std::map<std::string, std::vector<double>> times;
  std::map<std::string, int> counts;
  for (const auto& m : hit.matches) {
    const std::string& label = m.detection.label;
    if (counts[label]++ == 0) order.push_back(label);
    auto& t = times[label];
    if (m.time_s >= 0 && (t.empty() || t.back() != m.time_s)) t.push_back(m.time_s);
  }
  std::string out;
  for (const auto& label : order) {
    if (!out.empty()) out += hit.kind == catalog::MediaKind::kVideo ? "; " : ", ";
    out += label;
    if (hit.kind == catalog::MediaKind::kVideo && !times[label].empty()) {
      out += " at ";
      for (size_t i = 0; i < times[label].size(); ++i) out += (i ? ", " : "") + Seconds(times[label][i]);
    } else if (counts[label] > 1) {
      out += " x" + std::to_string(counts[label]);
    }
  }
  return out;
}

nlohmann::json HitJson(const catalog::SearchHit& hit) {
  nlohmann::json detections = nlohmann::json::array();
  for (const auto& m : hit.matches) detections.push_back(DetectionJson(m));
  return {{"file", JsonText(hit.path)},
          {"media_id", hit.media_id},
          {"kind", MediaKindName(hit.kind)},
          {"width", hit.width},
          {"height", hit.height},
          {"score", std::round(hit.best_score * 1e4) / 1e4},
          {"detections", std::move(detections)}};
}

int RunSearch(const SearchArgs& args) {
  if (args.all && args.any) return Fail(InvalidArgument("--all and --any exclude each other"));
  if (args.min_score < 0 || args.min_score > 1) return Fail(InvalidArgument("--min-score must be within 0..1"));
  if (args.limit < 0) return Fail(InvalidArgument("--limit must be >= 0 (0 = no limit)"));
  auto config = args.settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto db = OpenCatalogFromConfig(*config, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  if (Status s = CheckLabels(**db, args.labels); !s.ok()) return Fail(s);

  catalog::SearchQuery query;
  query.labels = args.labels;
  query.match_all = args.all;
  query.score_min = static_cast<float>(args.min_score);
  query.limit = args.limit;
  auto hits = (*db)->Search(query);
  if (!hits.ok()) return Fail(hits.status());
  for (const auto& hit : *hits) {
    if (args.json) {
      std::printf("%s\n", DumpJson(HitJson(hit)).c_str());
    } else {
      std::printf("%.2f  %s  %dx%d  %s\n", hit.best_score, OneLine(hit.path).c_str(), hit.width, hit.height,
                  DescribeMatches(hit).c_str());
    }
  }
  std::fflush(stdout);
  return hits->empty() ? kExitPartialFailure : kExitOk;
}

}  // namespace

Command RegisterSearch(CLI::App& app) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* sub = app.add_subcommand("search", "find the files where the catalog saw these objects, best first");
  sub->footer("Exit status: 0 = matches printed, 1 = no match, 2 = error (e.g. unknown label, no catalog).\n");
  args->settings.Add(*sub, {"catalog"});
  sub->add_option("labels", args->labels, "object labels, e.g. dog person (COCO names, case-insensitive)")->required();
  sub->add_flag("--all", args->all, "files that contain every label");
  sub->add_flag("--any", args->any, "files that contain at least one label (default)");
  sub->add_option("--min-score", args->min_score, "ignore detections scoring below this (0..1) [0]");
  sub->add_option("--limit", args->limit, "at most this many files; 0 = all [100]");
  sub->add_flag("--json", args->json, "one JSON object per line per file");
  return [args] { return RunSearch(*args); };
}

}  // namespace mediadex::cli
