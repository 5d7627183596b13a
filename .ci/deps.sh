#!/usr/bin/env bash
# Installs the Debian packages pyagent needs to build and test, when missing.
# Sourced by examples/demo.sh, tests/run.sh and .ci/run. Needs root (or sudo) only
# when something is missing.
pa_deps_install() {
    local pkgs=(cmake make gcc pkg-config python3 libunwind-dev libpfm4-dev libmimalloc-dev
                libzstd-dev libcmocka-dev "$@")
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "pyagent: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
