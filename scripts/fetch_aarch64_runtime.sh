#!/usr/bin/env bash
# Fetches what runs an exported model on aarch64 from an x86 machine, without root and without
# installing anything: qemu-aarch64 (a static binary from Debian bookworm-backports' qemu-user
# 10.x; bookworm's 7.2 crashes in onnxruntime), a sysroot of Debian bookworm arm64 packages with
# Python 3.11, and PyPI's aarch64 wheels of onnxruntime and numpy (the versions PYTHON has,
# so both architectures run the same runtime). Cached: a run that finds a complete runtime of
# those versions returns at once; a half-done fetch is never taken for a done one (it is built
# in a temporary folder renamed into place at the end). Prints the runtime folder, which holds
# qemu-aarch64, sysroot/ (python: sysroot/usr/bin/python3.11) and site/ (its PYTHONPATH).
# Usage: scripts/fetch_aarch64_runtime.sh [DEST]   (default build/aarch64/runtime; PYTHON picks
# the interpreter whose onnxruntime and numpy versions are fetched, default python3)
set -euo pipefail
cd "${0%/*}/.."
DEST="${1:-build/aarch64/runtime}"
PYTHON="${PYTHON:-python3}"
# Debian bookworm's Python is 3.11: the wheels are fetched for it.
PY_VERSION=3.11
versions="$("$PYTHON" -c 'import numpy, onnxruntime; print(onnxruntime.__version__, numpy.__version__)')" \
  || { echo "fetch_aarch64_runtime: $PYTHON cannot import onnxruntime and numpy" >&2; exit 1; }
read -r ort_version numpy_version <<<"$versions"
stamp="onnxruntime==$ort_version numpy==$numpy_version python$PY_VERSION"
cached() { [ -f "$DEST/COMPLETE" ] && [ "$(<"$DEST/COMPLETE")" = "$stamp" ]; }
if cached; then
  (cd "$DEST" && pwd -P)
  exit 0
fi
for tool in apt-get dpkg-deb unzip; do
  command -v "$tool" >/dev/null || { echo "fetch_aarch64_runtime: $tool not found (Debian tools needed)" >&2; exit 1; }
done
mkdir -p "$(dirname "$DEST")"
# One fetch at a time per folder (two test processes may ask at once); the second finds it done.
if command -v flock >/dev/null; then
  exec 9>"$DEST.lock"
  flock 9
  if cached; then
    (cd "$DEST" && pwd -P)
    exit 0
  fi
fi
parent="$(cd "$(dirname "$DEST")" && pwd -P)"  # apt takes absolute paths only
DEST="$parent/$(basename "$DEST")"
work="$(mktemp -d "$parent/.runtime.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# apt on a private state folder: downloads only, as any user.
apt_download() {  # apt_download ARCH SUITE PACKAGE...
  local arch="$1" suite="$2" state="$work/apt-$1"
  shift 2
  mkdir -p "$state/lists/partial" "$state/archives/partial" "$work/debs"
  echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
    > "$state/sources.list"
  touch "$state/status"
  local opts=(-o "Dir::State=$state" -o "Dir::State::Lists=$state/lists"
    -o "Dir::State::status=$state/status" -o "Dir::Cache=$state"
    -o "Dir::Cache::archives=$state/archives" -o "Dir::Etc::SourceList=$state/sources.list"
    -o "Dir::Etc::SourceParts=$state/none" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
    -o "APT::Architecture=$arch" -o "APT::Architectures=$arch")
  apt-get "${opts[@]}" -qq update >&2
  (cd "$work/debs" && apt-get "${opts[@]}" -qq download "$@" >&2)
}

host_arch="$(dpkg --print-architecture)"
apt_download "$host_arch" bookworm-backports "qemu-user/bookworm-backports"
dpkg-deb --fsys-tarfile "$work"/debs/qemu-user_*.deb | tar -x -C "$work" ./usr/bin/qemu-aarch64
mv "$work/usr/bin/qemu-aarch64" "$work/qemu-aarch64"

# Python 3.11 and the shared libraries onnxruntime and numpy's wheels load.
apt_download arm64 bookworm python3.11-minimal libpython3.11-minimal libpython3.11-stdlib \
  libc6 libstdc++6 libgcc-s1 zlib1g libffi8 libexpat1 libssl3 libbz2-1.0 liblzma5 libuuid1
mkdir -p "$work/sysroot"
for deb in "$work"/debs/*_arm64.deb; do
  dpkg-deb -x "$deb" "$work/sysroot"
done

"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: \
  --platform manylinux_2_28_aarch64 --python-version "$PY_VERSION" --implementation cp \
  -d "$work/wheels" "onnxruntime==$ort_version" "numpy==$numpy_version" >&2
mkdir -p "$work/site"
for wheel in "$work"/wheels/*.whl; do
  unzip -q -o "$wheel" -d "$work/site"
done

# Assembled: the folder is renamed into place, then marked complete.
staged="$work/runtime"
mkdir "$staged"
mv "$work/qemu-aarch64" "$work/sysroot" "$work/site" "$staged/"
echo "$stamp" > "$staged/COMPLETE.tmp"
mv "$staged/COMPLETE.tmp" "$staged/COMPLETE"
# An outdated runtime is moved aside first (one rename), so DEST is never half deleted.
if [ -e "$DEST" ]; then mv "$DEST" "$work/old"; fi
mv "$staged" "$DEST"
echo "$DEST"
