#!/bin/sh
# Installs the optional system packages (espeak-ng, CJK fonts incl. rare characters, chromium, sox, socat, postgresql,
# etcd, nftables, promtool, and for `make test-install` debootstrap and systemd-nspawn, qemu-user-static for the ARM64 proof) when they
# are missing and this machine can (root with apt-get); otherwise says which are missing and
# what will be skipped. Never fails the build: tests that need a missing tool skip with a reason.
want=""
command -v espeak-ng >/dev/null 2>&1 || want="$want espeak-ng"
command -v chromium >/dev/null 2>&1 || want="$want chromium"
command -v sox >/dev/null 2>&1 || want="$want sox"
command -v aplay >/dev/null 2>&1 || want="$want alsa-utils"
command -v socat >/dev/null 2>&1 || want="$want socat"
command -v systemd-analyze >/dev/null 2>&1 || want="$want systemd"
# the county tests start their own server from these binaries (hwd.county.localpg)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want="$want postgresql"
# the standby tests (tests/standby) run real etcd members and cut them apart with nftables
command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || want="$want etcd-server"
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || want="$want nftables"
# `promtool check metrics` checks /metrics and the textfile (tests/deploy/test_metrics_format.py)
command -v promtool >/dev/null 2>&1 || want="$want prometheus"
# make test-install boots a Debian root in a container (tests/deploy/booted.sh)
command -v debootstrap >/dev/null 2>&1 || want="$want debootstrap"
command -v systemd-nspawn >/dev/null 2>&1 || want="$want systemd-container"
# the ARM64 (信创) proof: an arm64 Debian root run under qemu (docs/deploy.md "ARM64 and LoongArch")
command -v qemu-aarch64-static >/dev/null 2>&1 || want="$want qemu-user-static"
command -v update-binfmts >/dev/null 2>&1 || want="$want binfmt-support"
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk\|noto serif cjk" || want="$want fonts-wqy-microhei"
# 生僻字 outside the BMP on tickets (CJK Ext A/B, drawn as raster): HanaMin covers them
fc-list ":charset=20000" 2>/dev/null | grep -q . || want="$want fonts-hanazono"
[ -z "$want" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "sysdeps: installing$want"
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want >/dev/null 2>&1 || \
       { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want >/dev/null 2>&1; }; then
        exit 0
    fi
    echo "sysdeps: could not install$want; tests that need them will be skipped with a reason"
else
    echo "sysdeps: missing$want (not root or no apt-get); tests that need them will be skipped with a reason"
fi
exit 0
