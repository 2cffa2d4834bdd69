#include "pipeline/run_stats.h"

#include <spdlog/spdlog.h>

namespace mediadex::pipeline {

void RunStats::LogDetails(bool nvjpeg_ran) const {
  spdlog::debug("inference waited {:.2f} s for decoded photos", infer_wait.seconds());
  if (cpu_phases.files > 0) {
    spdlog::debug(
        "CPU decodes of {} images, summed: reading {:.2f} s, decoding {:.2f} s, preparing {:.2f} s, "
        "handing over {:.2f} s",
        cpu_phases.files.load(), cpu_phases.read.seconds(), cpu_phases.decode.seconds(), cpu_phases.prepare.seconds(),
        cpu_phases.handoff.seconds());
  }
  if (nvjpeg_ran) {
    spdlog::debug(
        "nvJPEG feeders and workers, summed: reading {:.2f} s, checking {:.2f} s, waiting for room "
        "{:.2f} s; waiting for JPEGs {:.2f} s, nvJPEG {:.2f} s, preparing {:.2f} s, CPU fallback {:.2f} s",
        gpu_phases.read.seconds(), gpu_phases.check.seconds(), gpu_phases.queue_full.seconds(),
        gpu_phases.starved.seconds(), gpu_phases.nvjpeg.seconds(), gpu_phases.prepare.seconds(),
        gpu_phases.cpu.seconds());
  }
  spdlog::debug(
      "CPU time used in {:.2f} s: {:.2f} s by the whole process; CPU decoders {:.2f} s, nvJPEG feeders "
      "{:.2f} s, nvJPEG workers {:.2f} s, uploads {:.2f} s, inference {:.2f} s",
      elapsed(), static_cast<double>(ProcessCpuMicros() - process_cpu_at_start) / 1e6, cpu_used.decoders.seconds(),
      cpu_used.nvjpeg_feeders.seconds(), cpu_used.nvjpeg_workers.seconds(), cpu_used.upload.seconds(),
      cpu_used.inference.seconds());
}

}  // namespace mediadex::pipeline
