// The units that flow between an index run's stages. Each carries the memory leases of what it
// holds, so the bytes go back to the budget when the item lets go of them, on whatever path.
#ifndef MEDIADEX_PIPELINE_WORK_ITEM_H_
#define MEDIADEX_PIPELINE_WORK_ITEM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/image.h"
#include "core/memory.h"
#include "core/status.h"
#include "engine/gpu_jpeg.h"
#include "media/probe.h"

namespace mediadex::pipeline {

// A file's bytes, read whole (hashed and decoded from the same bytes) and their lease.
struct FileBytes {
  std::vector<uint8_t> data;
  MemoryLease memory;
  void Release() {
    std::vector<uint8_t>().swap(data);
    memory.Release();
  }
};

// A photo, one frame of a video, or a file that already failed (passed on so that the writer
// records it), on its way from a decoder to the detector.
struct WorkItem {
  int64_t media_id = 0;
  std::string path;
  Status status;                  // !ok: failed before inference
  std::optional<RgbImage> image;  // pixels, or the detector's prepared input
  MemoryLease host_memory;        // what `image` holds of the run's budget
  MemoryLease device_memory;      // of a GPU's budget, for an input prepared there
  catalog::MediaResult meta;      // hash, size, orientation, capture time
  bool is_video = false;
  double time_s = -1;      // video frame time
  int frame_index = 0;     // for videos: 0, 1, 2 ... in the order the decoder pushed them
  bool last_frame = true;  // for videos: the final item of this file

  bool has_input() const { return status.ok() && image.has_value(); }
  // Drops the image and gives its memory back (after inference, or on failure).
  void DropImage() {
    image.reset();
    host_memory.Release();
    device_memory.Release();
  }
  void Fail(Status why) {
    DropImage();
    status = std::move(why);
  }
};

// A JPEG read and passed by GpuJpegDecoder::Check, waiting for an nvJPEG batch (or, at the
// end of a run, a CPU decoder with nothing else to do). input.data points into bytes.data.
struct CheckedJpeg {
  WorkItem item;
  FileBytes bytes;
  media::ImageInfo info;
  engine::GpuJpegDecoder::Input input;
};

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_WORK_ITEM_H_
