#include "pipeline/stages/cpu_decode.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <new>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "core/hash.h"
#include "media/media_file.h"
#include "media/probe.h"
#include "media/video.h"
#include "pipeline/reconcile.h"

namespace mediadex::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// With nvJPEG running, CPU decoders run at this nice level (Linux): a JPEG through nvJPEG costs
// its feeder a few ms of CPU, through libjpeg-turbo ~30 ms, so a contended core is best spent
// keeping nvJPEG (and the detector) fed; the decoders take what is left.
constexpr int kCpuDecoderNiceWithGpu = 10;

void LowerThisThreadsPriority(int nice) {
#if defined(__linux__)
  // Linux applies a thread id's nice level to that thread alone.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
#else
  (void)nice;
#endif
}

WorkItem ItemFor(const catalog::MediaRow& row) {
  WorkItem item;
  item.media_id = row.id;
  item.path = row.path;
  item.meta.media_id = row.id;
  item.is_video = row.kind == catalog::MediaKind::kVideo;
  return item;
}

// The detector's own preprocessing (model::Detector::Prepare) of host pixels, on this decode
// thread. The item then holds what it keeps, on the host even for a GPU detector (the upload
// stage moves it), and its lease shrinks or grows to that.
void PrepareOnHost(RunContext& run, WorkItem* item, const model::Detector& detector) {
  const Status prepared = detector.Prepare(&*item->image);
  if (!prepared.ok()) return item->Fail(prepared);
  const uint64_t held =
      item->image->form() == RgbImage::Form::kPrepared ? run.footprint.host_input_bytes : item->image->pixels.size();
  const uint64_t leased = item->host_memory.bytes();
  if (held <= leased) return item->host_memory.ShrinkTo(held);
  auto more = run.budget.Acquire(held - leased, leased);
  if (!more.ok()) return item->Fail(more.status().WithContext("preparing the detector's input"));
  item->host_memory.Absorb(std::move(more).value());
}

// Every sampled frame of a video, in order, each prepared. A video that fails part way gives
// one failed item after its frames so far; a cancelled one gives nothing more (it stays
// pending: never commit part of a video).
void DecodeVideo(RunContext& run, const catalog::MediaRow& row, size_t lane) {
  const model::Detector& detector = *run.lanes[lane];
  BoundedQueue<WorkItem>& inbox = run.Inbox(lane);
  int pushed = 0;  // frames handed to the detectors so far
  auto push_failure = [&](const Status& status) {
    WorkItem item = ItemFor(row);
    item.status = status;
    item.frame_index = pushed;
    inbox.Push(std::move(item));
  };
  auto hash = HashFile(row.path, /*sampled=*/true, row.size);
  if (!hash.ok()) return push_failure(hash.status());
  auto video = media::VideoFrames::Open(row.path, run.options.decode);
  if (!video.ok()) return push_failure(video.status());
  catalog::MediaResult meta;
  meta.media_id = row.id;
  meta.content_hash = *hash;
  meta.width = (*video)->info().width;
  meta.height = (*video)->info().height;
  meta.duration_s = (*video)->info().duration_s;
  std::optional<WorkItem> previous;  // held back one frame so the last can be marked
  while (!run.Cancelled()) {
    auto lease = run.budget.Acquire((*video)->frame_bytes(), previous ? previous->host_memory.bytes() : 0);
    if (!lease.ok()) return push_failure(lease.status().WithContext("video frame"));
    RgbImage frame;
    double t = 0;
    auto more = (*video)->Next(run.options.video_interval_s, &frame, &t);
    if (!more.ok()) return push_failure(more.status());
    if (!*more) break;
    WorkItem item = ItemFor(row);
    item.meta = meta;
    item.time_s = t;
    item.image = std::move(frame);
    item.host_memory = std::move(lease).value();
    item.last_frame = false;
    PrepareOnHost(run, &item, detector);
    if (previous) {
      inbox.Push(std::move(*previous));
      ++pushed;
    }
    item.frame_index = pushed;
    previous = std::move(item);
  }
  if (run.Cancelled()) return;
  if (previous) {
    previous->last_frame = true;
    inbox.Push(std::move(*previous));
  } else {
    WorkItem item = ItemFor(row);  // a video with no frame: done, nothing found
    item.meta = meta;
    inbox.Push(std::move(item));
  }
}

}  // namespace

WorkItem ReadImageFile(RunContext& run, const catalog::MediaRow& row, FileBytes* bytes, media::ImageInfo* info) {
  WorkItem item = ItemFor(row);
  try {
    // Regular files only, read no further than their size at open: a file swapped for a FIFO or
    // a device since the scan fails here instead of blocking or growing without end.
    auto file = media::MediaFile::Open(row.path);
    if (!file.ok()) {
      item.status = file.status();
      return item;
    }
    auto lease = run.budget.Acquire(file->size());
    if (!lease.ok()) {
      item.status = lease.status().WithContext("reading the file");
      return item;
    }
    auto data = file->ReadAll();
    if (!data.ok()) {
      item.status = data.status();
      return item;
    }
    bytes->data = std::move(data).value();
    bytes->memory = std::move(lease).value();
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)HashBytes(bytes->data.data(), bytes->data.size()));
    item.meta.content_hash = hex;
    auto probed = media::ProbeImage(bytes->data.data(), bytes->data.size(), run.options.decode);
    if (!probed.ok()) {
      bytes->Release();
      item.status = probed.status();
      return item;
    }
    *info = *probed;
    item.meta.width = info->width;
    item.meta.height = info->height;
    item.meta.orientation = info->orientation;
    item.meta.capture_time = info->capture_time;
  } catch (const std::bad_alloc&) {
    bytes->Release();
    item.status = OutOfMemory("allocation failed while reading");
  }
  return item;
}

void DecodeOnCpu(RunContext& run, WorkItem* item, FileBytes* bytes, const media::ImageInfo& info,
                 const model::Detector& detector, uint64_t held_besides) {
  try {
    auto pixels = run.budget.Acquire(info.decode_bytes, bytes->memory.bytes() + held_besides);
    if (!pixels.ok()) {
      bytes->Release();
      return item->Fail(pixels.status().WithContext("decoding"));
    }
    auto start = Clock::now();
    auto image = media::DecodeImage(bytes->data.data(), bytes->data.size(), run.options.decode);
    run.stats.cpu_phases.decode.Add(start);
    bytes->Release();
    if (!image.ok()) return item->Fail(image.status());
    item->image = std::move(image).value();
    item->host_memory = std::move(pixels).value();
    start = Clock::now();
    PrepareOnHost(run, item, detector);
    run.stats.cpu_phases.prepare.Add(start);
    ++run.stats.cpu_phases.files;
  } catch (const std::bad_alloc&) {
    item->Fail(OutOfMemory("allocation failed while decoding"));
  }
}

WorkItem DecodeImageFile(RunContext& run, const catalog::MediaRow& row, const model::Detector& detector) {
  FileBytes bytes;
  media::ImageInfo info;
  const auto start = Clock::now();
  WorkItem item = ReadImageFile(run, row, &bytes, &info);
  run.stats.cpu_phases.read.Add(start);
  if (item.status.ok()) DecodeOnCpu(run, &item, &bytes, info, detector);
  return item;
}

void RunCpuDecoder(RunContext& run, int worker) {
  const ThreadCpuTime cpu(run.stats.cpu_used.decoders);
  if (!run.gpu_plans.empty()) LowerThisThreadsPriority(kCpuDecoderNiceWithGpu);
  // The detector that prepares this worker's photos: with several GPUs, each takes its share.
  const size_t lane = static_cast<size_t>(worker) % run.lanes.size();
  const model::Detector& detector = *run.lanes[lane];
  for (const catalog::MediaRow* row; !run.Cancelled() && worker < run.decoders_allowed.load();) {
    if (std::optional<CheckedJpeg> jpeg = run.TakeRefusedJpeg()) {  // read already: first
      const auto start = Clock::now();
      DecodeOnCpu(run, &jpeg->item, &jpeg->bytes, jpeg->info, detector);
      run.Inbox(lane).Push(std::move(jpeg->item));
      run.stats.decode.Add(start);
      continue;
    }
    if ((row = run.NextRow(false)) == nullptr) break;
    const auto start = Clock::now();
    if (row->kind == catalog::MediaKind::kVideo) {
      DecodeVideo(run, *row, lane);
    } else {
      WorkItem item = DecodeImageFile(run, *row, detector);
      if (item.status.code() == StatusCode::kOutOfMemory && !run.retrying) {
        // The allocator refused: fewer decoders from now on; the file is retried alone once
        // every decoder has stopped.
        run.decoders_allowed = std::max(1, run.decoders_allowed.load() / 2);
        spdlog::warn("{}: out of memory while decoding; decode concurrency now {}", row->path,
                     run.decoders_allowed.load());
        run.retry.Push(*row);
        run.stats.decode.Add(start);
        return;
      }
      const auto handing = Clock::now();
      run.Inbox(lane).Push(std::move(item));
      run.stats.cpu_phases.handoff.Add(handing);
    }
    run.stats.decode.Add(start);
  }
  // Out of files: the JPEGs still waiting for nvJPEG, so that the run ends when both are done.
  while (!run.Cancelled() && worker < run.decoders_allowed.load()) {
    std::optional<CheckedJpeg> jpeg = run.TakeCheckedJpeg();
    if (!jpeg) break;
    const auto start = Clock::now();
    DecodeOnCpu(run, &jpeg->item, &jpeg->bytes, jpeg->info, detector);
    run.Inbox(lane).Push(std::move(jpeg->item));
    run.stats.decode.Add(start);
  }
  run.stats.cpu_decoders_done.Add(run.stats.elapsed());
}

}  // namespace mediadex::pipeline
