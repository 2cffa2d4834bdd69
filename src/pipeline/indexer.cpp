#include "pipeline/indexer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "core/bounded_queue.h"
#include "core/config.h"
#include "core/hash.h"
#include "core/memory.h"
#include "core/time_accumulator.h"
#include "engine/gpu_jpeg.h"
#include "media/probe.h"
#include "media/video.h"

namespace mediadex::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Working memory of one image in the detector, per input pixel. Measured for CenterNet at
// 512x512 on CPU (LibTorch 1.13, batch 1..16): RSS grows ~24 MiB per image, i.e. ~96 bytes per
// input pixel; doubled for headroom (allocator caching, oneDNN scratch).
constexpr uint64_t kInferenceBytesPerInputPixel = 192;
// Runtime overhead the budget does not see (queues, catalog page cache, allocator slack).
constexpr uint64_t kRuntimeSlackBytes = 96ull << 20;
// Threads per GPU that read, hash and check (GpuJpegDecoder::Check) the JPEGs for its nvJPEG
// workers: ~1 ms a 4 MB file, where the hardware decoder takes ~1.4 ms.
constexpr size_t kGpuFeeders = 2;
// JPEGs checked and waiting for a GPU's nvJPEG workers: one and a half batches of 64. More
// would leave the CPU decoders idle at the end of a run while nvJPEG works through them.
constexpr size_t kCheckedJpegsWaiting = 96;
// CPU-prepared inputs a GPU's upload thread moves in one go, at most: those waiting, since
// every CUDA call may wait ~2 ms for nvJPEG's decode (docs/performance.md).
constexpr size_t kUploadsTogether = 32;
// Share of a GPU's free memory (at start) that nvJPEG's decoded pixels and the prepared inputs
// waiting for the detector may take; the rest is the model's and its activations'.
constexpr uint64_t kGpuMemoryShare = 3;  // one third
// Decoded images a GPU run may queue, in batches: enough to keep the decoders going through
// the first forward pass at the batch's shape (seconds); memory budgets bound them first.
constexpr int kGpuQueuedBatches = 64;
// With nvJPEG running, CPU decoders run at this nice level (Linux): a JPEG through nvJPEG costs
// its feeder a few ms of CPU, through libjpeg-turbo ~30 ms, so a contended core is best spent
// keeping nvJPEG (and the detector) fed; the decoders take what is left.
constexpr int kCpuDecoderNiceWithGpu = 10;
// Videos are identified by a sampled hash: their size plus the first and last 4 MiB.
constexpr uint64_t kVideoHashSample = 4ull << 20;

// ---- scan reconciliation --------------------------------------------------------------------

bool UnderRoots(const std::string& path, const std::vector<std::string>& roots) {
  for (const auto& root : roots) {
    if (path == root) return true;
    if (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
        (root.back() == '/' || path[root.size()] == '/')) {
      return true;
    }
  }
  return false;
}

Result<std::string> HashFile(const std::string& path, bool sampled, uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError("cannot open for hashing");
  if (!sampled || size <= 2 * kVideoHashSample) {
    std::vector<char> bytes(size);
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)HashBytes(bytes.data(), static_cast<size_t>(in.gcount())));
    return std::string(hex);
  }
  std::vector<char> bytes(2 * kVideoHashSample + sizeof(uint64_t));
  in.read(bytes.data(), kVideoHashSample);
  in.seekg(static_cast<std::streamoff>(size - kVideoHashSample));
  in.read(bytes.data() + kVideoHashSample, kVideoHashSample);
  std::memcpy(bytes.data() + 2 * kVideoHashSample, &size, sizeof(size));
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)HashBytes(bytes.data(), bytes.size()));
  return std::string(hex);
}

struct Reconciled {
  catalog::ScanChanges changes;
  int64_t unchanged = 0;
};

// Compares what is on disk with what the catalog knows. Only stats (no reads) for unchanged
// files; a new file is hashed only when a file of the same size vanished (a move candidate).
Result<Reconciled> Reconcile(catalog::Catalog& catalog, const media::ScanReport& scan,
                             const std::vector<std::string>& roots) {
  auto index = catalog.LoadFileIndex();
  if (!index.ok()) return index.status();
  std::unordered_map<std::string, const catalog::MediaRow*> by_path;
  by_path.reserve(index->size());
  for (const auto& row : *index) by_path.emplace(row.path, &row);

  Reconciled r;
  std::unordered_set<std::string> seen;
  seen.reserve(scan.files.size());
  std::vector<const media::ScannedFile*> added;
  for (const auto& f : scan.files) {
    seen.insert(f.path);
    auto it = by_path.find(f.path);
    catalog::FileStat stat{f.path, f.size, f.mtime_ns,
                           f.is_video ? catalog::MediaKind::kVideo : catalog::MediaKind::kImage};
    if (it == by_path.end()) {
      added.push_back(&f);
    } else if (it->second->size != f.size || it->second->mtime_ns != f.mtime_ns) {
      r.changes.changed.emplace_back(it->second->id, stat);
    } else {
      ++r.unchanged;
    }
  }
  // Vanished files under the scanned roots, by size, as move candidates.
  std::unordered_multimap<uint64_t, const catalog::MediaRow*> missing_by_size;
  std::unordered_set<int64_t> missing;
  for (const auto& row : *index) {
    if (!seen.count(row.path) && UnderRoots(row.path, roots)) {
      missing.insert(row.id);
      if (!row.content_hash.empty()) missing_by_size.emplace(row.size, &row);
    }
  }
  for (const auto* f : added) {
    catalog::FileStat stat{f->path, f->size, f->mtime_ns,
                           f->is_video ? catalog::MediaKind::kVideo : catalog::MediaKind::kImage};
    bool moved = false;
    auto [begin, end] = missing_by_size.equal_range(f->size);
    if (begin != end) {
      auto hash = HashFile(f->path, f->is_video, f->size);
      for (auto it = begin; hash.ok() && it != end; ++it) {
        if (missing.count(it->second->id) && it->second->content_hash == *hash) {
          r.changes.moved.emplace_back(it->second->id, f->path);
          // Same bytes, new timestamp (a copy rather than a rename): record the new mtime.
          if (it->second->mtime_ns != f->mtime_ns) r.changes.changed.emplace_back(it->second->id, stat);
          missing.erase(it->second->id);
          moved = true;
          break;
        }
      }
    }
    if (!moved) r.changes.added.push_back(stat);
  }
  r.changes.gone.assign(missing.begin(), missing.end());
  std::sort(r.changes.gone.begin(), r.changes.gone.end());
  return r;
}

// ---- the analysis pipeline ------------------------------------------------------------------

// One unit of work between the decoders and the detector: a photo, one frame of a video, or a
// file that already failed (passed through so the writer records it).
struct WorkItem {
  int64_t media_id = 0;
  std::string path;
  Status status;                // !ok: failed before inference
  std::optional<RgbImage> image;
  uint64_t bytes_held = 0;      // taken from the budget; released after inference
  MemoryBudget* device_memory = nullptr;  // a GPU's, for an input prepared there
  uint64_t device_bytes_held = 0;         // taken from it; released after inference
  catalog::MediaResult meta;    // hash, size, orientation, capture time
  bool is_video = false;
  double time_s = -1;           // video frame time
  int frame_index = 0;          // for videos: 0, 1, 2 ... in the order the decoder pushed them
  bool last_frame = true;       // for videos: the final item of this file
};

// A JPEG read and passed by GpuJpegDecoder::Check, waiting for an nvJPEG batch (or, at the
// end of a run, a CPU decoder with nothing else to do). input.data points into bytes.
struct CheckedJpeg {
  WorkItem item;
  std::vector<uint8_t> bytes;
  media::ImageInfo info;
  engine::GpuJpegDecoder::Input input;
};

// nvJPEG workers to start on one GPU, and the detector there that prepares what they decode.
struct GpuDecodePlan {
  const model::Detector* detector = nullptr;
  int workers = 1;
};

void LowerThisThreadsPriority(int nice) {
#if defined(__linux__)
  // Linux applies a thread id's nice level to that thread alone.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
#else
  (void)nice;
#endif
}

uint64_t PowerOfTwoAtLeast(uint64_t n) {
  uint64_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

bool HasJpegExtension(const std::string& path) {
  const std::string ext = media::ExtensionOf(path);
  return ext == "jpg" || ext == "jpeg" || ext == "jpe" || ext == "jfif";
}

class IndexRun {
 public:
  IndexRun(std::vector<const model::Detector*> detectors, std::vector<GpuDecodePlan> gpu_plans,
           catalog::Catalog& catalog, const IndexOptions& options, int64_t model_id, int64_t run_id,
           std::vector<catalog::MediaRow> pending, uint64_t budget_bytes)
      : detectors_(std::move(detectors)),
        gpu_plans_(std::move(gpu_plans)),
        catalog_(catalog),
        options_(options),
        model_id_(model_id),
        run_id_(run_id),
        pending_(std::move(pending)),
        budget_(budget_bytes),
        batch_limit_(BatchLimit(detectors_, options.batch_size)),
        results_(4) {
    // A queue of decoded photos per distinct detector: a photo prepared on a GPU waits for that
    // GPU's inference worker (no copies between GPUs); CPU workers share one detector and queue.
    for (const model::Detector* d : detectors_) {
      if (std::find(lanes_.begin(), lanes_.end(), d) != lanes_.end()) continue;
      lanes_.push_back(d);
      decoded_.push_back(std::make_unique<BoundedQueue<WorkItem>>(QueueCapacity(detectors_, batch_limit_)));
      uploads_.push_back(d->UploadsPreparedInputs()
                             ? std::make_unique<BoundedQueue<WorkItem>>(static_cast<size_t>(std::max(4, 2 * batch_limit_)))
                             : nullptr);
      const bool nvjpeg = std::any_of(gpu_plans_.begin(), gpu_plans_.end(), [d](const GpuDecodePlan& p) { return p.detector == d; });
      checked_.push_back(nvjpeg ? std::make_unique<BoundedQueue<CheckedJpeg>>(kCheckedJpegsWaiting) : nullptr);
    }
    // Each CUDA GPU's share for decoded pixels and the prepared inputs waiting for its detector.
    for (const model::Detector* d : detectors_) {
      const engine::DeviceInfo& device = d->device();
      if (device.kind != engine::DeviceKind::kCuda || device_memory_.count(device.index)) continue;
      const uint64_t free = device.memory_free != 0 ? device.memory_free : device.memory_total;
      device_memory_.emplace(device.index, std::make_unique<MemoryBudget>(free / kGpuMemoryShare));
    }
    // With GPU decoders, JPEGs (by name; the content is checked) form a list of their own:
    // GPU decoders take only those, CPU decoders everything else first.
    for (size_t i = 0; i < pending_.size(); ++i) {
      const bool jpeg = !gpu_plans_.empty() && pending_[i].kind == catalog::MediaKind::kImage &&
                        HasJpegExtension(pending_[i].path);
      (jpeg ? jpegs_ : others_).push_back(i);
    }
  }

  Status Run(IndexSummary* summary) {
    start_ = Clock::now();
    process_cpu_at_start_ = ProcessCpuMicros();
    const auto& info = detectors_.front()->info();
    const int input_pixels = info.input_width * info.input_height;
    host_input_bytes_ = static_cast<uint64_t>(input_pixels) * 3 * sizeof(float);
    // A CUDA GPU works in its own memory: the host holds at most a batch's inputs. Elsewhere
    // (CPU, and MPS, whose memory is the host's) the detector's working memory is RSS.
    const bool cuda = detectors_.front()->device().kind == engine::DeviceKind::kCuda;
    // Inputs of nvJPEG's photos wait in the GPU's memory, budgeted at the next power of two
    // (3 MiB: 4) for the caching allocator's rounding and fragmentation.
    device_input_bytes_ = PowerOfTwoAtLeast(host_input_bytes_);
    per_image_infer_bytes_ = cuda ? device_input_bytes_ : static_cast<uint64_t>(input_pixels) * kInferenceBytesPerInputPixel;
    // The detectors' working memory for a full batch each is reserved up front, so that
    // decoders can never take the room inference needs. Half the budget at most; the batch
    // shrinks to fit.
    const uint64_t workers = detectors_.size();
    batch_size_ = std::max(1, std::min<int>(batch_limit_,
                                            static_cast<int>(budget_.limit() / 2 / workers / per_image_infer_bytes_)));
    if (batch_size_ < options_.batch_size) {
      spdlog::info("batch size {} -> {} to fit --max-memory {}", options_.batch_size, batch_size_,
                   FormatBytes(options_.max_memory));
    }
    if (!budget_.Acquire(per_image_infer_bytes_ * batch_size_ * workers)) {
      return InvalidArgument("--max-memory is too small for even one image in the detector");
    }
    decoders_allowed_ = std::max(1, options_.concurrency);

    std::thread writer([&] { WriterLoop(); });
    std::vector<std::thread> decoders;
    for (int i = 0; i < decoders_allowed_; ++i) decoders.emplace_back([this, i] { DecodeLoop(i); });
    // nvJPEG's threads say when they have decoded their last JPEG, then stop nvJPEG while the
    // last batches run through the detector: on the run's path, stopping it (its CUDA context)
    // took the last 0.2-0.3 s of a 3 s run (docs/performance.md).
    std::vector<std::promise<void>> gpu_decoding_done(gpu_plans_.size());
    std::vector<std::thread> gpu_decoders;
    for (size_t i = 0; i < gpu_plans_.size(); ++i) {
      gpu_decoders.emplace_back([this, &plan = gpu_plans_[i], &done = gpu_decoding_done[i]] {
        const auto stopping = GpuDecodeLoop(plan, [&done] { done.set_value(); });
        spdlog::debug("{}: nvJPEG stopped in {:.2f} s, off the run's path", plan.detector->device().name, stopping);
      });
    }
    std::vector<std::thread> uploaders;
    for (size_t lane = 0; lane < lanes_.size(); ++lane) {
      if (uploads_[lane]) uploaders.emplace_back([this, lane] { UploadLoop(lane); });
    }
    std::thread closer([&] {
      for (auto& t : decoders) t.join();
      for (auto& done : gpu_decoding_done) done.get_future().wait();
      retried_ = true;
      while (auto row = retry_.PopFor(std::chrono::milliseconds(0))) {
        Inbox(0).Push(DecodeImageFile(*row, *lanes_.front()));
      }
      for (auto& queue : uploads_) {
        if (queue) queue->Close();
      }
      for (auto& t : uploaders) t.join();
      for (auto& queue : decoded_) queue->Close();
      spdlog::debug("every file decoded {:.2f} s into the run; CPU decoders out of work {:.2f} to {:.2f} s into it",
                    Since(start_), cpu_decoders_done_.first(), cpu_decoders_done_.last());
    });
    // One inference worker per detector (a GPU each, or CPU workers sharing one detector);
    // this thread is the first.
    std::vector<std::thread> inference;
    for (size_t i = 1; i < detectors_.size(); ++i) {
      inference.emplace_back([this, i] { InferLoop(*detectors_[i]); });
    }
    InferLoop(*detectors_.front());
    for (auto& t : inference) t.join();
    closer.join();
    results_.Close();
    writer.join();
    for (auto& t : gpu_decoders) t.join();

    summary->done = committed_done_;
    summary->failed = committed_failed_;
    summary->video_frames = video_frames_.load();
    summary->decode_workers = std::max(1, options_.concurrency);
    summary->gpu_decoded = gpu_decoded_.load();
    {
      std::lock_guard<std::mutex> lock(gpu_start_mu_);
      summary->gpu_decode_workers = gpu_workers_started_;
      summary->gpu_decoder = gpu_backend_;
    }
    summary->read_decode_s = decode_time_.seconds();
    summary->gpu_decode_s = gpu_decode_time_.seconds();
    spdlog::debug("inference waited {:.2f} s for decoded photos", infer_wait_time_.seconds());
    if (cpu_phases_.files > 0) {
      spdlog::debug("CPU decodes of {} images, summed: reading {:.2f} s, decoding {:.2f} s, preparing {:.2f} s, "
                    "handing over {:.2f} s",
                    cpu_phases_.files.load(), cpu_phases_.read.seconds(), cpu_phases_.decode.seconds(),
                    cpu_phases_.prepare.seconds(), cpu_phases_.handoff.seconds());
    }
    if (summary->gpu_decode_workers > 0) {
      spdlog::debug("nvJPEG feeders and workers, summed: reading {:.2f} s, checking {:.2f} s, waiting for room "
                    "{:.2f} s; waiting for JPEGs {:.2f} s, nvJPEG {:.2f} s, preparing {:.2f} s, CPU fallback {:.2f} s",
                    gpu_phases_.read.seconds(), gpu_phases_.check.seconds(), gpu_phases_.queue_full.seconds(),
                    gpu_phases_.starved.seconds(), gpu_phases_.nvjpeg.seconds(), gpu_phases_.prepare.seconds(),
                    gpu_phases_.cpu.seconds());
    }
    spdlog::debug("CPU time used in {:.2f} s: {:.2f} s by the whole process; CPU decoders {:.2f} s, nvJPEG feeders "
                  "{:.2f} s, nvJPEG workers {:.2f} s, uploads {:.2f} s, inference {:.2f} s",
                  Since(start_), static_cast<double>(ProcessCpuMicros() - process_cpu_at_start_) / 1e6,
                  cpu_used_.decoders.seconds(), cpu_used_.nvjpeg_feeders.seconds(), cpu_used_.nvjpeg_workers.seconds(),
                  cpu_used_.upload.seconds(), cpu_used_.inference.seconds());
    summary->infer_s = infer_time_.seconds();
    summary->write_s = write_time_.seconds();
    summary->final_batch_size = batch_size_;
    summary->budget_bytes = budget_.limit();
    summary->cancelled = Cancelled();
    if (!writer_status_.ok()) return writer_status_;
    std::lock_guard<std::mutex> lock(gpu_start_mu_);
    return gpu_start_error_;
  }

 private:
  // A CPU detector runs one image per forward pass (model/centernet_detector.cpp), so a bigger
  // batch there would only hold decoded photos in memory: 64 of them cost 2 GiB of RSS in the
  // 500-photo benchmark. GPUs take the configured batch.
  static int BatchLimit(const std::vector<const model::Detector*>& detectors, int configured) {
    constexpr int kCpuBatch = 4;
    const bool cpu = detectors.front()->device().kind == engine::DeviceKind::kCpu;
    return std::max(1, cpu ? std::min(configured, kCpuBatch) : configured);
  }

  // Two batches in waiting, or on CUDA many (kGpuQueuedBatches): a GPU run's first forward
  // pass takes seconds, and its prepared inputs are small and bounded by the memory budgets.
  static size_t QueueCapacity(const std::vector<const model::Detector*>& detectors, int batch) {
    const bool cuda = detectors.front()->device().kind == engine::DeviceKind::kCuda;
    return static_cast<size_t>(std::max(4, batch * (cuda ? kGpuQueuedBatches : 2)));
  }

  bool Cancelled() const {
    return stop_.load() || (options_.cancel != nullptr && options_.cancel->load());
  }

  // ---- decode stage: N workers, each takes the next pending file --------------------------
  // The next file for a decoder: CPU decoders take everything but JPEGs first (only they can
  // decode it), then JPEGs unless --decode gpu; GPU decoders take JPEGs only.
  const catalog::MediaRow* NextRow(bool gpu) {
    if (!gpu) {
      const size_t i = next_other_.fetch_add(1);
      if (i < others_.size()) return &pending_[others_[i]];
      if (options_.jpeg_decode == JpegDecode::kGpu && !gpu_plans_.empty()) return nullptr;
    }
    const size_t i = next_jpeg_.fetch_add(1);
    return i < jpegs_.size() ? &pending_[jpegs_[i]] : nullptr;
  }

  void DecodeLoop(int worker) {
    const ThreadCpuTime cpu(cpu_used_.decoders);
    if (!gpu_plans_.empty()) LowerThisThreadsPriority(kCpuDecoderNiceWithGpu);
    // The detector that prepares this worker's photos: with several GPUs, each takes its share.
    const size_t lane = static_cast<size_t>(worker) % lanes_.size();
    const model::Detector& detector = *lanes_[lane];
    for (const catalog::MediaRow* next; !Cancelled() && worker < decoders_allowed_.load() && (next = NextRow(false));) {
      const auto start = Clock::now();
      const catalog::MediaRow& row = *next;
      if (row.kind == catalog::MediaKind::kVideo) {
        DecodeVideo(row, lane);
      } else {
        WorkItem item = DecodeImageFile(row, detector);
        if (item.status.code() == StatusCode::kOutOfMemory && !retried_) {
          // The allocator refused: fewer decoders from now on; the file is retried alone once
          // every decoder has stopped.
          decoders_allowed_ = std::max(1, decoders_allowed_.load() / 2);
          spdlog::warn("{}: out of memory while decoding; decode concurrency now {}", row.path,
                       decoders_allowed_.load());
          retry_.Push(row);
          decode_time_.Add(start);
          return;
        }
        const auto handing = Clock::now();
        Inbox(lane).Push(std::move(item));
        cpu_phases_.handoff.Add(handing);
      }
      decode_time_.Add(start);
    }
    // Out of files: the JPEGs still waiting for nvJPEG, so that the run ends when both are done.
    while (!Cancelled() && worker < decoders_allowed_.load()) {
      std::optional<CheckedJpeg> jpeg = TakeCheckedJpeg();
      if (!jpeg) break;
      const auto start = Clock::now();
      DecodeOnCpu(&jpeg->item, &jpeg->bytes, jpeg->info, detector);
      Inbox(lane).Push(std::move(jpeg->item));
      decode_time_.Add(start);
    }
    cpu_decoders_done_.Add(Since(start_));
  }

  WorkItem DecodeImageFile(const catalog::MediaRow& row, const model::Detector& detector) {
    std::vector<uint8_t> bytes;
    media::ImageInfo info;
    const auto start = Clock::now();
    WorkItem item = ReadImageFile(row, &bytes, &info);
    cpu_phases_.read.Add(start);
    if (item.status.ok()) DecodeOnCpu(&item, &bytes, info, detector);
    return item;
  }

  // The whole file into memory (one read, hashed and decoded from the same bytes, which hold
  // their size of the budget) and its headers. On failure item.status says why.
  WorkItem ReadImageFile(const catalog::MediaRow& row, std::vector<uint8_t>* bytes, media::ImageInfo* info) {
    WorkItem item;
    item.media_id = row.id;
    item.path = row.path;
    item.meta.media_id = row.id;
    try {
      std::ifstream in(row.path, std::ios::binary | std::ios::ate);
      if (!in) {
        item.status = IOError(std::string("cannot open: ") + std::strerror(errno));
        return item;
      }
      const uint64_t size = static_cast<uint64_t>(in.tellg());
      if (!budget_.Acquire(size)) {
        item.status = InvalidArgument("file of " + FormatBytes(size) + " does not fit --max-memory");
        return item;
      }
      bytes->resize(size);
      in.seekg(0);
      in.read(reinterpret_cast<char*>(bytes->data()), static_cast<std::streamsize>(size));
      char hex[17];
      std::snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)HashBytes(bytes->data(), bytes->size()));
      item.meta.content_hash = hex;
      auto probed = media::ProbeImage(bytes->data(), bytes->size(), options_.decode);
      if (!probed.ok()) {
        ReleaseBytes(bytes);
        item.status = probed.status();
        return item;
      }
      *info = *probed;
      item.meta.width = info->width;
      item.meta.height = info->height;
      item.meta.orientation = info->orientation;
      item.meta.capture_time = info->capture_time;
    } catch (const std::bad_alloc&) {
      ReleaseBytes(bytes);
      item.status = OutOfMemory("allocation failed while reading");
    }
    return item;
  }

  void ReleaseBytes(std::vector<uint8_t>* bytes) {
    budget_.Release(bytes->size());
    std::vector<uint8_t>().swap(*bytes);
  }

  // Decodes the file's bytes (then released) on this thread and prepares the image.
  void DecodeOnCpu(WorkItem* item, std::vector<uint8_t>* bytes, const media::ImageInfo& info,
                   const model::Detector& detector) {
    try {
      if (!budget_.Acquire(info.decode_bytes)) {
        ReleaseBytes(bytes);
        item->status = InvalidArgument("decoding needs " + FormatBytes(info.decode_bytes) +
                                       ", more than --max-memory allows");
        return;
      }
      auto start = Clock::now();
      auto image = media::DecodeImage(bytes->data(), bytes->size(), options_.decode);
      cpu_phases_.decode.Add(start);
      ReleaseBytes(bytes);
      if (!image.ok()) {
        budget_.Release(info.decode_bytes);
        item->status = image.status();
        return;
      }
      item->image = std::move(image).value();
      start = Clock::now();
      Prepare(item, info.decode_bytes, detector);
      cpu_phases_.prepare.Add(start);
      ++cpu_phases_.files;
    } catch (const std::bad_alloc&) {
      item->status = OutOfMemory("allocation failed while decoding");
    }
  }

  // The detector's own preprocessing, here on a decode thread (model::Detector::Prepare), of
  // pixels decoded on the CPU. The item then holds what it keeps, on the host even for a GPU
  // detector (the upload stage moves it; `acquired` host bytes were taken for it; the rest
  // goes back).
  void Prepare(WorkItem* item, uint64_t acquired, const model::Detector& detector) {
    Status prepared = detector.Prepare(&*item->image);
    const uint64_t held = item->image->prepared ? host_input_bytes_ : item->image->pixels.size();
    if (!prepared.ok() || (held > acquired && !budget_.Acquire(held - acquired))) {
      budget_.Release(acquired);
      item->image.reset();
      item->status = prepared.ok() ? InvalidArgument("the prepared image does not fit --max-memory") : prepared;
      return;
    }
    if (held < acquired) budget_.Release(acquired - held);
    item->bytes_held = held;
  }

  size_t LaneOf(const model::Detector* detector) const {
    return static_cast<size_t>(std::find(lanes_.begin(), lanes_.end(), detector) - lanes_.begin());
  }

  // The memory budget of a CUDA detector's GPU; nullptr for other devices.
  MemoryBudget* DeviceMemoryOf(const model::Detector& detector) {
    if (detector.device().kind != engine::DeviceKind::kCuda) return nullptr;
    return device_memory_.at(detector.device().index).get();
  }

  // ---- GPU decode stage, per GPU: feeders read and check, nvJPEG workers decode ----------
  // One thread per GPU takes nvJPEG's context there (started while the model loaded, see
  // GpuJpegDecoder::StartInBackground; else ~0.6 s on an H100 while the CPU decoders already
  // work) and starts the plan's nvJPEG workers and kGpuFeeders feeders, which share it.
  // nvJPEG's batched decode returns only when its batch is nearly done, and the GPU's one
  // hardware decoder serves a call at a time, so the feeders read, hash and check the next
  // files meanwhile: the decoder never waits for files. If nvJPEG cannot start, --decode
  // auto leaves the JPEGs to the CPU decoders; --decode gpu fails the run.
  // Calls `decoded_all` once no JPEG is left for its GPU (also when nvJPEG did not start), then
  // stops nvJPEG there; returns the seconds that took.
  double GpuDecodeLoop(const GpuDecodePlan& plan, const std::function<void()>& decoded_all) {
    const engine::DeviceInfo& device = plan.detector->device();
    BoundedQueue<CheckedJpeg>& checked = *checked_[LaneOf(plan.detector)];
    std::vector<std::unique_ptr<engine::GpuJpegDecoder>> decoders;  // the workers', then the feeders'
    auto first = engine::GpuJpegDecoder::Create(device);
    for (int i = 1; first.ok() && i < plan.workers + static_cast<int>(kGpuFeeders); ++i) {
      auto another = (*first)->AnotherWorker();
      if (!another.ok()) {
        first = another.status();
        break;
      }
      decoders.push_back(std::move(another).value());
    }
    {
      std::lock_guard<std::mutex> lock(gpu_start_mu_);
      if (!first.ok()) {
        checked.Close();
        if (options_.jpeg_decode == JpegDecode::kGpu) {
          if (gpu_start_error_.ok()) gpu_start_error_ = first.status().WithContext("--decode gpu");
        } else {
          spdlog::info("{}: JPEGs are decoded on the CPU ({})", device.name, first.status().message());
        }
        decoded_all();
        return 0;
      }
      decoders.insert(decoders.begin(), std::move(first).value());
      gpu_workers_started_ += plan.workers;
      gpu_backend_ = decoders.front()->backend();
    }
    spdlog::debug("{}: {} nvJPEG workers and {} feeders ready {:.2f} s into the run", device.name, plan.workers,
                  kGpuFeeders, Since(start_));
    std::atomic<size_t> feeding{kGpuFeeders};
    std::vector<std::thread> threads;
    for (size_t i = 0; i < decoders.size(); ++i) {
      threads.emplace_back([&, i] {
        if (i < static_cast<size_t>(plan.workers)) {
          const ThreadCpuTime cpu(cpu_used_.nvjpeg_workers);
          return DecodeJpegBatches(*decoders[i], *plan.detector, checked);
        }
        {
          const ThreadCpuTime cpu(cpu_used_.nvjpeg_feeders);
          FeedJpegs(*decoders[i], *plan.detector, checked);
        }
        if (--feeding == 0) checked.Close();
      });
    }
    for (auto& t : threads) t.join();
    decoded_all();
    const auto stopping = Clock::now();
    decoders.clear();
    return std::chrono::duration<double>(Clock::now() - stopping).count();
  }

  // A feeder: takes the next JPEG, reads and checks it, and hands it to the workers if nvJPEG
  // takes it. Files that are no JPEG inside or that nvJPEG refuses (progressive on the
  // hardware decoder, CMYK, damaged...) it decodes on the CPU itself, quietly.
  void FeedJpegs(engine::GpuJpegDecoder& checker, const model::Detector& detector, BoundedQueue<CheckedJpeg>& checked) {
    const size_t lane = LaneOf(&detector);
    for (const catalog::MediaRow* row; !Cancelled() && (row = NextRow(true));) {
      CheckedJpeg jpeg;
      auto start = Clock::now();
      jpeg.item = ReadImageFile(*row, &jpeg.bytes, &jpeg.info);
      gpu_phases_.read.Add(start);
      start = Clock::now();
      jpeg.input = {jpeg.bytes.data(), jpeg.bytes.size(), jpeg.info.orientation};
      const Status nvjpeg_takes = !jpeg.item.status.ok() ? jpeg.item.status
                                  : jpeg.info.format != media::ImageFormat::kJpeg ? Unsupported("not a JPEG inside")
                                                                                   : checker.Check(&jpeg.input);
      gpu_phases_.check.Add(start);
      if (nvjpeg_takes.ok()) {
        start = Clock::now();
        checked.Push(std::move(jpeg));  // moving the bytes keeps their buffer, which input points into
        gpu_phases_.queue_full.Add(start);
        continue;
      }
      if (jpeg.item.status.ok()) {
        spdlog::debug("{}: decoded on the CPU: {}", jpeg.item.path, nvjpeg_takes.message());
        start = Clock::now();
        DecodeOnCpu(&jpeg.item, &jpeg.bytes, jpeg.info, detector);
        gpu_phases_.cpu.Add(start);
      }
      Inbox(lane).Push(std::move(jpeg.item));
    }
  }

  // An nvJPEG worker: decodes what the feeders checked on its GPU, in batches of up to the
  // batch size (as far as their pixels fit the GPU's share; the rest, and what nvJPEG still
  // refuses, on the CPU here), and prepares them there.
  void DecodeJpegBatches(engine::GpuJpegDecoder& decoder, const model::Detector& detector,
                         BoundedQueue<CheckedJpeg>& checked) {
    MemoryBudget& gpu_memory = *DeviceMemoryOf(detector);
    const size_t lane = LaneOf(&detector);
    while (true) {
      // What the feeders have ready, and what they bring while the batch fills.
      const auto waiting = Clock::now();
      std::vector<CheckedJpeg> batch = checked.PopBatch(static_cast<size_t>(batch_size_), std::chrono::milliseconds(2));
      gpu_phases_.starved.Add(waiting);
      if (batch.empty()) {
        spdlog::debug("{}: nvJPEG worker out of JPEGs {:.2f} s into the run", detector.device().name, Since(start_));
        break;
      }
      if (Cancelled()) {  // not analysed: they stay pending for the next run
        for (CheckedJpeg& jpeg : batch) ReleaseBytes(&jpeg.bytes);
        continue;
      }
      const auto start = Clock::now();
      const auto device_bytes = [&](size_t k) {
        return static_cast<uint64_t>(batch[k].info.width) * batch[k].info.height * 3 + device_input_bytes_;
      };
      size_t fit = 0;  // the first `fit` go to nvJPEG
      uint64_t fit_bytes = 0;
      while (fit < batch.size() && fit_bytes + device_bytes(fit) <= gpu_memory.limit()) fit_bytes += device_bytes(fit++);
      if (!gpu_memory.Acquire(fit_bytes)) fit = 0;
      std::vector<engine::GpuJpegDecoder::Input> inputs;
      for (size_t k = 0; k < fit; ++k) inputs.push_back(batch[k].input);
      std::vector<Result<RgbImage>> decoded = decoder.Decode(inputs);
      auto phase = Clock::now();
      gpu_phases_.nvjpeg.Add(start);
      if (!first_nvjpeg_batch_logged_.exchange(true)) {
        spdlog::debug("{}: first nvJPEG batch ({} files, taken {:.2f} s into the run) decoded {:.2f} s into the run",
                      detector.device().name, fit, std::chrono::duration<double>(start - start_).count(), Since(start_));
      }
      std::vector<bool> done(batch.size(), false);
      for (size_t k = 0; k < fit; ++k) {
        WorkItem& item = batch[k].item;
        // The pixels go back to the GPU's allocator once prepared; the input stays until inference.
        gpu_memory.Release(device_bytes(k) - device_input_bytes_);
        if (!decoded[k].ok()) {
          gpu_memory.Release(device_input_bytes_);
          spdlog::debug("{}: decoded on the CPU: {}", item.path, decoded[k].status().message());
          continue;
        }
        ReleaseBytes(&batch[k].bytes);
        item.image = std::move(decoded[k]).value();
        Status prepared = detector.Prepare(&*item.image);  // queued on its GPU; no host memory held
        if (prepared.ok()) {
          item.device_memory = &gpu_memory;
          item.device_bytes_held = device_input_bytes_;
        } else {
          gpu_memory.Release(device_input_bytes_);
          item.image.reset();
          item.status = prepared;
        }
        ++gpu_decoded_;
        done[k] = true;
      }
      gpu_phases_.prepare.Add(phase);
      phase = Clock::now();
      for (size_t k = 0; k < batch.size(); ++k) {
        if (!done[k] && batch[k].item.status.ok()) DecodeOnCpu(&batch[k].item, &batch[k].bytes, batch[k].info, detector);
      }
      gpu_phases_.cpu.Add(phase);
      gpu_decode_time_.Add(start);
      for (size_t k = 0; k < batch.size(); ++k) (done[k] ? *decoded_[lane] : Inbox(lane)).Push(std::move(batch[k].item));
    }
  }

  void DecodeVideo(const catalog::MediaRow& row, size_t lane) {
    const model::Detector& detector = *lanes_[lane];
    BoundedQueue<WorkItem>& decoded = Inbox(lane);
    int pushed = 0;  // frames handed to the detectors so far
    auto push_failure = [&](const Status& status) {
      WorkItem item;
      item.media_id = row.id;
      item.path = row.path;
      item.is_video = true;
      item.status = status;
      item.frame_index = pushed;
      decoded.Push(std::move(item));
    };
    auto hash = HashFile(row.path, /*sampled=*/true, row.size);
    if (!hash.ok()) return push_failure(hash.status());
    auto video = media::VideoFrames::Open(row.path, options_.decode);
    if (!video.ok()) return push_failure(video.status());
    catalog::MediaResult meta;
    meta.media_id = row.id;
    meta.content_hash = *hash;
    meta.width = (*video)->info().width;
    meta.height = (*video)->info().height;
    meta.duration_s = (*video)->info().duration_s;
    std::optional<WorkItem> previous;  // held back one frame so the last can be marked
    while (!Cancelled()) {
      const uint64_t bytes = (*video)->frame_bytes();
      if (!budget_.Acquire(bytes)) return push_failure(InvalidArgument("video frame does not fit --max-memory"));
      RgbImage frame;
      double t = 0;
      auto more = (*video)->Next(options_.video_interval_s, &frame, &t);
      if (!more.ok() || !*more) {
        budget_.Release(bytes);
        if (!more.ok()) {
          if (previous) budget_.Release(previous->bytes_held);
          return push_failure(more.status());
        }
        break;
      }
      WorkItem item;
      item.media_id = row.id;
      item.path = row.path;
      item.is_video = true;
      item.meta = meta;
      item.time_s = t;
      item.image = std::move(frame);
      item.last_frame = false;
      Prepare(&item, bytes, detector);
      if (previous) {
        decoded.Push(std::move(*previous));
        ++pushed;
      }
      item.frame_index = pushed;
      previous = std::move(item);
    }
    if (Cancelled()) {  // an unfinished video stays pending: never commit part of it
      if (previous) budget_.Release(previous->bytes_held);
      return;
    }
    if (previous) {
      previous->last_frame = true;
      decoded.Push(std::move(*previous));
    } else {
      WorkItem item;  // a video with no frame: done, nothing found
      item.media_id = row.id;
      item.path = row.path;
      item.is_video = true;
      item.meta = meta;
      decoded.Push(std::move(item));
    }
  }

  // A JPEG the feeders checked for nvJPEG, for a CPU decoder that ran out of files (--decode
  // auto): at the end of a run nvJPEG's queue is the last work left. nullopt when none waits.
  std::optional<CheckedJpeg> TakeCheckedJpeg() {
    if (options_.jpeg_decode != JpegDecode::kAuto) return std::nullopt;
    for (auto& queue : checked_) {
      if (!queue) continue;
      if (auto jpeg = queue->PopFor(std::chrono::milliseconds(0))) return jpeg;
    }
    return std::nullopt;
  }

  // Where a decoder hands a CPU-decoded photo of `lane`: its upload queue if it has one, else
  // the detector's queue.
  BoundedQueue<WorkItem>& Inbox(size_t lane) { return uploads_[lane] ? *uploads_[lane] : *decoded_[lane]; }

  // ---- upload stage: one thread per GPU whose detector UploadsPreparedInputs ---------------
  // CPU-prepared inputs move into the GPU's memory (its budget) here, at normal priority, so
  // CPU decoders make no CUDA call and Detect only gathers. Inputs go up together, as many as
  // are waiting: each CUDA call may wait for nvJPEG's decode. An input that cannot move stays
  // on the host; Detect uploads it itself.
  void UploadLoop(size_t lane) {
    const ThreadCpuTime cpu(cpu_used_.upload);
    const model::Detector& detector = *lanes_[lane];
    MemoryBudget* gpu_memory = DeviceMemoryOf(detector);  // none: the device shares the host's
    const uint64_t device_bytes = gpu_memory != nullptr ? device_input_bytes_ : 0;
    while (true) {
      std::vector<WorkItem> items = uploads_[lane]->PopBatch(kUploadsTogether, std::chrono::milliseconds(0));
      if (items.empty()) break;
      std::vector<WorkItem*> moving;
      std::vector<RgbImage*> images;
      for (WorkItem& item : items) {
        if (item.status.ok() && item.image && item.image->prepared &&
            (gpu_memory == nullptr || gpu_memory->Acquire(device_bytes))) {
          moving.push_back(&item);
          images.push_back(&*item.image);
        }
      }
      // Where its time goes, the detector logs (-v).
      const Status uploaded = images.empty() ? Status::Ok() : detector.Upload(images);
      for (WorkItem* item : moving) {
        if (uploaded.ok()) {
          budget_.Release(item->bytes_held);
          item->bytes_held = 0;
          item->device_memory = gpu_memory;
          item->device_bytes_held = device_bytes;
        } else {
          if (gpu_memory != nullptr) gpu_memory->Release(device_bytes);
          spdlog::debug("{}: input left on the host: {}", item->path, uploaded.message());
        }
      }
      for (WorkItem& item : items) decoded_[lane]->Push(std::move(item));
    }
  }

  // ---- batcher + detector: one loop per inference worker ----------------------------------
  void InferLoop(const model::Detector& detector) {
    const ThreadCpuTime cpu(cpu_used_.inference);
    BoundedQueue<WorkItem>& decoded = *decoded_[LaneOf(&detector)];
    while (true) {
      const auto waiting = Clock::now();
      // What is ready; not waiting long for stragglers.
      std::vector<WorkItem> batch = decoded.PopBatch(static_cast<size_t>(batch_size_), std::chrono::milliseconds(20));
      if (batch.empty()) break;
      infer_wait_time_.Add(waiting);
      const auto start = Clock::now();
      std::vector<catalog::MediaResult> out;
      DetectItems(detector, batch, &out);
      infer_time_.Add(start);
      if (!out.empty()) results_.Push(std::move(out));
    }
    // Videos whose last frame never came (cancelled): nothing to record, they stay pending.
  }

  void DetectItems(const model::Detector& detector, std::vector<WorkItem>& batch,
                   std::vector<catalog::MediaResult>* out) {
    std::vector<const RgbImage*> images;
    std::vector<WorkItem*> with_image;
    for (auto& item : batch) {
      if (item.status.ok() && item.image) {
        images.push_back(&*item.image);
        with_image.push_back(&item);
      }
    }
    Result<std::vector<std::vector<Detection>>> detections = std::vector<std::vector<Detection>>{};
    if (!images.empty()) detections = DetectWithBackoff(detector, images);
    size_t k = 0;
    for (auto& item : batch) {
      budget_.Release(item.bytes_held);
      item.bytes_held = 0;
      if (item.device_memory != nullptr) item.device_memory->Release(item.device_bytes_held);
      item.device_memory = nullptr;
      const bool inferred = item.status.ok() && item.image.has_value();
      item.image.reset();
      std::vector<Detection> found;
      if (inferred) {
        if (detections.ok()) {
          found = std::move(detections->at(k));
        } else {
          item.status = detections.status();
        }
        ++k;
      }
      if (!item.is_video) {
        catalog::MediaResult r = std::move(item.meta);
        r.media_id = item.media_id;
        r.ok = item.status.ok();
        if (!r.ok) r.error = item.status.message();
        for (auto& d : found) r.detections.push_back({std::move(d), -1});
        out->push_back(std::move(r));
        continue;
      }
      // Video: collect its frames (they may reach several workers), then emit one result for
      // the file once every frame up to the last has been seen.
      if (inferred) ++video_frames_;
      std::lock_guard<std::mutex> lock(videos_mu_);
      auto& acc = videos_[item.media_id];
      ++acc.received;
      if (item.last_frame) acc.expected = item.frame_index + 1;
      if (!acc.failed && !item.status.ok()) {
        acc.failed = true;
        acc.error = item.status.message();
      }
      for (auto& d : found) acc.detections.push_back({std::move(d), item.time_s});
      if (acc.received == acc.expected) {
        catalog::MediaResult r = std::move(item.meta);
        r.media_id = item.media_id;
        r.ok = !acc.failed;
        r.error = acc.error;
        r.detections = std::move(acc.detections);
        videos_.erase(item.media_id);
        out->push_back(std::move(r));
      }
    }
  }

  // Out of memory on the device or host: halve the batch (for the rest of the run) and retry.
  Result<std::vector<std::vector<Detection>>> DetectWithBackoff(const model::Detector& detector,
                                                                const std::vector<const RgbImage*>& images) {
    model::DetectOptions options = options_.detect;
    options.pad_batch_to = batch_size_;  // one batch shape on a GPU, whatever the batcher found
    auto result = detector.Detect(images, options);
    if (result.ok() || result.status().code() != StatusCode::kOutOfMemory) return result;
    if (images.size() == 1) return result;
    const size_t half = (images.size() + 1) / 2;
    if (batch_size_ > static_cast<int>(half)) {
      batch_size_ = static_cast<int>(half);
      spdlog::warn("out of memory in the detector ({}); batch size now {}", result.status().message(),
                   batch_size_);
    }
    std::vector<std::vector<Detection>> all;
    for (size_t begin = 0; begin < images.size(); begin += half) {
      std::vector<const RgbImage*> part(images.begin() + begin,
                                        images.begin() + std::min(images.size(), begin + half));
      auto sub = DetectWithBackoff(detector, part);
      if (!sub.ok()) return sub.status();
      for (auto& d : *sub) all.push_back(std::move(d));
    }
    return all;
  }

  // ---- writer: one transaction per batch ----------------------------------------------------
  void WriterLoop() {
    while (auto batch = results_.Pop()) {
      if (!writer_status_.ok()) continue;  // drain so producers never block
      const auto start = Clock::now();
      Status s = catalog_.CommitBatch(model_id_, run_id_, *batch);
      write_time_.Add(start);
      if (!s.ok()) {
        writer_status_ = s.WithContext("catalog");
        stop_ = true;
        budget_.Cancel();
        for (auto& [index, memory] : device_memory_) memory->Cancel();
        continue;
      }
      for (const auto& r : *batch) {
        if (r.ok) {
          ++committed_done_;
        } else {
          ++committed_failed_;
          spdlog::warn("{}: {}", PathOf(r.media_id), r.error);
        }
      }
      Report();
    }
    Report();
  }

  const std::string& PathOf(int64_t media_id) {
    if (path_by_id_.empty()) {
      for (const auto& row : pending_) path_by_id_.emplace(row.id, row.path);
    }
    return path_by_id_[media_id];
  }

  void Report() {
    if (!options_.on_progress) return;
    IndexProgress p;
    p.total = static_cast<int64_t>(pending_.size());
    p.done = committed_done_ + committed_failed_;
    p.failed = committed_failed_;
    p.elapsed_s = Since(start_);
    p.images_per_s = p.elapsed_s > 0 ? p.done / p.elapsed_s : 0;
    p.batch_size = batch_size_;
    options_.on_progress(p);
  }

  struct VideoAccumulator {
    int received = 0;   // frame items seen
    int expected = -1;  // known once the last frame arrives
    std::vector<catalog::StoredDetection> detections;
    bool failed = false;
    std::string error;
  };

  const std::vector<const model::Detector*> detectors_;
  std::vector<GpuDecodePlan> gpu_plans_;
  std::mutex gpu_start_mu_;
  int gpu_workers_started_ = 0;  // GUARDED_BY(gpu_start_mu_)
  std::string gpu_backend_;      // GUARDED_BY(gpu_start_mu_)
  Status gpu_start_error_;       // GUARDED_BY(gpu_start_mu_); --decode gpu only
  catalog::Catalog& catalog_;
  const IndexOptions& options_;
  const int64_t model_id_;
  const int64_t run_id_;
  const std::vector<catalog::MediaRow> pending_;
  std::vector<size_t> jpegs_, others_;  // indices into pending_ (jpegs_ only with GPU decoders)
  MemoryBudget budget_;
  std::map<int, std::unique_ptr<MemoryBudget>> device_memory_;  // per CUDA device index (DeviceMemoryOf)
  const int batch_limit_;  // the configured batch, capped on the CPU (BatchLimit)
  std::vector<const model::Detector*> lanes_;  // distinct detectors; decoded_[i] feeds lanes_[i]
  std::vector<std::unique_ptr<BoundedQueue<WorkItem>>> decoded_;
  std::vector<std::unique_ptr<BoundedQueue<WorkItem>>> uploads_;  // per lane; nullptr: no upload stage
  std::vector<std::unique_ptr<BoundedQueue<CheckedJpeg>>> checked_;  // per lane with nvJPEG; else nullptr
  BoundedQueue<std::vector<catalog::MediaResult>> results_;
  BoundedQueue<catalog::MediaRow> retry_{1 << 16};

  Clock::time_point start_;
  uint64_t per_image_infer_bytes_ = 0;
  uint64_t host_input_bytes_ = 0;    // a prepared input, held until inference, on the host
  uint64_t device_input_bytes_ = 0;  // and on a GPU (nvJPEG's photos)
  std::atomic<size_t> next_jpeg_{0}, next_other_{0};
  std::atomic<int64_t> gpu_decoded_{0};
  std::atomic<int> decoders_allowed_{1};
  std::atomic<int> batch_size_{1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> retried_{false};
  std::atomic<bool> first_nvjpeg_batch_logged_{false};
  FirstAndLast cpu_decoders_done_;  // when CPU decoders ran out of files (-v)
  int64_t process_cpu_at_start_ = 0;
  std::mutex videos_mu_;
  std::unordered_map<int64_t, VideoAccumulator> videos_;  // GUARDED_BY(videos_mu_)
  std::atomic<int64_t> video_frames_{0};
  std::atomic<int64_t> committed_done_{0}, committed_failed_{0};
  std::unordered_map<int64_t, std::string> path_by_id_;    // writer thread only
  Status writer_status_;                                   // writer thread only until joined
  TimeAccumulator decode_time_, gpu_decode_time_, infer_time_, write_time_;
  TimeAccumulator infer_wait_time_;  // inference waiting for decoded photos (-v)
  struct {
    TimeAccumulator read, check, nvjpeg, prepare, cpu;
    TimeAccumulator queue_full;  // feeders waiting for room among the checked JPEGs
    TimeAccumulator starved;     // workers waiting for checked JPEGs
  } gpu_phases_;  // where the nvJPEG feeders' and workers' time goes (-v)
  struct {
    TimeAccumulator read, decode, prepare;  // read also counts files that are not decoded
    TimeAccumulator handoff;                 // waiting for room in the next stage's queue
    std::atomic<int64_t> files{0};
  } cpu_phases_;  // where CPU decodes' time goes (-v)
  struct {
    TimeAccumulator decoders, nvjpeg_feeders, nvjpeg_workers, upload, inference;
  } cpu_used_;  // CPU time of each kind of thread (-v)
};

}  // namespace

Result<JpegDecode> ParseJpegDecode(const std::string& name) {
  if (name == "cpu") return JpegDecode::kCpu;
  if (name == "gpu") return JpegDecode::kGpu;
  if (name == "auto") return JpegDecode::kAuto;
  return InvalidArgument("decode must be cpu, gpu or auto, not '" + name + "'");
}

// nvJPEG workers for each CUDA device among the detectors' (--decode gpu|auto); the run starts
// them. --decode gpu without a CUDA detector is an error.
static Result<std::vector<GpuDecodePlan>> PlanGpuDecoders(const std::vector<const model::Detector*>& detectors,
                                                          JpegDecode mode, int workers_per_gpu) {
  std::vector<GpuDecodePlan> plans;
  if (mode == JpegDecode::kCpu) return plans;
  std::unordered_set<std::string> seen;
  for (const model::Detector* d : detectors) {
    if (d->device().kind != engine::DeviceKind::kCuda || !seen.insert(d->device().name).second) continue;
    plans.push_back({d, std::max(1, workers_per_gpu)});
  }
  if (plans.empty() && mode == JpegDecode::kGpu) {
    return InvalidArgument("--decode gpu needs the detector on a CUDA device (--device cuda)");
  }
  return plans;
}

std::string ResultSettings(const model::DetectOptions& detect, const std::string& preprocess) {
  char settings[160];
  std::snprintf(settings, sizeof(settings), "score_min=%g;iou=%g;max=%d;preprocess=%s", detect.score_min,
                detect.nms_iou, detect.max_detections, preprocess.c_str());
  return settings;
}

Result<IndexSummary> RunIndex(const model::Detector& detector, catalog::Catalog& catalog,
                              const IndexOptions& options) {
  return RunIndex(std::vector<const model::Detector*>{&detector}, catalog, options);
}

Result<IndexSummary> RunIndex(const std::vector<const model::Detector*>& detectors,
                              catalog::Catalog& catalog, const IndexOptions& options) {
  if (detectors.empty()) return InvalidArgument("RunIndex: no detector");
  const model::Detector& detector = *detectors.front();
  IndexSummary summary;
  const auto start = Clock::now();

  // 1. Scan and reconcile.
  const media::ScanReport scan = media::ScanTree(options.roots, options.scan);
  summary.warnings = scan.warnings;
  summary.scanned = static_cast<int64_t>(scan.files.size());
  std::vector<std::string> roots;
  for (const auto& root : options.roots) {
    roots.push_back(std::filesystem::absolute(root).lexically_normal().string());
    if (roots.back().size() > 1 && roots.back().back() == '/') roots.back().pop_back();
  }
  auto reconciled = Reconcile(catalog, scan, roots);
  if (!reconciled.ok()) return reconciled.status();
  const catalog::ScanChanges& changes = reconciled->changes;
  summary.added = static_cast<int64_t>(changes.added.size());
  summary.changed = static_cast<int64_t>(changes.changed.size());
  summary.moved = static_cast<int64_t>(changes.moved.size());
  summary.gone = static_cast<int64_t>(changes.gone.size());
  summary.unchanged = reconciled->unchanged;
  MDX_RETURN_IF_ERROR(catalog.ApplyScan(changes));
  summary.scan_seconds = Since(start);

  // 2. What this model still has to look at (everything not done with these settings).
  const auto& info = detector.info();
  auto model_id = catalog.RegisterModel({info.name, info.version, options.settings});
  if (!model_id.ok()) return model_id.status();
  auto pending = catalog.PendingFor(*model_id, 0);
  if (!pending.ok()) return pending.status();
  std::vector<catalog::MediaRow> todo;
  for (auto& row : *pending) {
    if (UnderRoots(row.path, roots)) todo.push_back(std::move(row));
  }

  // 3. The memory budget: what --max-memory leaves after the runtime and model already resident.
  const uint64_t resident = CurrentRssBytes();
  if (options.max_memory <= resident + kRuntimeSlackBytes) {
    return InvalidArgument("--max-memory " + FormatBytes(options.max_memory) + " is below what the " +
                           "runtime and model already use (" + FormatBytes(resident) + " + " +
                           FormatBytes(kRuntimeSlackBytes) + " slack)");
  }
  const uint64_t budget = options.max_memory - resident - kRuntimeSlackBytes;

  auto gpu_plans = PlanGpuDecoders(detectors, options.jpeg_decode, options.nvjpeg_workers);
  if (!gpu_plans.ok()) return gpu_plans.status();

  catalog::RunInfo run;
  run.model_id = *model_id;
  for (const auto* d : detectors) {
    if (run.device.find(d->device().name) == std::string::npos) {
      run.device += (run.device.empty() ? "" : ",") + d->device().name;
    }
  }
  run.settings = "batch_size=" + std::to_string(options.batch_size) +
                 ";concurrency=" + std::to_string(options.concurrency) +
                 ";max_memory=" + std::to_string(options.max_memory) + ";" + options.settings;
  run.roots = roots;
  auto run_id = catalog.BeginRun(run);
  if (!run_id.ok()) return run_id.status();

  Status status;
  if (!todo.empty()) {
    IndexRun pipeline(detectors, std::move(gpu_plans).value(), catalog, options, *model_id, *run_id,
                      std::move(todo), budget);
    status = pipeline.Run(&summary);
  } else {
    summary.budget_bytes = budget;
    if (options.on_progress) options.on_progress(IndexProgress{});
  }
  catalog::RunCounts counts{summary.done, summary.failed, summary.unchanged};
  Status finished = catalog.FinishRun(*run_id, counts);
  summary.seconds = Since(start);
  const double analyse_s = summary.seconds - summary.scan_seconds;
  summary.images_per_s = analyse_s > 0 ? (summary.done + summary.failed) / analyse_s : 0;
  summary.peak_rss = PeakRssBytes();
  if (!status.ok()) return status;
  if (!finished.ok()) return finished;
  return summary;
}

}  // namespace mediadex::pipeline
