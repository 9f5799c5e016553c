"""``make bench``: run every benchmark, print a table, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
import traceback

from bench.common import ROOT, Result, commit, machine

MODULES = ["bench.core", "bench.hall", "bench.display", "bench.estimate", "bench.haocp", "bench.county", "bench.phones",
           "bench.standby"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--only", help="run only benchmarks whose name contains this")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    # with --only, the figures not run this time are kept from docs/benchmarks.md as they were
    args = parser.parse_args(argv)
    results: list[Result] = []
    print(f"machine: {machine()}\ncommit: {commit()}\n", flush=True)
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"{name}: skipped ({exc})", flush=True)
            continue
        for bench in module.BENCHES:
            if args.only and args.only not in bench.__name__:
                continue
            print(f"running {bench.__name__} ...", flush=True)
            try:
                result = bench()
            except Exception as exc:
                traceback.print_exc()
                result = Result(bench.__name__, "", f"failed: {exc}", False, "")
            for result in (result if isinstance(result, list) else [result]):  # a bench may give several figures
                results.append(result)
                print(f"  {result.figure}: {result.value} (target {result.target})", flush=True)
                for key, value in result.details.items():
                    print(f"    {key}: {value}", flush=True)
    if not args.no_write:
        write(merge_kept(results) if args.only else results)
    return 0 if all(r.ok is not False for r in results) else 1


def merge_kept(results: list[Result]) -> list[Result]:
    """The figures of this run plus those docs/benchmarks.md already has from earlier runs."""
    path = ROOT / "docs" / "benchmarks.md"
    if not path.exists():
        return results
    text = path.read_text(encoding="utf-8")
    fresh = {r.figure for r in results}
    kept: list[Result] = []
    for line in text.split("## Method")[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) != 4 or cells[0] in ("figure", "---") or cells[0] in fresh:
            continue
        figure, target, value, met = cells
        method, details, table, inside = "", {}, [], False
        for m in text.split("## Method", 1)[-1].splitlines():
            if m.startswith("- **"):
                inside = m.startswith(f"- **{figure}**: ")
                if inside:
                    method = m[len(f"- **{figure}**: "):]
            elif inside and m.startswith("  - ") and ": " in m:
                key, _, value_ = m[4:].partition(": ")
                details[key] = value_
            elif inside and m.startswith("  | "):
                table.append(m[2:])
        result = Result(figure, target, value, {"yes": True, "no": False}.get(met), method, details=details)
        if table:
            result.table = table
        kept.append(result)
    return kept + results


SUITE_SECTION = "## The test suite's time"


def write(results: list[Result]) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Benchmarks", "", "Written by `make bench` (`python -m bench`); do not edit by hand, except the last "
             "section (the test suite's time, measured by hand; `make bench` keeps it).", "",
             f"- date: {now}", f"- commit: {commit()}", f"- machine: {machine()}", "",
             "| figure | target | measured | met |", "| --- | --- | --- | --- |"]
    for r in results:
        met = "yes" if r.ok else ("no" if r.ok is False else "n/a")
        lines.append(f"| {r.figure} | {r.target} | {r.value} | {met} |")
    lines += ["", "## Method", ""]
    for r in results:
        lines.append(f"- **{r.figure}**: {r.method}")
        for key, value in r.details.items():
            lines.append(f"  - {key}: {value}")
        table = getattr(r, "table", None)  # a side-by-side table (bench.phones), indented under its figure
        if table:
            lines += [""] + [f"  {row}" for row in table] + [""]
    path = ROOT / "docs" / "benchmarks.md"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = old[old.index(SUITE_SECTION):] if SUITE_SECTION in old else ""  # measured by hand, not by bench
    path.write_text("\n".join(lines) + "\n" + ("\n" + kept if kept else ""), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
