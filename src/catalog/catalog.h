// The catalog: what mediadex knows about a library — files, their identity, what each model
// found in them, and the runs that did it. SQLite (WAL) by default; PostgreSQL later, behind
// the same interface.
//
//   auto catalog = catalog::OpenCatalog("mediadex.db");          // creates and migrates
//   auto model_id = (*catalog)->RegisterModel({"centernet", "ab12..", "iou=0.4,..."});
//   auto run_id = (*catalog)->BeginRun({...});
//   auto index = (*catalog)->LoadFileIndex();                    // for incremental scans
//   (*catalog)->ApplyScan(changes);                              // new/changed/moved/gone
//   (*catalog)->CommitBatch(model_id, run_id, results);          // ONE transaction per batch
//
// Thread safety: a Catalog object is used by one thread at a time (the indexer's writer);
// other processes (search, the server) may read the same file (or database) while it writes.
// Every write method is one transaction: all of it lands or none of it does.
#ifndef MEDIADEX_CATALOG_CATALOG_H_
#define MEDIADEX_CATALOG_CATALOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/detection.h"
#include "core/status.h"

namespace mediadex::catalog {

enum class MediaKind { kImage, kVideo };

// Analysis state of one file for one model.
enum class AnalysisStatus { kPending, kDone, kFailed };

// What the scanner saw of a file on disk.
struct FileStat {
  std::string path;     // absolute, as scanned
  uint64_t size = 0;    // bytes
  int64_t mtime_ns = 0; // modification time, nanoseconds since the epoch
  MediaKind kind = MediaKind::kImage;
};

// What the catalog remembers of a file (one row of `media`).
struct MediaRow {
  int64_t id = 0;
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string content_hash;  // xxh3-64 hex of the bytes; "" until first analysed
  bool gone = false;         // the file was not there at the last scan
  MediaKind kind = MediaKind::kImage;
};

// Changes an incremental scan found, applied in one transaction by ApplyScan().
struct ScanChanges {
  std::vector<FileStat> added;                 // new paths
  std::vector<std::pair<int64_t, FileStat>> changed;  // media id -> new size/mtime (results stale)
  std::vector<std::pair<int64_t, std::string>> moved; // media id of a gone file -> its new path
  std::vector<int64_t> gone;                   // media ids no longer on disk
};

struct ModelKey {
  std::string name;      // "centernet"
  std::string version;   // content hash of the model files
  std::string settings;  // post-processing that changes results, e.g. "score_min=0.2;iou=0.4;max=10"
};

struct RunInfo {
  int64_t model_id = 0;
  std::string device;      // "cpu", "cuda:0" ...
  std::string settings;    // batch size, concurrency, memory limit (for the record)
  std::vector<std::string> roots;
};

struct RunCounts {
  int64_t done = 0;
  int64_t failed = 0;
  int64_t skipped = 0;  // unchanged since the last run
};

// One detection in a photo, or in a video frame at `time_s`.
struct StoredDetection {
  Detection detection;
  double time_s = -1;  // video timestamp in seconds; -1 for photos
};

// The outcome of analysing one file with one model.
struct MediaResult {
  int64_t media_id = 0;
  bool ok = true;
  std::string error;         // why it failed (when !ok)
  std::string content_hash;  // computed while reading the file
  int width = 0;             // upright pixels
  int height = 0;
  int orientation = 1;       // EXIF orientation tag
  int64_t capture_time = 0;  // EXIF DateTimeOriginal, seconds since the epoch; 0 = unknown
  double duration_s = 0;     // videos
  std::vector<StoredDetection> detections;
};

struct SearchQuery {
  std::vector<std::string> labels;
  bool match_all = false;   // --all: every label present; default --any
  float score_min = 0.0f;
  int limit = 100;
  int64_t model_id = 0;     // 0 = any model
};

struct SearchHit {
  int64_t media_id = 0;
  std::string path;
  MediaKind kind = MediaKind::kImage;
  int width = 0;
  int height = 0;
  float best_score = 0;                 // highest score among the matching labels
  std::vector<StoredDetection> matches; // detections of the matching labels (videos: moments)
};

struct StatusSummary {
  int64_t total = 0;     // files known and present
  int64_t pending = 0;   // present files without a current result for the model
  int64_t done = 0;
  int64_t failed = 0;
  int64_t gone = 0;
  std::vector<std::pair<std::string, int64_t>> top_labels;  // label -> files with it
};

struct RunRow {
  int64_t id = 0;
  std::string model;     // name@version
  std::string device;
  int64_t started_at = 0;   // unix seconds
  int64_t finished_at = 0;  // 0 while running or when it died
  RunCounts counts;
};

struct ErrorRow {
  int64_t media_id = 0;
  std::string path;
  std::string error;
};

// A file with its detections for export.
struct ExportRow {
  int64_t media_id = 0;
  std::string path;
  MediaKind kind = MediaKind::kImage;
  int width = 0;
  int height = 0;
  std::vector<StoredDetection> detections;
};


// --- Gallery reads (the server) ---------------------------------------------------------------

enum class MediaSort { kDate, kScore };

// Which files a gallery page shows; every field narrows (AND). Labels compare case-insensitively.
struct MediaFilter {
  // Each group needs at least one of its labels (scoring >= min_score); every group must match.
  // "dog person" is {{dog}, {person}}; "dog|cat" is {{dog, cat}}.
  std::vector<std::vector<std::string>> label_groups;
  float min_score = 0.0f;     // with no labels: some detection at least this good
  std::string folder;         // a path component run, e.g. "2024/trip" (matches ".../2024/trip/...")
  int64_t after = 0;          // capture_time >= after (unix seconds); 0 = open
  int64_t before = 0;         // capture_time < before; 0 = open
  std::string status;         // "" | "done" | "failed" | "pending"
  int64_t model_id = 0;       // 0 = the latest run's model
  MediaSort sort = MediaSort::kDate;  // date: newest first, unknown dates last; score: best first
  int limit = 100;
  std::string cursor;         // a MediaPage::next_cursor from the same filter; "" = first page
};

// One file as the gallery shows it.
struct MediaItem {
  int64_t id = 0;
  std::string path;
  MediaKind kind = MediaKind::kImage;
  int width = 0;   // upright
  int height = 0;
  int orientation = 1;
  int64_t capture_time = 0;  // 0 = unknown
  double duration_s = 0;
  std::string content_hash;
  AnalysisStatus status = AnalysisStatus::kPending;
  std::string error;
  float best_score = 0;             // best among the filter's labels (any label without them)
  std::vector<std::string> labels;  // distinct labels (score >= min_score), best first
};

struct MediaPage {
  std::vector<MediaItem> items;
  std::string next_cursor;  // opaque; "" on the last page
};

struct MediaDetail {
  MediaItem item;
  std::vector<StoredDetection> detections;  // by time, then score
};

struct LabelCount {
  std::string label;
  int64_t files = 0;
};

struct ErrorPage {
  std::vector<ErrorRow> items;
  std::string next_cursor;  // "" on the last page
};

const char* AnalysisStatusName(AnalysisStatus status);  // "pending" | "done" | "failed"

class Catalog {
 public:
  virtual ~Catalog() = default;

  virtual Result<int64_t> RegisterModel(const ModelKey& model) = 0;  // idempotent
  virtual Result<int64_t> BeginRun(const RunInfo& run) = 0;
  virtual Status FinishRun(int64_t run_id, const RunCounts& counts) = 0;

  // Every non-gone file the catalog knows, for the incremental scan.
  virtual Result<std::vector<MediaRow>> LoadFileIndex() = 0;
  // Gone files with this content hash (a moved/renamed file keeps its results).
  virtual Result<std::vector<MediaRow>> FindGoneByHash(const std::string& content_hash) = 0;
  virtual Status ApplyScan(const ScanChanges& changes) = 0;

  // Present files that have no current (done or failed) result for this model, in path order,
  // at most `limit`; changed files count as pending again.
  virtual Result<std::vector<MediaRow>> PendingFor(int64_t model_id, int64_t limit) = 0;

  // Stores a batch: each file's detections (replacing older ones for this model), its analysis
  // status and metadata — all in ONE transaction. A crash loses at most this batch.
  virtual Status CommitBatch(int64_t model_id, int64_t run_id,
                             const std::vector<MediaResult>& results) = 0;

  virtual Result<std::vector<SearchHit>> Search(const SearchQuery& query) = 0;
  virtual Result<StatusSummary> Summary(int64_t model_id) = 0;  // 0 = latest model used
  virtual Result<std::vector<RunRow>> RecentRuns(int limit) = 0;
  virtual Result<std::vector<ErrorRow>> Errors(int64_t model_id, int limit) = 0;
  virtual Result<std::vector<ExportRow>> ExportAll(int64_t model_id) = 0;

  // Gallery reads. Not pure: a backend without them answers Unsupported (catalog.cpp).
  // Errors: InvalidArgument for a cursor this filter did not make.
  virtual Result<MediaPage> ListMedia(const MediaFilter& filter);
  // NotFound for an unknown (or gone) id.
  virtual Result<MediaDetail> GetMedia(int64_t id, int64_t model_id);
  // Labels starting with `prefix` (case-insensitive) with their file counts, most files first.
  virtual Result<std::vector<LabelCount>> Labels(const std::string& prefix, int limit, int64_t model_id);
  // Failed files in path order, paged.
  virtual Result<ErrorPage> ErrorsPage(int64_t model_id, int limit, const std::string& cursor);
};

// Opens (creating and migrating as needed) the catalog `path` names: a postgres:// or
// postgresql:// URL is a PostgreSQL database (postgres/), anything else an SQLite file (an
// optional "sqlite:" prefix is removed). A file or database that is not a mediadex catalog, or a
// damaged file, is a Corrupt error naming it; it is never overwritten. A newer schema than this
// build knows is Unsupported. Messages never show a URL's password.
Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& path);

}  // namespace mediadex::catalog

#endif  // MEDIADEX_CATALOG_CATALOG_H_
