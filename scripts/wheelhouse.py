"""A wheelhouse for another machine's platform (make wheelhouse PLATFORM=aarch64): the wheels of
hwd and its dependencies for ARM64 (信创: Kunpeng, Phytium under UOS / Kylin), built on this
connected x86_64 machine, and which dependencies have no wheel there and will be compiled on the
target (their sdist is put in instead).

    python3 scripts/wheelhouse.py aarch64 [--python 3.11] [--glibc 2.28] [--dest DIR]

pip only takes a wheel whose platform tag the target accepts: manylinux2014 (glibc 2.17) up to
manylinux_2_<glibc> — 2.28 is what UOS 20 and Kylin V10 ship; Debian 12 has 2.36. A dependency
with no such wheel is downloaded as an sdist, and the report (also in DEST/REPORT.txt) names it
and what its build needs on the target. make install WHEELHOUSE=DIR on the target then builds it
offline (setuptools and wheel are in the wheelhouse).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1]
# what building each known sdist needs on a Debian-like target, beyond Python's own headers
BUILD_NEEDS = {"evdev": "gcc, python3-dev, linux-libc-dev (the kernel's input headers)"}


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=900)


def requirements(wheel: Path) -> list[str]:
    """hwd's own requirements with the ``all`` extra, from the wheel's METADATA."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = zf.read(name).decode()
    out = []
    for line in meta.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req, _, marker = line.split(":", 1)[1].partition(";")
        marker = marker.strip()
        if marker and not re.fullmatch(r'extra\s*==\s*"all"', marker):
            continue
        out.append(req.strip())
    return out


def platforms(arch: str, glibc: str) -> list[str]:
    top = int(glibc.split(".")[1])
    return ["manylinux2014_" + arch] + [f"manylinux_2_{minor}_{arch}" for minor in range(17, top + 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("arch", help="aarch64 (ARM64), or loongarch64 (see docs/deploy.md: no wheels yet)")
    parser.add_argument("--python", default="3.11", help="the target's Python (X.Y)")
    parser.add_argument("--glibc", default="2.28", help="the oldest glibc among the target systems")
    parser.add_argument("--dest", type=Path, help="default dist/wheelhouse-ARCH")
    args = parser.parse_args(argv)
    dest = args.dest or SRC / "dist" / f"wheelhouse-{args.arch}"
    dest.mkdir(parents=True, exist_ok=True)
    pyver = args.python.replace(".", "")
    target = ["--only-binary=:all:", "--python-version", args.python, "--implementation", "cp",
              "--abi", f"cp{pyver}", "--abi", "abi3", "--abi", "none"]
    for tag in platforms(args.arch, args.glibc):
        target += ["--platform", tag]

    with tempfile.TemporaryDirectory() as tmp:  # hwd itself: pure Python, one wheel for every platform
        built = pip("wheel", "-q", "--no-deps", "-w", tmp, str(SRC))
        if built.returncode != 0:
            print(built.stdout + built.stderr, file=sys.stderr)
            return 1
        wheel = next(Path(tmp).glob("hwd-*.whl"))
        (dest / wheel.name).write_bytes(wheel.read_bytes())
    wheels, sdists, missing = [], [], []
    for req in requirements(dest / wheel.name) + ["pip", "setuptools>=64", "wheel"]:
        got = pip("download", "-q", "-d", str(dest), *target, req)
        if got.returncode == 0:
            wheels.append(req)
            continue
        source = pip("download", "-q", "-d", str(dest), "--no-deps", "--no-binary=:all:", req)
        (sdists if source.returncode == 0 else missing).append(req)
    name = re.compile(r"[A-Za-z0-9_.-]+")
    lines = [f"wheelhouse for {args.arch}, CPython {args.python}, glibc >= {args.glibc} "
             f"({', '.join(platforms(args.arch, args.glibc)[:1] + platforms(args.arch, args.glibc)[-1:])}): {dest}",
             f"{len(list(dest.iterdir()))} files; {len(wheels)} requirements as wheels"]
    if sdists:
        lines.append("no wheel for this platform, compiled on the target by make install (sdist included):")
        for req in sdists:
            base = name.match(req).group(0).lower()
            lines.append(f"  {req}: needs {BUILD_NEEDS.get(base, 'a C compiler and python3-dev')}")
    elif not missing:
        lines.append("every requirement has a wheel: nothing is compiled on the target")
    if missing:
        lines.append("NOT AVAILABLE for this platform (no wheel, no sdist): the wheelhouse is incomplete:")
        lines += [f"  {req}" for req in missing]
    report = "\n".join(lines) + "\n"
    (dest / "REPORT.txt").write_text(report)
    sys.stdout.write(report)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
