"""Every benchmark script still imports: they reach into the package, and a move that
breaks one is found here, not the next time someone measures."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from rag.settings import PROJECT_ROOT

SCRIPTS = sorted((PROJECT_ROOT / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_benchmark_script_imports(path) -> None:  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)  # defines main(); runs nothing under __main__
    assert callable(getattr(module, "main", None))
