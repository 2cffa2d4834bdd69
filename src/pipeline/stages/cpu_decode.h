// CPU decode stage: --concurrency threads, each taking the next pending file, reading it whole
// (hashed and decoded from the same bytes), decoding it with media/, and preparing the
// detector's input on the same thread. Videos give one item per sampled frame.
//
// Takes: rows from RunContext::NextRow. Gives: WorkItems to RunContext::Inbox(lane), each
// holding a lease of the host budget for its pixels or input; failed files as items with a
// status. Memory: the file's bytes are leased while read and decoded, then given back.
#ifndef MEDIADEX_PIPELINE_STAGES_CPU_DECODE_H_
#define MEDIADEX_PIPELINE_STAGES_CPU_DECODE_H_

#include "pipeline/run_context.h"

namespace mediadex::pipeline {

// One decoder thread's loop. Worker `worker` stops early when decoders_allowed drops below it
// (decoding ran out of memory), and after the pending files helps with the JPEGs that wait for
// nvJPEG (--decode auto).
void RunCpuDecoder(RunContext& run, int worker);

// The steps, also used by the GPU decode stage for what nvJPEG refuses and by the retry of
// files that ran out of memory.
WorkItem DecodeImageFile(RunContext& run, const catalog::MediaRow& row, const model::Detector& detector);
// The whole file into `bytes` (leased) and its headers into `info`; on failure item.status says
// why and nothing is held.
WorkItem ReadImageFile(RunContext& run, const catalog::MediaRow& row, FileBytes* bytes, media::ImageInfo* info);
// Decodes `bytes` (then given back) on this thread and prepares the input. `held_besides`: other
// bytes of the budget the caller holds meanwhile (see MemoryBudget::Acquire).
void DecodeOnCpu(RunContext& run, WorkItem* item, FileBytes* bytes, const media::ImageInfo& info,
                 const model::Detector& detector, uint64_t held_besides = 0);

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_STAGES_CPU_DECODE_H_
