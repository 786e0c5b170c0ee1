# Sourced by bootstrap.sh: decides whether the editable install in a virtual environment is stale.
# An editable install picks up Python edits by itself; only what changes the build (pyproject.toml,
# the C++ sources, the CMake files), the interpreter or the checkout path needs a reinstall. A
# stamp in the venv records one fingerprint line per such input, written after a successful install.
# Usage (from the repository root):
#   source scripts/install_state.sh
#   install_reason VENV        # prints nothing when up to date, else what changed
#   write_install_stamp VENV   # after a successful install

INSTALL_STAMP_NAME=".keras-binary-install-stamp"

# sha256 of the named files' paths and contents, in a fixed order (missing files hash as absent).
_hash_files() {
  local file
  for file in "$@"; do
    printf '%s\n' "$file"
    if [ -f "$file" ]; then sha256sum < "$file"; else echo absent; fi
  done | sha256sum | cut -d' ' -f1
}

# One "NAME HASH" line per input of the install; NAME is what the reinstall message reports.
install_fingerprint() {
  local venv="$1" python_version cmake_files csrc_files
  python_version="$("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null \
    || echo missing)"
  mapfile -t csrc_files < <(find csrc -type f 2>/dev/null | LC_ALL=C sort)
  mapfile -t cmake_files < <(find . \( -path ./build -o -path ./.git -o -name '.venv*' \) -prune \
    -o -type f \( -name CMakeLists.txt -o -name '*.cmake' \) -print | LC_ALL=C sort)
  echo "pyproject.toml $(_hash_files pyproject.toml)"
  echo "csrc/ $(_hash_files "${csrc_files[@]}")"
  echo "CMake-files $(_hash_files "${cmake_files[@]}")"
  echo "Python-version $python_version"
  echo "checkout-path $(pwd -P)"
}

# Prints why VENV needs an install ("no install stamp", or the changed inputs), nothing if current.
install_reason() {
  local venv="$1" stamp="$1/$INSTALL_STAMP_NAME" changed
  if [ ! -x "$venv/bin/python" ]; then echo "the virtual environment is new"; return; fi
  if [ ! -f "$stamp" ]; then echo "no install stamp (first install)"; return; fi
  changed="$(diff <(install_fingerprint "$venv") "$stamp" | sed -n 's/^< \([^ ]*\) .*/\1/p' \
    | tr '-' ' ' | paste -sd, - | sed 's/,/, /g')"
  [ -n "$changed" ] && echo "$changed changed"
  return 0
}

# Records the current fingerprint (atomically: temporary file in the venv, then rename).
write_install_stamp() {
  local venv="$1" tmp
  tmp="$(mktemp "$venv/$INSTALL_STAMP_NAME.XXXXXX")"
  install_fingerprint "$venv" > "$tmp"
  sync "$tmp" 2>/dev/null || true
  mv -f "$tmp" "$venv/$INSTALL_STAMP_NAME"
}
