"""The config sections that parts above the core own (``[hall]``, ``[ui]``, ``[central]``), found
by name so that the core never imports the parts that use it.

A part declares a ``Section`` next to its keys and registers it as an entry point of the
``hwd.config_sections`` group (setup.cfg): the entry point's name is the section's name in the
file, its value the ``Section``. ``hwd.config.load`` imports the owner of each section the file
has, and only those: ``hwd --check`` validates ``[ui]`` with the rest of the file while neither
the core nor a daemon whose file has no ``[ui]`` imports the pages. ``hwd.configdoc`` documents
every registered section. A section of another program's file (``[central]``, read by
hwd-central from its own file through ``hwd.config.load_file``) is refused in the hall PC's file.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Sequence

from hwd.schema import Field

GROUP = "hwd.config_sections"
HALL_FILE = "hwd"  # the hall PC's file (/etc/hwd/hwd.toml), read by hwd, hwd-ui and hwctl


@dataclass(frozen=True)
class Section:
    """One top-level table of a config file and the part that checks it."""

    name: str
    load: Callable[[Any, Any], Any]  # (raw table, the loader's context) → typed value; problems go to ctx.problems
    tables: tuple[tuple[str, Sequence[Field]], ...]  # (heading, keys) for docs/config.md, the section's first
    about: str = ""  # one line under the heading in docs/config.md
    reader: str = HALL_FILE  # the program whose file holds the section


class Unavailable(Exception):
    """A registered section whose owner cannot be imported (a part not installed, a broken module)."""


@functools.cache
def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=GROUP)}


def names() -> tuple[str, ...]:
    """The registered sections' names, without importing their owners."""
    return tuple(sorted(_entry_points()))


@functools.cache
def get(name: str) -> Section:
    """The registered section ``name``; ``KeyError`` when none is, ``Unavailable`` when its owner
    cannot be imported."""
    entry = _entry_points()[name]
    try:
        section = entry.load()
    except (ImportError, AttributeError) as exc:
        raise Unavailable(f"{entry.value} cannot be loaded: {exc}") from None
    if not isinstance(section, Section) or section.name != name:
        raise Unavailable(f"{entry.value} is not the Section {name!r}")
    return section
