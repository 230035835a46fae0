"""`devtools.precompile`: bytecode added to a deployment zip is what the interpreter loads from
the unzipped (read-only) package, the heavy chart libraries are left out, and a runtime other
than the compiling interpreter's is refused."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devtools.precompile import precompile, pyc_name

HERE = f"python{sys.version_info.major}.{sys.version_info.minor}"


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, text in files.items():
            zipped.writestr(name, text)
    return path


def test_bytecode_is_added_and_used_without_checking_the_source(tmp_path):
    archive = _zip(
        tmp_path / "deployment.zip",
        {
            "app.py": "from pkg.mod import VALUE\n",
            "pkg/__init__.py": "",
            "pkg/mod.py": "VALUE = 'compiled'\n",
            "numpy/core.py": "X = 1\n",
            "phonenumbers/geodata/data0.py": "DATA = {}\n",
            "broken.py": "print 'python 2'\n",
            "pkg-1.0.dist-info/x.py": "",
        },
    )

    result = precompile(archive, HERE)

    names = set(zipfile.ZipFile(archive).namelist())
    assert {pyc_name("app.py"), pyc_name("pkg/mod.py"), pyc_name("pkg/__init__.py")} <= names
    assert pyc_name("numpy/core.py") not in names  # chart libraries: off the request path
    assert pyc_name("phonenumbers/geodata/data0.py") not in names
    assert result["pyc_added"] == 3 and result["not_compiled"] == ["broken.py"]
    assert result["unzipped_mb_after"] >= result["unzipped_mb_before"]

    unpacked = tmp_path / "task"
    zipfile.ZipFile(archive).extractall(unpacked)
    (unpacked / "pkg" / "mod.py").write_text("VALUE = 'source'\n")  # the pyc must win
    done = subprocess.run(
        [sys.executable, "-B", "-c", "import app, pkg.mod; print(pkg.mod.VALUE)"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "compiled"


def test_running_twice_adds_nothing_the_second_time(tmp_path):
    archive = _zip(tmp_path / "deployment.zip", {"app.py": "X = 1\n"})
    precompile(archive, HERE)
    assert precompile(archive, HERE)["pyc_added"] == 0


def test_another_runtime_than_this_interpreter_is_refused(tmp_path):
    archive = _zip(tmp_path / "deployment.zip", {"app.py": "X = 1\n"})
    with pytest.raises(SystemExit, match="compile with python2.7"):
        precompile(archive, "python2.7")
