#!/usr/bin/env bash
# Fetches ONNX Runtime's C API headers (Debian's libonnxruntime-dev, from the trixie suite, which
# bookworm lacks) into build/ort-headers/ for the ORT custom-op library; the headers are never
# copied into the repository. Cached: a second run finds them and returns at once. Needs no
# root: apt runs on a private state folder and dpkg-deb only unpacks. Prints the include folder.
# Usage: scripts/fetch_ort_headers.sh [DEST]   (default build/ort-headers)
set -euo pipefail
cd "${0%/*}/.."
DEST="${1:-build/ort-headers}"
SUITE="${KB_ORT_HEADERS_SUITE:-trixie}"
INCLUDE="$DEST/usr/include/onnxruntime"
if [ -f "$INCLUDE/onnxruntime_c_api.h" ]; then
  echo "$INCLUDE"
  exit 0
fi
for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "fetch_ort_headers: $tool not found (Debian tools needed)" >&2; exit 1; }
done
mkdir -p "$DEST"
DEST="$(cd "$DEST" && pwd -P)"  # apt takes absolute paths only
INCLUDE="$DEST/usr/include/onnxruntime"
work="$(mktemp -d "$DEST/.apt.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main" \
  > "$work/sources.list"
touch "$work/status"
apt_opts=(-o "Dir::State=$work" -o "Dir::State::Lists=$work/lists" -o "Dir::State::status=$work/status"
  -o "Dir::Cache=$work" -o "Dir::Cache::archives=$work/archives" -o "Dir::Etc::SourceList=$work/sources.list"
  -o "Dir::Etc::SourceParts=$work/none" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$work" && apt-get "${apt_opts[@]}" -qq download libonnxruntime-dev >&2)
dpkg-deb -x "$work"/libonnxruntime-dev_*.deb "$work/unpacked"
# Only the headers are kept; the .deb's library symlink points at a package not installed.
mkdir -p "$DEST/usr/include"
rm -rf "$INCLUDE.tmp"
cp -r "$work/unpacked/usr/include/onnxruntime" "$INCLUDE.tmp"
mv "$INCLUDE.tmp" "$INCLUDE"
echo "$INCLUDE"
