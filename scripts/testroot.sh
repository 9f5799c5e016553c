#!/bin/sh
# A cached Debian 12 root for the tests that need a real system: `make test-install` boots one
# with systemd-nspawn (a hall PC), the ARM64 proof runs one under qemu-user-static. Made once with
# debootstrap from Debian's archive, then reused: prints the root's path on stdout.
#
#   sh scripts/testroot.sh boot     amd64 root that boots systemd: what a hall PC's OS brings
#   sh scripts/testroot.sh arm64    arm64 root with Python and a compiler (evdev builds there)
#
# Environment: HWD_TEST_CACHE (default /var/cache/hwd-test: outside the tree, kept between runs),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), HWD_TESTROOT_CACHED_ONLY=1 (never build:
# exit 3 when there is no cached root; .ci/run asks so).
# The directory name carries a hash of the package list, so changing the list makes a new root.
# Exit 3 with the reason on stderr when this machine cannot make it (not root, no debootstrap,
# the archive unreachable): the callers skip with that reason.
set -eu

KIND=${1:-boot}
CACHE=${HWD_TEST_CACHE:-/var/cache/hwd-test}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

case "$KIND" in
    boot)
        ARCH=amd64
        # the OS of a hall PC as a field engineer finds it (make install's system packages among
        # them: the hall is offline, nothing can be apt-got there), plus make for `make install`
        PACKAGES="systemd,systemd-sysv,dbus,python3,python3-venv,make,sqlite3,alsa-utils,espeak-ng,fontconfig,fonts-wqy-microhei,procps"
        ;;
    arm64)
        ARCH=arm64
        # evdev has no wheel: pip compiles it on the target (python3-dev, gcc, the kernel headers)
        PACKAGES="python3,python3-venv,python3-dev,gcc,libc6-dev,linux-libc-dev"
        ;;
    *) echo "testroot: unknown kind $KIND (boot or arm64)" >&2; exit 2 ;;
esac

skip() { echo "testroot: $*" >&2; exit 3; }

sum=$(printf '%s %s %s' "$SUITE" "$ARCH" "$PACKAGES" | sha256sum | cut -c1-12)
ROOT=$CACHE/$SUITE-$KIND-$sum
if [ -x "$ROOT/usr/bin/python3" ] && [ -f "$ROOT/.hwd-testroot-complete" ]; then
    echo "$ROOT"
    exit 0
fi

[ "${HWD_TESTROOT_CACHED_ONLY:-0}" = 1 ] && skip "no cached $KIND root in $CACHE yet (make test-install makes it)"
[ "$(id -u)" = 0 ] || skip "not root: debootstrap needs root"
command -v debootstrap >/dev/null 2>&1 || skip "debootstrap is not installed (make sysdeps installs it)"
if [ "$ARCH" != "$(dpkg --print-architecture 2>/dev/null || echo amd64)" ]; then
    command -v qemu-aarch64-static >/dev/null 2>&1 || skip "qemu-user-static is not installed (make sysdeps)"
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || skip "binfmt for qemu-aarch64 is not registered (update-binfmts --enable qemu-aarch64)"
fi

mkdir -p "$CACHE"
tmp=$(mktemp -d "$CACHE/.make-$KIND-XXXXXX")
chmod 0755 "$tmp"  # it becomes "/": every user must get through it
trap 'rm -rf "$tmp"' EXIT
echo "testroot: debootstrap $SUITE $ARCH into $ROOT (once; a few minutes)" >&2
if ! debootstrap --arch="$ARCH" --variant=minbase --include="$PACKAGES" "$SUITE" "$tmp" "$MIRROR" \
        >"$CACHE/debootstrap-$KIND.log" 2>&1; then
    tail -5 "$CACHE/debootstrap-$KIND.log" >&2
    skip "debootstrap failed (is $MIRROR reachable?); log: $CACHE/debootstrap-$KIND.log"
fi
# a booted root needs a machine id of its own and no root password prompt on the console
: >"$tmp/etc/machine-id"
echo "hallpc" >"$tmp/etc/hostname"
touch "$tmp/.hwd-testroot-complete"
rm -rf "$ROOT"
mv "$tmp" "$ROOT"
trap - EXIT
echo "$ROOT"
