"""Dependencies one way, read from the source with ``ast`` (nothing is imported): no import cycle
between modules or between packages, and each part imports only its own layer or those below it:

    core (hwd.*)  ←  drivers, hwd.hall  ←  hwd.upstream, hwd.county  ←  hwd.hall_wiring  ←  hwd.standby
                  ←  the apps (hwd-ui, hwd-central, the daemon and its command lines, the benchmarks)

Every ``import`` counts, at the top of a module or inside a function, except those under
``if TYPE_CHECKING:`` (typing only). Two parts of the same layer do not import each other
(the hall and the drivers; the province's adapters and the county's); apps may run apps. A package cycle is one
between packages neither of which contains the other (``hwd.hall.queue`` ↔ ``hwd.hall.ratings``
counts; a sub-package importing its parent's shared modules does not: the module graph still
forbids any cycle there). Test-only code in the runtime packages (the province's emulator) is
imported by nothing that runs.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hwd", "drivers", "kiosk_ui", "central", "bench")

# (prefix, layer): the longest prefix names a module's part; any other hwd module is core
PARTS = {
    "drivers": "drivers",
    "hwd.hall": "hall",
    "hwd.upstream": "adapters", "hwd.county": "adapters",
    "hwd.hall_wiring": "composition",  # the hall engine wired to the adapters
    "hwd.standby": "standby",  # runs the wired engine on one of two PCs
    # the apps: what a person or systemd runs
    "kiosk_ui": "apps", "central": "apps", "bench": "apps",
    "hwd.daemon": "apps", "hwd.cli": "apps", "hwd.__main__": "apps", "hwd.hwctl": "apps",
    "hwd.metrics": "apps",  # the daemon's own numbers (daemon.metrics): reads the daemon, its hall included
}
RANK = {"core": 0, "drivers": 1, "hall": 1, "adapters": 2, "composition": 3, "standby": 4, "apps": 5}
TEST_ONLY = ("hwd.upstream.emulator",)  # imported only by tests/ and bench/

def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports anywhere in its file, typing-only imports aside."""
    def resolve(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if _type_checking(node.test):
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            for alias in node.names:
                target = resolve(alias.name)
                if target:
                    out.add(target)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                target = full if full in known else resolve(module)
                if target:
                    out.add(target)

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    out.discard(name)
    return out


@functools.cache
def graph() -> dict[str, set[str]]:
    """The import graph of the repository, read once (the tests only read it)."""
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(edges.get(succ, ())))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def package_of(name: str, packages: set[str]) -> str:
    return name if name in packages else name.rpartition(".")[0] or name


def packages() -> set[str]:
    return {name for name, path in modules().items() if path.name == "__init__.py"}


def package_graph(edges: dict[str, set[str]], packages: set[str]) -> dict[str, set[str]]:
    """Module imports as imports between packages that do not contain one another."""
    out: dict[str, set[str]] = {}
    for name, targets in edges.items():
        a = package_of(name, packages)
        for target in targets:
            b = package_of(target, packages)
            if a != b and not a.startswith(b + ".") and not b.startswith(a + "."):
                out.setdefault(a, set()).add(b)
    return out


def part_of(name: str) -> str:
    best = ""
    for prefix in PARTS:
        if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return best or "hwd"


def layer_of(name: str) -> str:
    return PARTS.get(part_of(name), "core")


def _explain(component: set[str], edges: dict[str, set[str]]) -> str:
    return "; ".join(f"{a} -> {b}" for a in sorted(component) for b in sorted(edges.get(a, ())) if b in component)


def test_the_graph_is_read():
    """The reader sees what it must: imports inside functions, none under TYPE_CHECKING."""
    edges = graph()
    assert "hwd.hall.queue.core" in edges["hwd.hall.engine"]
    assert "hwd.hall.engine" in edges["hwd.hall_wiring"]
    assert "hwd.upstream.push_json" in edges["hwd.upstream"]  # imported inside sinks()
    assert "hwd.hall.engine" not in edges["hwd.hall.api"]  # under TYPE_CHECKING only
    assert len(edges) > 200


def test_no_import_cycle_between_modules():
    edges = graph()
    found = cycles(edges)
    assert not found, "import cycles: " + " | ".join(_explain(c, edges) for c in found)


def test_no_import_cycle_between_packages():
    edges = package_graph(graph(), packages())
    found = cycles(edges)
    assert not found, "package cycles: " + " | ".join(_explain(c, edges) for c in found)


def test_each_part_imports_only_its_layer_and_those_below():
    wrong = []
    for name, targets in graph().items():
        for target in sorted(targets):
            a, b = part_of(name), part_of(target)
            if a == b or layer_of(name) == layer_of(target) == "apps":
                continue  # an app may run another (hwd -> the daemon, a benchmark -> hwd-ui's settings)
            if RANK[layer_of(target)] >= RANK[layer_of(name)]:
                wrong.append(f"{name} ({layer_of(name)}) imports {target} ({layer_of(target)})")
    assert not wrong, "\n".join(wrong)


def test_test_only_code_is_imported_by_nothing_that_runs():
    wrong = [f"{name} imports {target}" for name, targets in graph().items()
             for target in sorted(targets & set(TEST_ONLY)) if not name.startswith("bench.")]
    assert not wrong, "\n".join(wrong)


def test_the_checks_catch_what_they_look_for():
    """A cycle through a function-level import, a package cycle and an upward import are found."""
    assert cycles({"a.x": {"a.y"}, "a.y": {"a.x"}, "b": set()}) == [{"a.x", "a.y"}]
    modules_only = {"p.q.m": {"p.r.n"}, "p.r.n": {"p.q.k"}, "p.q.k": set(), "p.s": {"p.q.k"}, "p.q": {"p.s"}}
    assert cycles(modules_only) == []
    between = package_graph(modules_only, {"p", "p.q", "p.r"})
    assert between == {"p.q": {"p.r"}, "p.r": {"p.q"}} and cycles(between) == [{"p.q", "p.r"}]
    path = ROOT / "hwd" / "hall" / "engine.py"
    read = imports_of("hwd.hall.engine", path, modules())
    assert "hwd.hall.queue.core" in read and "hwd.hall.api" not in read
    assert layer_of("hwd.hall.queue.core") == "hall" and layer_of("hwd.errors") == "core"
    assert layer_of("hwd.daemon") == "apps" and layer_of("hwd.hall_wiring") == "composition"
    assert RANK[layer_of("hwd.upstream.h5")] > RANK[layer_of("hwd.hall.views")]
