#!/bin/sh
# The ARM64 (信创) proof of docs/deploy.md section 16, run by hand as root (not part of CI):
# `make wheelhouse PLATFORM=aarch64` on this x86_64 machine, then in an arm64 Debian 12 root run
# by qemu-user-static (binfmt), without network: a venv, hwd and its dependencies from that
# wheelhouse only (evdev compiled there from its sdist), and hwd's own hall-engine and hall-store
# tests run against the installed package.
#
#   sh scripts/arm64-proof.sh            prints what it ran and the tests' result
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
[ "$(id -u)" = 0 ] || { echo "arm64-proof: run as root" >&2; exit 1; }
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64

python3 scripts/wheelhouse.py aarch64
# the test tools (not part of a hall's wheelhouse): pure-Python wheels
rm -rf dist/test-wheels
python3 -m pip download -q -d dist/test-wheels --only-binary=:all: --platform manylinux2014_aarch64 \
    --python-version 3.11 --implementation cp pytest pytest-timeout
root=$(sh scripts/testroot.sh arm64)

work=$(mktemp -d /var/tmp/hwd-arm64-XXXXXX)
trap 'umount "$work/root" 2>/dev/null; rm -rf "$work"' EXIT
mkdir "$work/upper" "$work/work" "$work/root"
mount -t overlay overlay -o "lowerdir=$root,upperdir=$work/upper,workdir=$work/work" "$work/root"
mkdir -p "$work/root/proof"
cp -a dist/wheelhouse-aarch64 dist/test-wheels tests docs pytest.ini "$work/root/proof/"  # docs: a test reads docs/hall.md

# --private-network: no index, no mirror — only the wheelhouse
systemd-nspawn --quiet --register=no --keep-unit --private-network -D "$work/root" --chdir=/proof \
    /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 sh -ec '
    echo "arm64-proof: $(uname -m), $(python3 --version), glibc $(ldd --version | head -1 | grep -o "[0-9.]*$")"
    python3 -m venv /opt/hwd/venv
    t0=$(date +%s)
    /opt/hwd/venv/bin/pip install -q --no-index --find-links wheelhouse-aarch64 "$(ls wheelhouse-aarch64/hwd-*.whl)[all]"
    echo "arm64-proof: installed offline in $(( $(date +%s) - t0 )) s:"
    /opt/hwd/venv/bin/python -c "import evdev, zmq, PIL, cryptography, psycopg, hwd, kiosk_ui.app; print(\"  evdev\", evdev.__file__); print(\"  pyzmq\", zmq.zmq_version(), \"libzmq\"); print(\"  hwd\", hwd.__version__)"
    /opt/hwd/venv/bin/pip install -q --no-index --find-links test-wheels pytest pytest-timeout
    t0=$(date +%s)
    /opt/hwd/venv/bin/python -m pytest -q --color=no -p no:cacheprovider tests/hall/test_hall_engine.py tests/hall/test_hall_store.py
    echo "arm64-proof: tests ran in $(( $(date +%s) - t0 )) s under qemu"
'
