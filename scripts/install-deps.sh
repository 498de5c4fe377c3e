#!/usr/bin/env bash
# Installs the system packages frontdesk needs to build and run, when missing:
# cmake + clang/libclang (whisper.cpp through whisper-rs-sys), espeak-ng and its
# development files (phonemes for the Piper voice), python3 with pip (fetches
# the pinned model packages), sox (handy for listening to recordings),
# chromium and chromium-driver (the dashboard's real-browser tests drive
# headless Chromium through WebDriver).
set -euo pipefail

missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need_file() { compgen -G "$1" >/dev/null || missing+=("$2"); }

need_cmd cmake cmake
need_cmd clang clang
need_file "/usr/lib/llvm-*/lib/libclang*.so*" libclang-dev
need_cmd espeak-ng espeak-ng
need_file "/usr/include/espeak-ng/speak_lib.h" libespeak-ng-dev
need_cmd pkg-config pkg-config
need_cmd sox sox
need_cmd chromium chromium
need_cmd chromedriver chromium-driver
need_cmd python3 python3
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing missing system packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "error: need root (or sudo) to install: ${missing[*]}" >&2
    echo "       on Debian/Ubuntu: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
