"""Shared fixtures: the proclaim demo is run once per test session into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Fixtures that run the whole pipeline; tests using them are marked ``demo`` so that a quick run
#: (``-m "not demo"``, as ``make mutate`` does) can leave them out.
PIPELINE_FIXTURES = frozenset({"demo_dir", "proclaim_dir"})


@pytest.fixture(autouse=True)
def _numpy_error_state():
    """Each test starts from, and leaves, numpy's error state as it was: lifelines'
    KaplanMeierFitter calls ``numpy.seterr`` when it fits, which would otherwise silence the
    warnings that later tests require to be absent."""
    import numpy as np

    with np.errstate():
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.demo)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full ``toolkit demo`` run: submissions, registry.duckdb, results.json, HTML and PDF."""
    from toolkit.pipeline import run_demo

    out = tmp_path_factory.mktemp("demo")
    run_demo(out, say=lambda _text: None)
    return out


@pytest.fixture(scope="session")
def proclaim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The proclaim preset written once, as submission folders."""
    from toolkit.synth import synthesise

    out = tmp_path_factory.mktemp("proclaim")
    synthesise(out, preset="proclaim")
    return out
