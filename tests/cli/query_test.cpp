// End-to-end tests of the catalog query and export commands (search, status, errors, export):
// a real SQLite catalog is built through the catalog API with hand-made detections, then the
// real build/mediadex binary is run on it and its output and exit codes are checked.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "catalog/catalog.h"
#include "cli_util.h"
#include "testutil.h"
#include "core/files.h"

namespace mediadex {
namespace {
namespace fs = std::filesystem;
using catalog::MediaKind;
using catalog::StoredDetection;

using testing::CommandRun;
using testing::JsonLines;
using testing::ReadFile;
using testing::Shell;
using testing::ShellQuote;

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<std::string> Lines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// An RFC 4180 reader written for this test (independent of the exporter's writer).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

StoredDetection Det(const std::string& label, int class_id, float score, Box box, double time_s = -1) {
  StoredDetection d;
  d.detection.label = label;
  d.detection.class_id = class_id;
  d.detection.score = score;
  d.detection.box = box;
  d.time_s = time_s;
  return d;
}

// The library: photos (one with a comma and quotes in its name, one with a newline, one whose
// label needs XML escaping, one with a foreign XMP sidecar), a video with moments, a failed
// file, a file without detections, a pending file and a gone file.
class QueryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = (fs::temp_directory_path() / "mdx-query-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "photos");
    fs::create_directories(dir_ / "videos");
    fs::create_directories(dir_ / "xdg-config");
    db_path_ = (dir_ / "catalog.db").string();
    const fs::path p = dir_ / "photos";
    dog_ = (p / "dog.jpg").string();
    cat_ = (p / "cat.png").string();
    comma_ = (p / "a,b \"c\".jpg").string();
    newline_ = (p / "line\nbreak.jpg").string();
    tools_ = (p / "tools.jpg").string();
    foreign_ = (p / "foreign.jpg").string();
    empty_ = (p / "empty.jpg").string();
    broken_ = (p / "broken.jpg").string();
    pending_ = (p / "new.jpg").string();
    gone_ = (p / "old.jpg").string();
    video_ = (dir_ / "videos" / "walk.mp4").string();
    for (const auto& f : {dog_, cat_, comma_, newline_, tools_, foreign_, empty_, broken_, pending_, video_}) {
      WriteFile(f, "not really an image");
    }
    foreign_xmp_ = "<?xml version=\"1.0\"?>\n<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><!-- Lightroom's --></x:xmpmeta>\n";
    WriteFile(p / "foreign.xmp", foreign_xmp_);

    auto opened = catalog::OpenCatalog(db_path_);
    ASSERT_OK(opened);
    catalog::Catalog& db = **opened;
    auto model = db.RegisterModel({"centernet", "v1", "score_min=0.2"});
    ASSERT_OK(model);
    catalog::RunInfo info;
    info.model_id = *model;
    info.device = "cpu";
    info.roots = {dir_.string()};
    auto run = db.BeginRun(info);
    ASSERT_OK(run);

    catalog::ScanChanges scan;
    int64_t mtime = 1700000000000000000;
    for (const auto& f : {dog_, cat_, comma_, newline_, tools_, foreign_, empty_, broken_, pending_, gone_}) {
      scan.added.push_back({f, 19, mtime++, MediaKind::kImage});
    }
    scan.added.push_back({video_, 19, mtime++, MediaKind::kVideo});
    ASSERT_OK(db.ApplyScan(scan));
    auto index = db.LoadFileIndex();
    ASSERT_OK(index);
    std::map<std::string, int64_t> ids;
    for (const auto& row : *index) ids[row.path] = row.id;
    ASSERT_EQ(ids.size(), 11u);
    catalog::ScanChanges gone;
    gone.gone = {ids.at(gone_)};
    ASSERT_OK(db.ApplyScan(gone));

    auto ok = [&](const std::string& path, int w, int h, std::vector<StoredDetection> dets) {
      catalog::MediaResult r;
      r.media_id = ids.at(path);
      r.content_hash = "hash" + std::to_string(r.media_id);
      r.width = w;
      r.height = h;
      r.detections = std::move(dets);
      return r;
    };
    std::vector<catalog::MediaResult> batch = {
        ok(dog_, 640, 480,
           {Det("dog", 16, 0.9f, {10, 20, 110, 220}), Det("dog", 16, 0.6f, {300, 40, 400, 140}),
            Det("person", 0, 0.8f, {50, 60, 150, 460})}),
        ok(cat_, 800, 600, {Det("cat", 15, 0.7f, {1, 2, 301, 402})}),
        ok(comma_, 320, 240, {Det("person", 0, 0.5f, {5, 5, 50, 50})}),
        ok(newline_, 320, 240, {Det("person", 0, 0.3f, {5, 5, 50, 50})}),
        ok(tools_, 100, 100, {Det(kOddLabel, 90, 0.4f, {0, 0, 10, 10})}),
        ok(foreign_, 640, 480, {Det("cat", 15, 0.95f, {0, 0, 100, 100})}),
        ok(empty_, 640, 480, {}),
        ok(video_, 1280, 720,
           {Det("person", 0, 0.6f, {0, 0, 100, 300}, 2.0), Det("dog", 16, 0.85f, {10, 10, 90, 90}, 12.0),
            Det("dog", 16, 0.8f, {20, 10, 100, 90}, 14.0)}),
    };
    catalog::MediaResult failed;
    failed.media_id = ids.at(broken_);
    failed.ok = false;
    failed.error = "Corrupt: truncated JPEG data";
    batch.push_back(failed);
    ASSERT_OK(db.CommitBatch(*model, *run, batch));
    ASSERT_OK(db.FinishRun(*run, {8, 1, 0}));
  }
  static void TearDownTestSuite() {
    if (std::getenv("MEDIADEX_KEEP_TEST_DIR")) return;  // to look at the catalog by hand
    std::error_code ec;
    RemoveTree(dir_);
  }

  // `mediadex ARGS --catalog DB` in a clean environment (no user config or catalog settings).
  static CommandRun Mediadex(const std::string& args, bool with_catalog = true, const std::string& env = "") {
    std::string command = "env -u MEDIADEX_CONFIG -u MEDIADEX_CATALOG XDG_CONFIG_HOME=" +
                          ShellQuote((dir_ / "xdg-config").string()) + " " + env + " " +
                          testing::MediadexBinary() + " " + args;
    if (with_catalog) command += " --catalog " + ShellQuote(db_path_);
    return Shell(command, dir_);
  }

  static constexpr const char* kOddLabel = "hot \"dog\" & <bun>";
  static inline fs::path dir_;
  static inline std::string db_path_, dog_, cat_, comma_, newline_, tools_, foreign_, empty_, broken_,
      pending_, gone_, video_, foreign_xmp_;
};

TEST_F(QueryTest, SearchAnyListsFilesBestFirstWithCountsAndVideoMoments) {
  CommandRun run = Mediadex("search dog cat");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 4u) << run.out;
  EXPECT_NE(lines[0].find(foreign_), std::string::npos) << lines[0];  // cat 0.95
  EXPECT_NE(lines[1].find(dog_), std::string::npos) << lines[1];      // dog 0.90
  EXPECT_NE(lines[2].find(video_), std::string::npos) << lines[2];    // dog 0.85
  EXPECT_NE(lines[3].find(cat_), std::string::npos) << lines[3];      // cat 0.70
  EXPECT_EQ(lines[1].rfind("0.90", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("640x480"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("dog x2"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("dog at 12.0s, 14.0s"), std::string::npos) << lines[2];
}

TEST_F(QueryTest, SearchAllJsonNeedsEveryLabelAndCarriesVideoTimes) {
  CommandRun run = Mediadex("search dog person --all --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto hits = JsonLines(run.out);
  ASSERT_EQ(hits.size(), 2u) << run.out;
  EXPECT_EQ(hits[0]["file"], dog_);
  EXPECT_EQ(hits[0]["kind"], "image");
  EXPECT_EQ(hits[0]["width"], 640);
  EXPECT_EQ(hits[0]["height"], 480);
  EXPECT_NEAR(hits[0]["score"].get<double>(), 0.9, 1e-4);
  ASSERT_EQ(hits[0]["detections"].size(), 3u);
  for (const auto& d : hits[0]["detections"]) {
    EXPECT_FALSE(d.contains("time")) << d;
    EXPECT_EQ(d["box"].size(), 4u);
  }
  EXPECT_EQ(hits[1]["file"], video_);
  EXPECT_EQ(hits[1]["kind"], "video");
  EXPECT_TRUE(hits[1]["media_id"].is_number_integer());
  std::set<double> times;
  for (const auto& d : hits[1]["detections"]) times.insert(d.at("time").get<double>());
  EXPECT_EQ(times, (std::set<double>{2.0, 12.0, 14.0}));
  // --any (the default) also finds the photos with only a person.
  EXPECT_EQ(JsonLines(Mediadex("search dog person --json").out).size(), 4u);
}

TEST_F(QueryTest, SearchMinScoreAndLimit) {
  CommandRun run = Mediadex("search person --min-score 0.55 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto hits = JsonLines(run.out);
  ASSERT_EQ(hits.size(), 2u) << run.out;
  EXPECT_EQ(hits[0]["file"], dog_);
  EXPECT_EQ(hits[1]["file"], video_);
  for (const auto& h : hits) {
    for (const auto& d : h["detections"]) EXPECT_GE(d["score"].get<double>(), 0.55);
  }
  EXPECT_EQ(JsonLines(Mediadex("search person --json").out).size(), 4u);
  run = Mediadex("search person --limit 1 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  hits = JsonLines(run.out);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["file"], dog_);
}

TEST_F(QueryTest, SearchTextKeepsOneFilePerLine) {
  CommandRun run = Mediadex("search person");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 4u) << run.out;
  EXPECT_NE(lines[3].find((dir_ / "photos" / "line\\nbreak.jpg").string()), std::string::npos) << lines[3];
  EXPECT_NE(lines[2].find(comma_), std::string::npos) << lines[2];
}

TEST_F(QueryTest, SearchWithoutMatchExitsOneLikeGrep) {
  CommandRun run = Mediadex("search giraffe");
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(run.out, "");
  run = Mediadex("search person --min-score 0.99");
  EXPECT_EQ(run.exit_code, 1) << run.out;
}

TEST_F(QueryTest, SearchUnknownLabelSuggestsCloseOnes) {
  CommandRun run = Mediadex("search dgo");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("unknown label 'dgo'"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("'dog'"), std::string::npos) << run.err;
  // Labels compare case-insensitively; a label only the catalog knows is fine.
  EXPECT_EQ(Mediadex("search DOG").exit_code, 0);
  run = Mediadex("search " + ShellQuote(kOddLabel) + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(JsonLines(run.out).size(), 1u);
  EXPECT_EQ(JsonLines(run.out)[0]["file"], tools_);
}

TEST_F(QueryTest, StatusJsonCountsRunsAndErrors) {
  CommandRun run = Mediadex("status --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["total"], 10);
  EXPECT_EQ(j["done"], 8);
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["pending"], 1);
  EXPECT_EQ(j["gone"], 1);
  EXPECT_EQ(j["top_labels"]["person"], 4);
  EXPECT_EQ(j["top_labels"]["dog"], 2);
  EXPECT_EQ(j["top_labels"]["cat"], 2);
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["model"], "centernet@v1");
  EXPECT_EQ(j["runs"][0]["device"], "cpu");
  EXPECT_EQ(j["runs"][0]["done"], 8);
  EXPECT_EQ(j["runs"][0]["failed"], 1);
  EXPECT_EQ(j["runs"][0]["skipped"], 0);
  EXPECT_TRUE(j["runs"][0]["started"].is_string());
  EXPECT_TRUE(j["runs"][0]["finished"].is_string());
  ASSERT_EQ(j["recent_errors"].size(), 1u);
  EXPECT_EQ(j["recent_errors"][0]["file"], broken_);
  EXPECT_EQ(j["recent_errors"][0]["error"], "Corrupt: truncated JPEG data");

  run = Mediadex("status");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("8 done, 1 failed, 1 pending"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("truncated JPEG data"), std::string::npos) << run.out;
}

TEST_F(QueryTest, ErrorsListsEachFailedFileWithItsReason) {
  CommandRun run = Mediadex("errors");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, broken_ + ": Corrupt: truncated JPEG data\n");
  run = Mediadex("errors --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto lines = JsonLines(run.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["file"], broken_);
  EXPECT_EQ(lines[0]["error"], "Corrupt: truncated JPEG data");
}

TEST_F(QueryTest, MissingCatalogAndUnreachablePostgresAreClearErrors) {
  const fs::path data = dir_ / "xdg-data";
  CommandRun run = Mediadex("status", false, "XDG_DATA_HOME=" + ShellQuote(data.string()));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find((data / "mediadex" / "catalog.db").string() + ": no catalog yet"), std::string::npos)
      << run.err;
  EXPECT_FALSE(fs::exists(data / "mediadex" / "catalog.db"));  // a query never creates one
  // A PostgreSQL URL goes to that server (none listens on port 1); its password is never shown.
  run = Mediadex("search dog --catalog 'postgres://mdx:hunter2@127.0.0.1:1/mediadex?connect_timeout=2'", false);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("postgres://mdx:***@127.0.0.1:1/mediadex"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("cannot connect to PostgreSQL"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("hunter2"), std::string::npos) << run.err;
  // The catalog setting also comes from the environment.
  run = Mediadex("errors", false, "MEDIADEX_CATALOG=" + ShellQuote(db_path_));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find(broken_), std::string::npos);
}

TEST_F(QueryTest, ExportCsvQuotesPathsAndHasOneRowPerDetection) {
  CommandRun run = Mediadex("export --format csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto rows = ParseCsv(run.out);
  ASSERT_EQ(rows.size(), 1u + 11u) << run.out;  // header + 11 detections
  EXPECT_EQ(rows[0], (std::vector<std::string>{"file", "width", "height", "label", "class", "score", "x1", "y1",
                                               "x2", "y2", "time"}));
  std::map<std::string, int> per_file;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 11u) << "row " << i;
    ++per_file[rows[i][0]];
    if (rows[i][0] == comma_) {
      EXPECT_EQ(rows[i][3], "person");
      EXPECT_EQ(rows[i][1], "320");
      EXPECT_DOUBLE_EQ(std::stod(rows[i][5]), 0.5);
      EXPECT_EQ(rows[i][10], "");
    }
    if (rows[i][0] == video_) {
      EXPECT_FALSE(rows[i][10].empty());
    }
    if (rows[i][0] == tools_) {
      EXPECT_EQ(rows[i][3], kOddLabel);
    }
  }
  EXPECT_EQ(per_file[comma_], 1);
  EXPECT_EQ(per_file[newline_], 1);
  EXPECT_EQ(per_file[dog_], 3);
  EXPECT_EQ(per_file[video_], 3);
  EXPECT_EQ(per_file.count(empty_), 0u);
  EXPECT_EQ(per_file.count(broken_), 0u);

  const fs::path out = dir_ / "export.csv";
  run = Mediadex("export --format csv --output " + ShellQuote(out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(ReadFile(out), Mediadex("export --format csv").out);
}

TEST_F(QueryTest, ExportJsonHasEveryDoneFile) {
  CommandRun run = Mediadex("export --format json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = nlohmann::json::parse(run.out);
  ASSERT_TRUE(j.is_array());
  std::map<std::string, nlohmann::json> by_file;
  for (const auto& f : j) by_file[f["file"]] = f;
  EXPECT_EQ(by_file.size(), 8u);
  EXPECT_EQ(by_file.count(broken_), 0u);
  ASSERT_EQ(by_file.count(empty_), 1u);
  EXPECT_TRUE(by_file[empty_]["detections"].empty());
  EXPECT_EQ(by_file[dog_]["detections"].size(), 3u);
  EXPECT_EQ(by_file[video_]["kind"], "video");
}

TEST_F(QueryTest, ExportCocoIsConsistent) {
  CommandRun run = Mediadex("export --format coco");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto coco = nlohmann::json::parse(run.out);
  ASSERT_TRUE(coco["images"].is_array() && coco["categories"].is_array() && coco["annotations"].is_array());
  std::map<int64_t, std::string> images;
  for (const auto& im : coco["images"]) {
    EXPECT_TRUE(images.emplace(im["id"].get<int64_t>(), im["file_name"].get<std::string>()).second) << "dup id";
    EXPECT_GT(im["width"].get<int>(), 0);
    EXPECT_GT(im["height"].get<int>(), 0);
    EXPECT_NE(im["file_name"], video_);  // videos are not COCO images
  }
  EXPECT_EQ(images.size(), 7u);
  std::map<int, std::string> categories;
  for (const auto& c : coco["categories"]) categories[c["id"]] = c["name"];
  EXPECT_EQ(categories[1], "person");  // class index + 1
  EXPECT_EQ(categories[17], "dog");
  EXPECT_EQ(categories[16], "cat");
  std::set<int64_t> annotation_ids;
  bool saw_cat_box = false;
  for (const auto& a : coco["annotations"]) {
    EXPECT_TRUE(annotation_ids.insert(a["id"].get<int64_t>()).second) << "dup annotation id";
    ASSERT_EQ(images.count(a["image_id"].get<int64_t>()), 1u) << a;
    EXPECT_EQ(categories.count(a["category_id"].get<int>()), 1u) << a;
    EXPECT_EQ(a["iscrowd"], 0);
    ASSERT_EQ(a["bbox"].size(), 4u);
    const double w = a["bbox"][2], h = a["bbox"][3];
    EXPECT_NEAR(a["area"].get<double>(), w * h, 0.01);
    if (images[a["image_id"]] == cat_) {
      saw_cat_box = true;  // stored box (1, 2, 301, 402)
      EXPECT_EQ(a["bbox"], nlohmann::json::parse("[1.0, 2.0, 300.0, 400.0]"));
      EXPECT_NEAR(a["score"].get<double>(), 0.7, 1e-4);
      EXPECT_EQ(a["category_id"], 16);
    }
  }
  EXPECT_TRUE(saw_cat_box);
  EXPECT_EQ(annotation_ids.size(), 8u);  // 11 detections less the video's 3
}

// The dc:subject keywords of an XMP file, parsed by Python's XML parser (independent check
// that the file is well-formed); "ERROR ..." when it is not.
std::vector<std::string> XmpKeywords(const fs::path& xmp, const fs::path& scratch) {
  const std::string script =
      "import sys, xml.etree.ElementTree as ET\n"
      "ns = {'rdf': 'http://www.w3.org/1999/02/22-rdf-syntax-ns#', 'dc': 'http://purl.org/dc/elements/1.1/'}\n"
      "root = ET.parse(sys.argv[1]).getroot()\n"
      "for li in root.findall('.//dc:subject/rdf:Bag/rdf:li', ns): print(li.text)\n";
  CommandRun run = Shell("python3 -c " + ShellQuote(script) + " " + ShellQuote(xmp.string()), scratch);
  if (run.exit_code != 0) return {"ERROR " + run.err};
  return Lines(run.out);
}

TEST_F(QueryTest, ExportXmpWritesSidecarsAndNeverClobbersForeignOnes) {
  ASSERT_EQ(Shell("python3 -c 'import xml.etree.ElementTree'", dir_).exit_code, 0)
      << "python3 is needed to parse the XMP back";
  const fs::path photos = dir_ / "photos";
  CommandRun run = Mediadex("export --xmp");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(XmpKeywords(photos / "dog.xmp", dir_), (std::vector<std::string>{"dog", "person"}));
  EXPECT_EQ(XmpKeywords(photos / "cat.xmp", dir_), (std::vector<std::string>{"cat"}));
  EXPECT_EQ(XmpKeywords(photos / "tools.xmp", dir_), (std::vector<std::string>{kOddLabel}));
  EXPECT_EQ(XmpKeywords(photos / "a,b \"c\".xmp", dir_), (std::vector<std::string>{"person"}));
  EXPECT_FALSE(fs::exists(photos / "empty.xmp"));       // no labels, nothing to write
  EXPECT_FALSE(fs::exists(photos / "broken.xmp"));      // failed files have no labels
  EXPECT_FALSE(fs::exists(dir_ / "videos" / "walk.xmp"));
  EXPECT_EQ(ReadFile(photos / "foreign.xmp"), foreign_xmp_);  // byte-identical
  EXPECT_NE(run.err.find((photos / "foreign.xmp").string()), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("5 written, 1 skipped"), std::string::npos) << run.err;

  // A second export rewrites its own sidecars (they carry the marker), still not the foreign one.
  const std::string cat_xmp = ReadFile(photos / "cat.xmp");
  WriteFile(photos / "cat.xmp", cat_xmp + "<!-- stale -->\n");
  run = Mediadex("export --xmp");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("5 written, 1 skipped"), std::string::npos) << run.err;
  EXPECT_EQ(ReadFile(photos / "cat.xmp"), cat_xmp);
  EXPECT_EQ(ReadFile(photos / "foreign.xmp"), foreign_xmp_);
}

TEST_F(QueryTest, ExportNeedsExactlyOneOfFormatAndXmp) {
  EXPECT_EQ(Mediadex("export").exit_code, 2);
  EXPECT_EQ(Mediadex("export --format csv --xmp").exit_code, 2);
  CommandRun run = Mediadex("export --format yaml");
  EXPECT_NE(run.exit_code, 0);
}

}  // namespace
}  // namespace mediadex
