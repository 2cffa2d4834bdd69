// mediadex export --format json|csv|coco [--output FILE]  |  mediadex export --xmp
//
// Every present file analysed by the latest model used, with its detections.
//   json: an array of {"file", "media_id", "kind", "width", "height", "detections": [...]}.
//   Text fields are valid UTF-8: a file name's bytes that are not UTF-8 are written as \xHH and
//   backslashes doubled (core/text.h; Utf8ToBytes gives the exact name back).
//   csv:  one row per detection: file,width,height,label,class,score,x1,y1,x2,y2,time (RFC 4180
//         quoting, "\n" line ends; time is empty for photos). Files without detections have no row.
//   coco: {"info", "images", "categories", "annotations"}; image id = the catalog's media id;
//         category id = the model's class index + 1 (COCO ids start at 1); bbox = [x, y, w, h].
//         COCO describes still images, so videos are left out (a note on stderr says how many).
//   xmp:  <photo stem>.xmp beside each photo (the Adobe/Lightroom sidecar convention) with the
//         photo's labels, unique and sorted, as dc:subject keywords. A sidecar that mediadex did
//         not write (no mediadex:generator marker) is never touched: it is skipped with a warning.
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli/catalog_open.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/json_output.h"

namespace mediadex::cli {
namespace {
namespace fs = std::filesystem;

// The marker that makes a sidecar ours to overwrite.
constexpr const char* kXmpNamespace = "http://ns.mediadex.dev/xmp/1.0/";
constexpr const char* kXmpMarker = "mediadex:generator=\"mediadex\"";

struct ExportArgs {
  SettingsFlags settings;
  std::string format;
  std::string output;
  bool xmp = false;
};

double Round(double v, double scale) { return std::round(v * scale) / scale; }

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// RFC 4180: fields holding a comma, quote, CR or LF are quoted, quotes doubled.
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string ToJson(const std::vector<catalog::ExportRow>& rows) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& row : rows) {
    nlohmann::json detections = nlohmann::json::array();
    for (const auto& d : row.detections) detections.push_back(DetectionJson(d));
    files.push_back({{"file", JsonText(row.path)},
                     {"media_id", row.media_id},
                     {"kind", MediaKindName(row.kind)},
                     {"width", row.width},
                     {"height", row.height},
                     {"detections", std::move(detections)}});
  }
  return DumpJson(files, 1) + "\n";
}

std::string ToCsv(const std::vector<catalog::ExportRow>& rows) {
  std::string out = "file,width,height,label,class,score,x1,y1,x2,y2,time\n";
  for (const auto& row : rows) {
    const std::string file = CsvField(JsonText(row.path)) + "," + std::to_string(row.width) + "," + std::to_string(row.height);
    for (const auto& stored : row.detections) {
      const Detection& d = stored.detection;
      out += file + "," + CsvField(JsonText(d.label)) + "," + std::to_string(d.class_id) + "," + Fixed(d.score, 4) + "," +
             Fixed(d.box.x1, 1) + "," + Fixed(d.box.y1, 1) + "," + Fixed(d.box.x2, 1) + "," + Fixed(d.box.y2, 1) +
             "," + (stored.time_s >= 0 ? Fixed(stored.time_s, 3) : "") + "\n";
    }
  }
  return out;
}

std::string ToCoco(const std::vector<catalog::ExportRow>& rows) {
  nlohmann::ordered_json images = nlohmann::ordered_json::array();
  nlohmann::ordered_json annotations = nlohmann::ordered_json::array();
  std::map<int, std::string> categories;
  int64_t annotation_id = 0;
  size_t videos = 0;
  for (const auto& row : rows) {
    if (row.kind == catalog::MediaKind::kVideo) {
      ++videos;
      continue;
    }
    images.push_back({{"id", row.media_id}, {"file_name", JsonText(row.path)}, {"width", row.width}, {"height", row.height}});
    for (const auto& stored : row.detections) {
      const Detection& d = stored.detection;
      categories.emplace(d.class_id + 1, JsonText(d.label));
      const double w = std::max(0.0, Round(d.box.x2 - d.box.x1, 10));
      const double h = std::max(0.0, Round(d.box.y2 - d.box.y1, 10));
      annotations.push_back({{"id", ++annotation_id},
                             {"image_id", row.media_id},
                             {"category_id", d.class_id + 1},
                             {"bbox", {Round(d.box.x1, 10), Round(d.box.y1, 10), w, h}},
                             {"score", Round(d.score, 1e4)},
                             {"area", Round(w * h, 100)},
                             {"iscrowd", 0}});
    }
  }
  if (videos > 0) std::fprintf(stderr, "mediadex: note: %zu video(s) left out of the COCO export\n", videos);
  nlohmann::ordered_json cats = nlohmann::ordered_json::array();
  for (const auto& [id, name] : categories) cats.push_back({{"id", id}, {"name", name}});
  nlohmann::ordered_json coco;
  coco["info"] = {{"description", "mediadex export (category id = model class index + 1)"}};
  coco["images"] = std::move(images);
  coco["categories"] = std::move(cats);
  coco["annotations"] = std::move(annotations);
  return DumpJson(coco) + "\n";
}

// Writes `text` to stdout ("" or "-") or atomically to `path` (a temp file renamed over it).
Status WriteOutput(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
      return IOError("stdout: write failed");
    }
    return Status::Ok();
  }
  const std::string tmp = path + ".mediadex-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return IOError(path + ": cannot write: " + std::strerror(errno));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      return IOError(path + ": write failed");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return IOError(path + ": cannot write: " + ec.message());
  }
  return Status::Ok();
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string XmpSidecar(const std::set<std::string>& labels) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"mediadex\">\n"
      " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
      "  <rdf:Description rdf:about=\"\"\n"
      "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
      "    xmlns:mediadex=\"" + std::string(kXmpNamespace) + "\"\n"
      "    " + kXmpMarker + ">\n"
      "   <dc:subject>\n"
      "    <rdf:Bag>\n";
  for (const auto& label : labels) xml += "     <rdf:li>" + XmlEscape(label) + "</rdf:li>\n";
  xml +=
      "    </rdf:Bag>\n"
      "   </dc:subject>\n"
      "  </rdf:Description>\n"
      " </rdf:RDF>\n"
      "</x:xmpmeta>\n";
  return xml;
}

// True when the sidecar at `path` carries mediadex's marker (so it may be overwritten).
Result<bool> IsOurSidecar(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError(path.string() + ": cannot read: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  return text.find("xmlns:mediadex=") != std::string::npos && text.find(kXmpMarker) != std::string::npos;
}

int ExportXmp(const std::vector<catalog::ExportRow>& rows) {
  int written = 0, skipped = 0, failed = 0, videos = 0;
  std::map<fs::path, std::string> claimed;  // sidecar -> photo, within this export
  for (const auto& row : rows) {
    if (row.kind == catalog::MediaKind::kVideo) {
      ++videos;
      continue;
    }
    std::set<std::string> labels;
    for (const auto& d : row.detections) labels.insert(d.detection.label);
    const fs::path sidecar = fs::path(row.path).replace_extension(".xmp");
    std::error_code ec;
    const bool exists = fs::exists(sidecar, ec);
    if (labels.empty() && !exists) continue;  // nothing to say and nothing stale to correct
    if (auto [it, inserted] = claimed.emplace(sidecar, row.path); !inserted) {
      std::fprintf(stderr, "mediadex: warning: %s: also the sidecar of %s; skipped %s\n",
                   sidecar.string().c_str(), it->second.c_str(), row.path.c_str());
      ++skipped;
      continue;
    }
    if (exists) {
      auto ours = IsOurSidecar(sidecar);
      if (!ours.ok()) {
        PrintError(ours.status().message());
        ++failed;
        continue;
      }
      if (!*ours) {
        std::fprintf(stderr, "mediadex: warning: %s: not written by mediadex, left as it is\n",
                     sidecar.string().c_str());
        ++skipped;
        continue;
      }
    }
    if (Status s = WriteOutput(sidecar.string(), XmpSidecar(labels)); !s.ok()) {
      PrintError(s.message());
      ++failed;
      continue;
    }
    ++written;
  }
  std::fprintf(stderr, "xmp sidecars: %d written, %d skipped, %d failed%s\n", written, skipped, failed,
               videos ? (" (" + std::to_string(videos) + " video(s) have none)").c_str() : "");
  return failed > 0 ? kExitPartialFailure : kExitOk;
}

int RunExport(const ExportArgs& args) {
  if (args.xmp == !args.format.empty()) {
    return Fail(InvalidArgument("give exactly one of --format json|csv|coco and --xmp"));
  }
  if (args.xmp && !args.output.empty()) return Fail(InvalidArgument("--xmp writes beside each photo; drop --output"));
  auto config = args.settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto db = OpenCatalogFromConfig(*config, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  auto rows = (*db)->ExportAll(0);
  if (!rows.ok()) return Fail(rows.status());
  if (args.xmp) return ExportXmp(*rows);

  std::string text;
  if (args.format == "json") {
    text = ToJson(*rows);
  } else if (args.format == "csv") {
    text = ToCsv(*rows);
  } else {
    text = ToCoco(*rows);
  }
  if (Status s = WriteOutput(args.output, text); !s.ok()) return Fail(s);
  return kExitOk;
}

}  // namespace

Command RegisterExport(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* sub = app.add_subcommand("export", "export the detections as JSON, CSV or COCO, or as XMP sidecar keywords");
  sub->footer(
      "csv: one row per detection (file,width,height,label,class,score,x1,y1,x2,y2,time).\n"
      "coco: image id = catalog media id, category id = model class index + 1, bbox = [x, y, w, h]; videos left out.\n"
      "--xmp: writes <photo stem>.xmp beside each photo with its labels as dc:subject keywords;\n"
      "sidecars mediadex did not write are never modified (skipped with a warning).\n");
  args->settings.Add(*sub, {"catalog"});
  sub->add_option("--format", args->format, "json | csv | coco")
      ->check(CLI::IsMember({"json", "csv", "coco"}));
  sub->add_option("-o,--output", args->output, "write to FILE instead of stdout");
  sub->add_flag("--xmp", args->xmp, "write XMP sidecars with the labels as keywords beside each photo");
  return [args] { return RunExport(*args); };
}

}  // namespace mediadex::cli
