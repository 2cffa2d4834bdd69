#!/usr/bin/env bash
# Prepares .deps/, the dependency bundle carried to a GPU machine that has CUDA, PyTorch (its
# LibTorch), cmake and ninja but no package registry (see docs/gpu.md).
#
#   scripts/gpu-deps.sh              # Debian 12 here: download, unpack and prune into .deps/root
#   scripts/gpu-deps.sh --no-heif    # leave out libheif and its codecs (~9 MB)
#
# Packages are only downloaded (`apt-get download`) and unpacked with `dpkg -x`: nothing is
# installed here. FFmpeg is left out (over 100 MB with its codecs), so videos are Unsupported on
# that build. glibc, libstdc++, libgcc, zlib, liblzma and libzstd are never carried: the target
# (Ubuntu 24.04) has newer ones. scripts/gpu-build.sh uses the bundle there.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_HEIF=ON
for arg in "$@"; do
  case "$arg" in
    --no-heif) WITH_HEIF=OFF ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "gpu-deps.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
command -v apt-get >/dev/null && command -v dpkg >/dev/null ||
  { echo "gpu-deps.sh: needs a Debian 12 machine (apt-get, dpkg)" >&2; exit 1; }

# -dev packages (headers, .pc, CMake configs) and the runtime libraries they link to.
packages=(
  libturbojpeg0-dev libturbojpeg0 libjpeg62-turbo-dev libjpeg62-turbo
  libpng-dev libpng16-16
  libwebp-dev libwebp7 libwebpmux3 libwebpdemux2
  libexif-dev libexif12
  libtiff-dev libtiff6 libtiffxx6 libdeflate-dev libdeflate0 libjbig-dev libjbig0 liblerc-dev liblerc4
  libzstd-dev liblzma-dev zlib1g-dev
  libgif-dev libgif7
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9
  nlohmann-json3-dev libcli11-dev
  libxxhash-dev libxxhash0
  libsqlite3-dev libsqlite3-0
  # libpq (postgresql:// catalogs) and what it links: Ubuntu 24.04 has newer builds of most of
  # these (gpu-build.sh then uses the system's), but not OpenLDAP 2.5's soname.
  libpq-dev libpq5 libssl3 libldap-2.5-0 libsasl2-2 libsasl2-modules-db libdb5.3
  libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1
  libgnutls30 libnettle8 libhogweed6 libgmp10 libidn2-0 libunistring2 libtasn1-6 libp11-kit0 libffi8
  libgtest-dev libgmock-dev
  pkgconf pkgconf-bin libpkgconf3   # in case the target has no pkg-config
)
if [ "$WITH_HEIF" = ON ]; then
  packages+=(libheif-dev libheif1 libde265-0 libx265-199 libaom3 libdav1d6 libnuma1)
fi

DEPS=.deps
ROOT=$DEPS/root
rm -rf "$DEPS"
mkdir -p "$DEPS/debs" "$ROOT"
echo "==> apt-get download (${#packages[@]} packages)"
(cd "$DEPS/debs" && apt-get download "${packages[@]}" >/dev/null 2>"../download.log") ||
  { cat "$DEPS/download.log" >&2; echo "gpu-deps.sh: apt-get download failed (apt-get update?)" >&2; exit 1; }
for deb in "$DEPS"/debs/*.deb; do dpkg -x "$deb" "$ROOT"; done

# Boost (the server's Beast/Asio, header-only): the whole of libboost1.81-dev is 180 MB of
# headers, so only those our sources include travel (as C++17 and C++20 see them), plus
# boost/config (chosen by compiler) and the CMake package files.
echo "==> Boost headers"
BOOST=$DEPS/boost
(cd "$DEPS/debs" && apt-get download libboost1.81-dev >/dev/null 2>>"../download.log") ||
  { cat "$DEPS/download.log" >&2; echo "gpu-deps.sh: apt-get download libboost1.81-dev failed" >&2; exit 1; }
dpkg -x "$DEPS"/debs/libboost1.81-dev_*.deb "$BOOST"
rm -f "$DEPS"/debs/libboost1.81-dev_*.deb
boost_users=$(grep -l '#include <boost/' src/*/*.cpp src/*/*.h tests/*/*.cpp bench/*.cpp 2>/dev/null || true)
{
  for std in c++17 c++20; do
    for f in $boost_users; do
      g++ -std=$std -M -MG -isystem "$BOOST/usr/include" -Isrc "$f" 2>/dev/null
    done
  done | tr ' \\' '\n\n' | sed -n "s#^$BOOST/usr/include/##p"
  (cd "$BOOST/usr/include" && find boost/config -type f)
} | sort -u > "$DEPS/boost-headers.txt"
[ -s "$DEPS/boost-headers.txt" ] || { echo "gpu-deps.sh: found no Boost headers to carry (g++?)" >&2; exit 1; }
mkdir -p "$ROOT/usr/include" "$ROOT/usr/lib/x86_64-linux-gnu/cmake"
tar -C "$BOOST/usr/include" -cf - -T "$DEPS/boost-headers.txt" | tar -C "$ROOT/usr/include" -xf -
cp -r "$BOOST"/usr/lib/x86_64-linux-gnu/cmake/{Boost-1.81.0,boost_headers-1.81.0,BoostDetectToolset-1.81.0.cmake} \
  "$ROOT/usr/lib/x86_64-linux-gnu/cmake/"
rm -rf "$BOOST"
ls "$DEPS/debs" > "$DEPS/packages.txt"
rm -rf "$DEPS/debs"

echo "==> prune"
LIB=$ROOT/usr/lib/x86_64-linux-gnu
rm -rf "$ROOT"/usr/share/{doc,man,lintian,bug,info,locale} "$ROOT"/usr/src "$ROOT"/etc
# Static archives only where a shared library exists; GoogleTest ships only .a, which stays.
for a in "$LIB"/*.a; do
  [ -e "${a%.a}.so" ] && rm -f "$a"
done
# Runtime libraries the target always has (newer): never carry them. Their -dev links point at
# the soname, which gpu-build.sh links to the target's copy; liblzma/libzstd are needed only as
# .pc files (libtiff's Requires.private), never linked.
rm -f "$LIB"/libz.so.1* "$LIB"/liblzma.* "$LIB"/libzstd.* "$LIB"/libzstd.a
ln -sf libz.so.1 "$LIB/libz.so"
# A few packages (libcom-err2, libkeyutils1) still ship their library under /lib.
if [ -d "$ROOT/lib/x86_64-linux-gnu" ]; then cp -a "$ROOT"/lib/x86_64-linux-gnu/. "$LIB/"; fi
rm -rf "$ROOT"/lib "$ROOT"/usr/lib/pkgconfig "$LIB"/cmake/zstd "$ROOT"/usr/share/aclocal "$ROOT"/usr/share/doc-base
# .pc files name /usr: make them relative to their own folder so the bundle works from anywhere.
for pc in "$LIB"/pkgconfig/*.pc; do
  sed -i -E 's#^([A-Za-z_]+)=/usr(/|$)#\1=${pcfiledir}/../../..\2#' "$pc"
done
for pc in "$ROOT"/usr/share/pkgconfig/*.pc; do
  sed -i -E 's#^([A-Za-z_]+)=/usr(/|$)#\1=${pcfiledir}/../..\2#' "$pc"
done
# libheif's codecs come as runtime libraries only: with no .pc of theirs, drop its
# Requires.private (only a static link would need it).
sed -i '/^Requires.private:/d' "$LIB/pkgconfig/libheif.pc" 2>/dev/null || true
# libpq's names OpenSSL's .pc files, for static links only: the system's libssl3 serves it.
sed -i '/^Requires.private:/d' "$LIB/pkgconfig/libpq.pc" 2>/dev/null || true

# The runtime libraries' sonames: gpu-build.sh points each at the system's copy when the target
# has one (same soname, newer build), so a process never mixes two builds of one library.
: > "$DEPS/sonames.txt"
for so in "$LIB"/*.so.*; do
  [ -f "$so" ] && [ ! -L "$so" ] || continue
  objdump -p "$so" | awk '/SONAME/ {print $2}' >> "$DEPS/sonames.txt"
done
sort -u -o "$DEPS/sonames.txt" "$DEPS/sonames.txt"
echo "WITH_HEIF=$WITH_HEIF" > "$DEPS/bundle.env"

# Every library a carried library needs must be carried or be part of the target's base system.
base='^(libc|libm|libdl|libpthread|librt|libresolv|libgcc_s|libstdc\+\+|libz|liblzma|libzstd|ld-linux-x86-64)\.so'
missing=0
for so in "$LIB"/*.so.* "$ROOT"/usr/bin/*; do
  [ -f "$so" ] && [ ! -L "$so" ] || continue
  for need in $(objdump -p "$so" 2>/dev/null | awk '/NEEDED/ {print $2}'); do
    if ! [[ "$need" =~ $base ]] && [ ! -e "$LIB/$need" ]; then
      echo "gpu-deps.sh: $(basename "$so") needs $need, which is not carried" >&2
      missing=1
    fi
  done
done
[ $missing = 0 ] || exit 1

# What travels: one compressed file (the tree it unpacks to is ~40 MB, over the carry budget).
tar -C "$DEPS" -cJf "$DEPS/bundle.tar.xz" root packages.txt sonames.txt bundle.env
# The test photos (../shared/testdata/photos, 5 MB) travel beside the bundle when present: the
# media tests want all 13 of them, and only samples/ (6) is in the repository.
if [ -d ../shared/testdata/photos ]; then
  rm -rf "$DEPS/photos" && cp -r ../shared/testdata/photos "$DEPS/photos"
fi
echo "==> .deps/bundle.tar.xz: $(du -h "$DEPS/bundle.tar.xz" | cut -f1), unpacked $(du -sh "$ROOT" | cut -f1) ($(wc -l < "$DEPS/packages.txt") packages, HEIF=$WITH_HEIF, FFmpeg=OFF)"
