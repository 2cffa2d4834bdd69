#!/usr/bin/env bash
# Formats the C++ sources that follow .clang-format, or checks them (--check, what CI runs).
#
#   scripts/format.sh          # rewrite them in place
#   scripts/format.sh --check  # fail, listing each file that differs
#
# The list grows as folders are brought in line; a file in it that is not formatted fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."

FORMATTED=(
  src/pipeline/*.h src/pipeline/*.cpp src/pipeline/stages/*
  src/core/memory.h src/core/memory.cpp src/core/thread_annotations.h src/core/cancel.h
  tests/pipeline/stages_test.cpp
  src/catalog/gallery_cursor.h src/catalog/gallery_cursor.cpp
  src/catalog/postgres/pg_gallery.cpp src/catalog/postgres/pg_read.h src/catalog/postgres/pg_read.cpp
)
command -v clang-format >/dev/null || { echo "format.sh: clang-format is missing (apt-get install clang-format)" >&2; exit 2; }
if [ "${1:-}" = --check ]; then
  clang-format --dry-run -Werror "${FORMATTED[@]}"
  echo "format: ${#FORMATTED[@]} files clean"
else
  clang-format -i "${FORMATTED[@]}"
fi
