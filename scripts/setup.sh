#!/usr/bin/env bash
# Installs what Tuneforge needs on a fresh Debian 12 machine. Sourced by ./tuneforge; safe to run again.
#
# TorchSharp 0.107 ships libtorch 2.10 built against a newer libstdc++ (it needs GLIBCXX_3.4.32).
# Debian 12 ships GLIBCXX_3.4.30, so we add Debian 13 ("trixie") with a low pin and install only
# its libstdc++6 (which also brings libc6 2.41: Debian 13's libstdc++ needs GLIBC_2.38).
set -euo pipefail

tf_log() { printf '[tuneforge setup] %s\n' "$*" >&2; }

tf_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

tf_libstdcxx_ok() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6; do
    [ -e "$lib" ] && grep -aq 'GLIBCXX_3\.4\.32' "$lib" && return 0
  done
  return 1
}

tf_install_libstdcxx() {
  tf_log "TorchSharp's libtorch needs libstdc++ with GLIBCXX_3.4.32; this system has an older one."
  tf_log "Installing Debian 13 (trixie) libstdc++6 with a low apt pin (also upgrades libc6 to 2.41). About a minute."
  if [ ! -f /etc/apt/sources.list.d/tuneforge-trixie.sources ]; then
    tf_as_root tee /etc/apt/sources.list.d/tuneforge-trixie.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    tf_as_root tee /etc/apt/preferences.d/tuneforge-trixie >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  fi
  tf_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  tf_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  tf_libstdcxx_ok || { tf_log "libstdc++ still lacks GLIBCXX_3.4.32; cannot run TorchSharp"; return 1; }
  tf_log "libstdc++ is now recent enough."
}

tf_setup() {
  command -v dotnet >/dev/null || { tf_log "the .NET 10 SDK is required (dotnet not on PATH)"; return 1; }
  tf_libstdcxx_ok || tf_install_libstdcxx
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then tf_setup; fi
