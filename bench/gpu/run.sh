#!/usr/bin/env bash
# bench/gpu/run.sh [BUILD_DIR] [N]: every GPU figure of docs/performance.md in one go, on the
# machine it runs on (needs a CUDA build: scripts/gpu-build.sh). Writes JSON lines and logs to
# ${OUT:-/tmp/mediadex-gpu-bench}.
#   1. model-only images/s at batch 1, 8, 64, 256 in fp32 and fp16;
#   2. decode-only images/s for 4000x3000 JPEGs: CPU threads (fast and full-size), nvJPEG alone,
#      nvJPEG and CPU threads together, nvJPEG beside the network (its context, with one worker
#      and two, or the network's);
#   3. where the first forward pass at batch 64 spends its time (MEDIADEX_PROFILE_OPS=1);
#   4. end-to-end `mediadex index` of N (default 2000) such JPEGs on the GPU (the E2E runs:
#      --decode auto in fp32 and fp16, gpu, cpu), with GPU use, host memory (its summary's
#      peak RSS) and what was found, and the same binary on the CPU over 100 of them;
#   5. with several GPUs: the same end to end on every GPU (--device cuda);
#   6. with LONG_N set: --decode auto in fp32 and fp16 over LONG_N JPEGs, where the first
#      forward pass (its warm-up) weighs less.
# Environment: LIBRARY (flat | camera), UNIQUE; SKIP_MODEL_ONLY, SKIP_DECODE, SKIP_PROFILE (=1 skips that part); MODEL_VARIANTS
# (model-only runs, PRECISION[:DEPTHWISE]); BESIDE (nvJPEG beside the network,
# CONTEXT:WORKERS[:VAR=VALUE,...]); PROFILE_DEPTHWISE; E2E (below); LONG_N.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-cuda}
N=${2:-2000}
RESULTS=${OUT:-/tmp/mediadex-gpu-bench}
mkdir -p "$RESULTS"
# LIBRARY=camera: camera-like 12 MP JPEGs (2.5-5 MB: grain, q95, 4:4:4, progressive, EXIF
# orientation; make_library.py), UNIQUE (256) of them distinct, the rest hard links; else flat.
LIBRARY=${LIBRARY:-flat}
LIBRARY_FLAGS=()
[ "$LIBRARY" = camera ] && LIBRARY_FLAGS=(--camera --unique "${UNIQUE:-256}")
LIB=/tmp/mediadex-lib-$LIBRARY-$N
CORES=$(nproc)
GPUS=$(nvidia-smi -L | grep -c '^GPU')
PHOTOS=samples
[ -d ../shared/testdata/photos ] && PHOTOS=../shared/testdata/photos

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$RESULTS/gpu.txt"
echo "== model-only"
# fp32, fp16, and fp32 with depthwise convolutions on LibTorch's NCHW kernel and on cuDNN (to
# compare with mediadex's own kernel, the default).
[ "${SKIP_MODEL_ONLY:-0}" = 1 ] || for p in ${MODEL_VARIANTS:-fp32 fp16 fp32:torch fp32:cudnn}; do
  MEDIADEX_DEPTHWISE=$([ "${p#*:}" != "$p" ] && echo "${p#*:}" || echo ours) \
    "$BUILD/bench/detect_bench" --photos "$PHOTOS" --model models/centernet.json --device cuda \
    --precision "${p%%:*}" --batch-sizes 1,8,64,256 --seconds 4 | sed "s/^{/{\"variant\":\"$p\",/" | tee -a "$RESULTS/model_only.jsonl"
done

echo "== library ($N JPEGs of 4000x3000, $LIBRARY)"
python3 bench/gpu/make_library.py "${LIBRARY_FLAGS[@]}" "$PHOTOS" "$LIB" "$N"
mkdir -p "$LIB-sample" && ls "$LIB" | head -64 | while read -r f; do ln -sf "$LIB/$f" "$LIB-sample/$f"; done
mkdir -p "$LIB-128" && ls "$LIB" | head -128 | while read -r f; do ln -sf "$LIB/$f" "$LIB-128/$f"; done

echo "== decode-only, $CORES CPU threads"
if [ "${SKIP_DECODE:-0}" != 1 ]; then
  "$BUILD/bench/decode_bench" --photos "$LIB-sample" --threads "$CORES" --seconds 8 | tee -a "$RESULTS/decode.jsonl"
  "$BUILD/bench/decode_bench" --photos "$LIB-sample" --threads "$CORES" --seconds 8 --exact | tee -a "$RESULTS/decode.jsonl"
  "$BUILD/bench/decode_bench" --photos "$LIB-sample" --threads 0 --gpu --seconds 8 | tee -a "$RESULTS/decode.jsonl"
  # nvJPEG's GPU Huffman decoder alone (one worker, two), and beside the hardware engine.
  for huffman in ${HUFFMAN:-0:1 0:2 1:1 1:2}; do
    "$BUILD/bench/decode_bench" --photos "$LIB-sample" --threads 0 --gpu --seconds 8 --gpu-workers "${huffman%%:*}" \
      --gpu-huffman-workers "${huffman#*:}" | tee -a "$RESULTS/decode.jsonl"
  done
  # As `index --decode auto` runs them: CPU decoders at the fast scale beside nvJPEG (and beside
  # both GPU decoders: the decode ceiling of this machine).
  "$BUILD/bench/decode_bench" --photos "$LIB-sample" --threads $((CORES - 2)) --gpu --seconds 8 | tee -a "$RESULTS/decode.jsonl"
  "$BUILD/bench/decode_bench" --photos "$LIB-sample" --threads $((CORES - 2)) --gpu --gpu-huffman-workers 1 --seconds 8 | tee -a "$RESULTS/decode.jsonl"
  # nvJPEG beside the network in this process, in a CUDA context of its own (the default; one
  # worker and two) and sharing the network's. BESIDE: runs as CONTEXT:WORKERS[:VAR=VALUE,...].
  for run in ${BESIDE:-own:1 own:2 shared:1}; do
    IFS=: read -r context workers env <<< "$run"
    env MEDIADEX_NVJPEG_CONTEXT=$context ${env//,/ } "$BUILD/bench/decode_bench" --photos "$LIB-sample" --threads 0 --gpu --seconds 8 \
      --gpu-workers "$workers" --with-network models/centernet.json --network-photos "$PHOTOS" |
      sed "s/^{/{\"nvjpeg_context\":\"$context\",\"env\":\"$env\",/" | tee -a "$RESULTS/decode.jsonl"
  done
fi

echo "== the first two forward passes at batch 64, op by op (device synchronised after each op)"
[ "${SKIP_PROFILE:-0}" = 1 ] || for dw in ${PROFILE_DEPTHWISE:-ours cudnn}; do
  echo "-- MEDIADEX_DEPTHWISE=$dw"
  MEDIADEX_DEPTHWISE=$dw MEDIADEX_PROFILE_OPS=1 "$BUILD/mediadex" -v detect --device cuda:0 --batch-size 64 "$LIB-128" > "$RESULTS/profile-$dw.txt" 2>&1
  grep -E "ops of a batch|slowest ops|eager forward|loaded" "$RESULTS/profile-$dw.txt" | cut -c1-2500
done

# index DEVICE DECODE NAME [FLAGS...]: one end-to-end run over the library into a fresh catalog.
index() {
  nvidia-smi dmon -s u -d 1 > "$RESULTS/dmon-$3.txt" 2>&1 &
  local dmon=$!
  rm -f /tmp/gpu.db*
  local start=$(date +%s.%N)
  env ${RUN_ENV:-} "$BUILD/mediadex" -v index --device "$1" --decode "$2" --batch-size 64 "${@:4}" \
    --catalog /tmp/gpu.db "$LIB" > "$RESULTS/index-$3.txt" 2>&1
  echo "wall (process, model load included): $(python3 -c "import time; print(round(time.time() - $start, 2))") s"
  kill $dmon 2>/dev/null
  grep -v "^\[" "$RESULTS/index-$3.txt"
  # A figure counts only if every file was analysed: say so loudly otherwise.
  local failed=$(sed -n 's/^analysed .* \([0-9][0-9]*\) failed$/\1/p' "$RESULTS/index-$3.txt")
  if [ "${failed:-missing}" != 0 ]; then
    echo "!! $3: ${failed:-no summary: the run did not finish} files failed; this figure does not count"
    grep -m5 -E "^\[(warning|error)\]|what\(\)" "$RESULTS/index-$3.txt"
  fi
  grep -E "CUDA Graph|nvJPEG on|eager forward|warmed up|every file decoded|nvJPEG feeders|nvJPEG worker|nvJPEG batch|nvJPEG stopped|CPU decodes|CPU time used|uploads;|images detected|waited|blocking sync|keep spinning" "$RESULTS/index-$3.txt" | sort | uniq -c
  # What was found, to tell runs that differ in speed from runs that differ in answers.
  python3 -c "import sqlite3; print('detections: %d, scores summed: %.2f' % sqlite3.connect('/tmp/gpu.db').execute('SELECT count(*), coalesce(sum(score), 0) FROM detections').fetchone())"
  awk '$1 ~ /^[0-9]+$/ { n++; s += $2 } END { if (n) printf "GPU SM utilisation: mean %.0f%% over %d samples\n", s / n, n }' "$RESULTS/dmon-$3.txt"
}
# Defaults: --concurrency 0 (every core decodes; niced beside nvJPEG), 1 nvJPEG worker per GPU.
# E2E: runs as DECODE:NVJPEG_WORKERS:CONCURRENCY[:VAR=VALUE], empty fields taking the defaults;
# VAR=VALUE (several: VAR=VALUE,VAR2=VALUE2) goes into that run's environment.
for run in ${E2E:-auto:: auto:::MEDIADEX_PRECISION=fp16 gpu:: cpu::}; do
  IFS=: read -r decode workers concurrency env <<< "$run"
  echo "== end-to-end, GPU 0, --decode $decode, nvJPEG workers ${workers:-default}, CPU decoders ${concurrency:-default ($CORES)}${env:+, $env}"
  RUN_ENV=${env//,/ } index cuda:0 "$decode" "gpu-$decode-${workers:-d}-${concurrency:-d}${env:+-$(echo "$env" | tr -c 'A-Za-z0-9_\n' -)}" \
    ${workers:+--nvjpeg-workers $workers} ${concurrency:+--concurrency $concurrency}
done
if [ "$GPUS" -gt 1 ]; then
  echo "== end-to-end, all $GPUS GPUs, --decode auto"
  index cuda auto gpu-all
fi

if [ -n "${LONG_N:-}" ]; then
  N=$LONG_N
  LIB=/tmp/mediadex-lib-$LIBRARY-$N
  echo "== library ($N JPEGs of 4000x3000)"
  python3 bench/gpu/make_library.py "${LIBRARY_FLAGS[@]}" "$PHOTOS" "$LIB" "$N"
  for precision in fp32 fp16; do
    echo "== end-to-end over $N, GPU 0, --decode auto, $precision"
    RUN_ENV=MEDIADEX_PRECISION=$precision index cuda:0 auto "gpu-auto-$N-$precision"
  done
fi

echo "== end-to-end, same binary on the CPU (first 100)"
mkdir -p "$LIB-100" && ls "$LIB" | head -100 | while read -r f; do ln -sf "$LIB/$f" "$LIB-100/$f"; done
rm -f /tmp/cpu.db*
"$BUILD/mediadex" index --device cpu --catalog /tmp/cpu.db "$LIB-100" > "$RESULTS/index_cpu.txt" 2>&1
grep -E "analysed|time" "$RESULTS/index_cpu.txt"
