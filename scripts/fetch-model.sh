#!/usr/bin/env bash
# Fetches the bundled default model, CenterNet (MobileNetV3, 80 COCO classes), from the npm
# package @vladmandic/human@3.3.6 with the ordinary npm client, checks its sha256 and puts it
# in models/ (where mediadex looks by default). Idempotent: does nothing when already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE="@vladmandic/human@3.3.6"
DEST="${MEDIADEX_MODEL_DIR:-models}"
declare -A SHA256=(
  [centernet.json]=bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05
  [centernet.bin]=1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef
)

verify() {  # verify FILE -> 0 when its sha256 is the expected one
  local f="$1"
  [ -f "$DEST/$f" ] && echo "${SHA256[$f]}  $DEST/$f" | sha256sum --check --status
}

if verify centernet.json && verify centernet.bin; then
  echo "model: $DEST/centernet.json present, sha256 ok"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-model: npm is required (apt-get install npm)" >&2; exit 1; }
mkdir -p "$DEST" .cache
if ! ls .cache/vladmandic-human-3.3.6.tgz >/dev/null 2>&1; then
  echo "model: fetching $PACKAGE with npm pack ..."
  (cd .cache && npm pack --silent "$PACKAGE" >/dev/null)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf .cache/vladmandic-human-3.3.6.tgz -C "$tmp" package/models/centernet.json package/models/centernet.bin
cp "$tmp/package/models/centernet.json" "$tmp/package/models/centernet.bin" "$DEST/"
for f in centernet.json centernet.bin; do
  if ! verify "$f"; then
    echo "fetch-model: $DEST/$f does not have the expected sha256 ${SHA256[$f]}" >&2
    rm -f "$DEST/$f"
    exit 1
  fi
done
echo "model: $DEST/centernet.json installed from $PACKAGE (sha256 ok)"
