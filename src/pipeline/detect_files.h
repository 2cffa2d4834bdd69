// Detect objects in a list of files: decode on a thread pool while the previous batch runs on
// the device, and report each file's result in input order.
//
//   pipeline::DetectFilesOptions options;
//   pipeline::DetectFiles(*detector, paths, options, [](const pipeline::FileResult& r) { ... });
//
// Memory: at most two batches of decoded images are alive (the one on the device and the one
// being decoded), and with max_memory set, file bytes, decode scratch, the batches' images and
// the detector's working memory stay inside it (pipeline/batch_memory.h). Only regular files
// are read (media/media_file.h), and a file whose format is unknown from its first bytes is
// refused before the rest is read.
#ifndef MEDIADEX_PIPELINE_DETECT_FILES_H_
#define MEDIADEX_PIPELINE_DETECT_FILES_H_

#include <functional>
#include <string>
#include <vector>

#include "core/detection.h"
#include "core/status.h"
#include "media/decoder.h"
#include "model/detector.h"

namespace mediadex::pipeline {

struct DetectFilesOptions {
  int batch_size = 8;      // images per forward pass
  int decode_threads = 0;  // 0 = one per core
  media::DecodeOptions decode;
  model::DetectOptions detect;
  // Peak RSS ceiling (--max-memory); 0 = none. What is resident when DetectFiles starts (the
  // runtime, the model) counts against it.
  uint64_t max_memory = 0;
};

struct FileResult {
  std::string path;
  Status status;  // why this file failed; OK otherwise
  int width = 0;  // upright full-size pixels
  int height = 0;
  std::vector<Detection> detections;
};

// Calls on_result once per path, in order, on the calling thread. A failed decode or forward
// pass (or a file refused: not a regular file, does not fit max_memory) becomes that file's
// status; an out-of-memory batch is retried one image at a time. Fails before any file only
// when max_memory is below what is already resident.
Status DetectFiles(const model::Detector& detector, const std::vector<std::string>& paths,
                   const DetectFilesOptions& options, const std::function<void(const FileResult&)>& on_result);

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_DETECT_FILES_H_
