// The library indexer: scan -> reconcile -> decode stages -> inference -> writer -> catalog.
//
//   pipeline::IndexOptions options;
//   options.roots = {"/home/me/Pictures"};
//   options.observer = &progress_bar;   // optional: pipeline/progress.h
//   options.cancel = &stop;             // optional: stop.Cancel() ends the run soon
//   auto summary = pipeline::RunIndex(*detector, *catalog, options);
//
// The stages are files of their own (stages/); index_run.h shows their threads and queues.
// Every stage is bounded. Decoded pixels (and the detector's working memory) are taken from one
// MemoryBudget sized from --max-memory, so a 100-megapixel panorama waits for room instead of
// breaking the ceiling. When the device says "out of memory", the batch is halved and retried,
// and the smaller batch size stays for the rest of the run (logged). Each batch's results and its
// files' status are committed in one transaction: killing the process loses at most the batches
// in flight, and the next run resumes with exactly the files that have no result yet.
#ifndef MEDIADEX_PIPELINE_INDEXER_H_
#define MEDIADEX_PIPELINE_INDEXER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/cancel.h"
#include "core/status.h"
#include "media/decoder.h"
#include "media/scan.h"
#include "model/detector.h"
#include "pipeline/progress.h"
#include "pipeline/shard.h"

namespace mediadex::pipeline {

// Where JPEGs are decoded (--decode). kCpu: by the decode workers. kGpu: with nvJPEG on each
// CUDA device the detectors run on; other formats, and JPEGs nvJPEG refuses, still on the CPU.
// kAuto: both at once where the detectors run on CUDA and nvJPEG starts, else the CPU alone.
enum class JpegDecode { kCpu, kGpu, kAuto };
Result<JpegDecode> ParseJpegDecode(const std::string& name);  // "cpu" | "gpu" | "auto"

struct IndexOptions {
  std::vector<std::string> roots;
  media::ScanOptions scan;
  media::DecodeOptions decode;  // target size: the model's input (fast) or 0 (exact)
  model::DetectOptions detect;
  std::string settings;  // what changes results, e.g. "score_min=0.2;iou=0.4;max=10"
  int batch_size = 64;   // images per forward pass at most
  int concurrency = 3;   // CPU decode workers
  JpegDecode jpeg_decode = JpegDecode::kAuto;
  int nvjpeg_workers = 1;            // per GPU, with kGpu or kAuto
  int gpu_huffman_workers = 0;       // per GPU beside them (engine::GpuJpegEngine::kGpuHuffman)
  uint64_t max_memory = 8ull << 30;  // peak RSS ceiling, bytes
  double video_interval_s = 2.0;
  // --shard I/N: only the files of this shard are scanned, reconciled (and so can be gone) and
  // analysed (shard.h). The default is the whole library.
  Shard shard;
  // Told of the scan, each committed batch, each failure and the end (progress.h); may be null.
  IndexObserver* observer = nullptr;
  // Cancelled (e.g. from SIGINT): the run stops after the batches in flight are committed and
  // returns a summary with `cancelled` set; what is not committed stays pending. May be null.
  const CancelToken* cancel = nullptr;
};

struct IndexSummary {
  // Scan
  int64_t scanned = 0, added = 0, changed = 0, moved = 0, gone = 0, unchanged = 0;
  std::vector<std::string> warnings;  // unreadable folders, broken symlinks ...
  // Analysis
  int64_t done = 0, failed = 0, video_frames = 0;
  double seconds = 0, scan_seconds = 0;
  double images_per_s = 0;
  // Time each stage spent working, summed over its threads (decode is parallel).
  double read_decode_s = 0, gpu_decode_s = 0, infer_s = 0, write_s = 0;
  int decode_workers = 0;           // CPU decode workers
  int gpu_decode_workers = 0;       // nvJPEG workers, all GPUs
  int64_t gpu_decoded = 0;          // JPEGs decoded by nvJPEG (the rest on the CPU)
  int gpu_huffman_workers = 0;      // GPU Huffman workers, all GPUs
  int64_t gpu_huffman_decoded = 0;  // of gpu_decoded, by them
  std::string gpu_decoder;          // its backend ("hardware", "cuda"); empty when none ran
  uint64_t peak_rss = 0;
  uint64_t budget_bytes = 0;  // bytes available to images in flight + inference
  int final_batch_size = 0;
  bool cancelled = false;
};

// The part of IndexOptions::settings that changes results: results computed with other values
// are kept apart, and files are analysed again for the new ones.
// `tiles` (model::TileSpec::ToString) joins them unless it is "off", so results from before
// tiling existed keep their key.
std::string ResultSettings(const model::DetectOptions& detect, const std::string& preprocess,
                           const std::string& tiles = "off");

// Steps 1-2 of RunIndex, shared with `index --enqueue`: scans options.roots (options.shard only),
// reconciles with the catalog and applies the changes, registers the model `info` with
// options.settings (*model_id) and returns the present files under the roots (and shard) that
// have no current result for it, in path order. Tells options.observer OnScanned.
Result<std::vector<catalog::MediaRow>> ScanForWork(catalog::Catalog& catalog, const model::ModelInfo& info,
                                                   const IndexOptions& options, IndexSummary* summary,
                                                   int64_t* model_id);

// Scans options.roots, reconciles with the catalog (new, changed, moved, gone files), then
// analyses every present file that has no current result for this detector and settings.
// Errors: only what stops the whole run (catalog unusable, memory limit below what the runtime
// already uses). A file that fails is recorded with its reason and counted in `failed`.
Result<IndexSummary> RunIndex(const model::Detector& detector, catalog::Catalog& catalog, const IndexOptions& options);

// The same with one inference worker per entry of `detectors`: one per GPU for multi-GPU runs,
// or one shared CPU detector listed N times for N single-threaded CPU workers. All must be the
// same model.
Result<IndexSummary> RunIndex(const std::vector<const model::Detector*>& detectors, catalog::Catalog& catalog,
                              const IndexOptions& options);

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_INDEXER_H_
