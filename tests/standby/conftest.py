"""Fixtures of the standby tests: a three-PC hall on loopback addresses (cluster.py), skipped with
the reason when this machine cannot run one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from cluster import Cluster, unusable  # noqa: E402


@pytest.fixture
def make_cluster(tmp_path):
    """``make_cluster(**options)`` → a started Cluster (tests/standby/cluster.py); always torn down."""
    why = unusable()
    if why:
        pytest.skip(f"standby cluster: {why}")
    made: list[Cluster] = []

    def make(start: bool = True, **options) -> Cluster:
        cluster = Cluster(tmp_path, **options)
        made.append(cluster)
        return cluster.start() if start else cluster

    yield make
    for cluster in made:
        cluster.close()
