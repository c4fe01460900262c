"""The Lambda package (`make build`, functions/build_lambda.py; functions/Makefile for SAM):
small, without boto3, with only the botocore models the code uses, every module
precompiled for Python 3.12, and the handlers answer a first call from it.

Slow (three pip installs, ~1 min): marked `sam` with the other packaging checks.
Each check is a function that returns what is wrong, tried on a broken tree too."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import build_lambda
from bench import coldstart
from build_lambda import (
    BOTOCORE_DATA_FILES,
    KEEP_SOURCES,
    LAMBDA_ARCH,
    LEFT_OUT,
    PACKAGE,
    BuildError,
    host_arch,
    python312,
    remove_distribution,
    zip_tree,
)
from tests.deploy.sam_templates import ROOT, skip_unless_required

pytestmark = pytest.mark.sam

MAX_ZIP_BYTES = 6_000_000
# PEP 552: flags of a hash-based pyc whose source is checked at import.
CHECKED_HASH = 0b11

# Run by Python 3.12 over a tree: every .py's pyc and every sourceless pyc, as JSON.
_PYC_REPORT = """
import importlib.util, json, sys
from pathlib import Path
tree = Path(sys.argv[1])
magic = importlib.util.MAGIC_NUMBER
report = {"tag": sys.implementation.cache_tag, "sources": {}, "sourceless": {}}
for source in sorted(tree.rglob("*.py")):
    pyc = Path(importlib.util.cache_from_source(str(source)))
    entry = {"pyc": pyc.exists()}
    if pyc.exists():
        data = pyc.read_bytes()
        entry["magic"] = data[:4] == magic
        entry["flags"] = int.from_bytes(data[4:8], "little")
        entry["hash"] = data[8:16] == importlib.util.source_hash(source.read_bytes())
    report["sources"][str(source.relative_to(tree))] = entry
for pyc in sorted(tree.rglob("*.pyc")):
    if pyc.parent.name != "__pycache__":
        report["sourceless"][str(pyc.relative_to(tree))] = pyc.read_bytes()[:4] == magic
print(json.dumps(report))
"""


def _python() -> str:
    try:
        return python312()
    except BuildError as missing:
        skip_unless_required(str(missing))
        raise


def _sam_make(makefile: Path, logical_id: str, artifacts: Path, scratch: Path) -> str:
    """`make build-<LogicalId>` as SAM CLI's makefile builder runs it in SAM's build image:
    the Makefile by path, ARTIFACTS_DIR set, in a scratch working directory, with Python
    3.12 as `python3` and `python3.12` on PATH and nothing else to find it by."""
    scratch.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    image_like = {k: v for k, v in os.environ.items() if k not in ("LAMBDA_PYTHON", "PYTHON")}
    image_like |= {
        "ARTIFACTS_DIR": str(artifacts),
        "PATH": os.pathsep.join(
            [str(Path(_python()).parent), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "PYENV_ROOT": str(scratch / "no-pyenv"),
    }
    done = subprocess.run(
        ["make", "--makefile", str(makefile), f"build-{logical_id}"],
        env=image_like,
        cwd=scratch,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def code_uri(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """functions/ alone, as `sam build --use-container` mounts it (/tmp/samcli/source):
    nothing else of the repository is reachable from there."""
    source = tmp_path_factory.mktemp("samcli") / "source"
    shutil.copytree(
        ROOT / "functions", source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return source


@pytest.fixture(scope="module")
def sam_artifacts(code_uri: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The layer and HttpFunction's package as `sam build` builds them, from the copy of
    functions/ alone: functions/Makefile's targets."""
    _python()
    folder = tmp_path_factory.mktemp("sam")
    for logical_id in ("DependenciesLayer", "HttpFunction"):
        _sam_make(code_uri / "Makefile", logical_id, folder / logical_id, folder / "scratch")
    return {"layer": folder / "DependenciesLayer", "function": folder / "HttpFunction"}


@pytest.fixture(scope="module")
def built(sam_artifacts: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The arm64 package as a function sees it: its own package (/var/task) and the
    layer's python/ folder (/opt/python) are both on sys.path; here, one tree."""
    tree = tmp_path_factory.mktemp("lambda") / "tree"
    shutil.copytree(sam_artifacts["layer"] / "python", tree)
    shutil.copytree(sam_artifacts["function"], tree, dirs_exist_ok=True)
    return tree


@pytest.fixture(scope="module")
def built_zip(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zip") / "lambda.zip"
    zip_tree(built, path)
    return path


@pytest.fixture(scope="module")
def host_trees(built: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """This machine's twin of the package (same pins, trimming, pycs) and today's package,
    from one copy of the code."""
    python = _python()
    folder = tmp_path_factory.mktemp("host")
    code = folder / "code" / PACKAGE.name
    shutil.copytree(PACKAGE, code, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    arch = host_arch()
    twin = (
        built
        if arch == LAMBDA_ARCH
        else build_lambda.build(folder / "built", arch, "ours", python, code)
    )
    today = coldstart.install_as_today(python, folder / "today", arch, code)
    return {"built": twin, "today": today}


@pytest.fixture(scope="module")
def running() -> Iterator[coldstart.Backends]:
    with coldstart.backends() as backends:
        yield backends


# ------------------------------------------------------------------ the checks


def pyc_problems(tree: Path, keep_sources: tuple[str, ...] = KEEP_SOURCES) -> list[str]:
    """Every .py has a checked-hash pyc for CPython 3.12 that matches it; the
    dependencies are pycs only (but KEEP_SOURCES); every sourceless pyc is 3.12's."""
    done = subprocess.run(
        [_python(), "-I", "-c", _PYC_REPORT, str(tree)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout)
    problems = [] if report["tag"] == "cpython-312" else [f"compiled by {report['tag']}"]
    for source, entry in report["sources"].items():
        if not entry["pyc"]:
            problems.append(f"{source}: no pyc")
        elif not (entry["magic"] and entry["flags"] == CHECKED_HASH and entry["hash"]):
            problems.append(f"{source}: not a checked-hash 3.12 pyc of this source ({entry})")
        if not source.startswith(f"{PACKAGE.name}/") and source not in keep_sources:
            problems.append(f"{source}: a dependency's source")
    problems += [f"{pyc}: not 3.12's" for pyc, ok in report["sourceless"].items() if not ok]
    if not report["sources"] and not report["sourceless"]:
        problems.append("no module at all")
    return problems


def left_out_problems(tree: Path) -> list[str]:
    """boto3 and s3transfer are not in the tree, and the code never imports them."""
    problems = [
        f"{path.name} is shipped"
        for path in tree.iterdir()
        if path.name.split("-")[0].lower() in LEFT_OUT
    ]
    for source in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            problems += [
                f"{source.name} imports {name}" for name in names if name.split(".")[0] in LEFT_OUT
            ]
    return problems


def _services_the_code_uses() -> set[str]:
    """Every `create_client("<service>", ...)` in functions/privochat."""
    used = set()
    for source in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "create_client"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                used.add(str(node.args[0].value))
    return used


def botocore_problems(tree: Path, used: set[str]) -> list[str]:
    """botocore/data holds the models the code uses and botocore's own files, no more."""
    data = tree / "botocore" / "data"
    models = {path.name for path in data.iterdir() if path.is_dir()}
    files = {path.name for path in data.iterdir() if path.is_file()}
    problems = [f"model shipped but unused: {name}" for name in sorted(models - used)]
    problems += [f"model used but missing: {name}" for name in sorted(used - models)]
    problems += [f"unexpected file: {name}" for name in sorted(files - set(BOTOCORE_DATA_FILES))]
    problems += [f"missing file: {name}" for name in sorted(set(BOTOCORE_DATA_FILES) - files)]
    return problems


def junk_problems(tree: Path) -> list[str]:
    return [
        str(path.relative_to(tree))
        for path in tree.rglob("*")
        if (path.is_dir() and path.name in ("tests", "test", "bin"))
        or path.suffix in (".pyi", ".pyo")
        or (path.parent.suffix == ".dist-info" and path.name == "RECORD")
        or (path.parent.name == "__pycache__" and ".cpython-312." not in path.name)
    ]


# ------------------------------------------------------------------ the package


def test_the_makefile_builds_from_the_code_uri_alone(sam_artifacts: dict[str, Path]) -> None:
    """`sam build --use-container` mounts functions/ alone: its Makefile and the builder
    it runs are there, and build from there (the fixture's copy, outside the repository)."""
    assert (sam_artifacts["function"] / "privochat" / "http_api.py").exists()
    assert list((sam_artifacts["layer"] / "python" / "pydantic_core").glob("*.so"))


def test_the_dependencies_are_the_layer_and_each_function_holds_the_code_alone(
    sam_artifacts: dict[str, Path],
) -> None:
    """The pip install happens once, for the layer (SAM CLI builds a makefile function on
    its own every time): a function's package is privochat, the layer has no privochat."""
    assert sorted(path.name for path in sam_artifacts["function"].iterdir()) == [PACKAGE.name]
    layer = sam_artifacts["layer"]
    assert sorted(path.name for path in layer.iterdir()) == ["python"]
    assert not (layer / "python" / PACKAGE.name).exists()
    assert (layer / "python" / "fastapi").is_dir()
    assert not (layer / "python" / "botocore").exists(), "the functions sign with aws_sigv4.py"


_PYC_FILE_NAME = """
import marshal, sys
data = open(sys.argv[1], "rb").read()
print(marshal.loads(data[16:]).co_filename)
"""


def test_tracebacks_name_where_lambda_puts_each_part(sam_artifacts: dict[str, Path]) -> None:
    """The pycs record the paths Lambda unpacks them to: /var/task for the code,
    /opt/python for the layer."""
    pycs = {
        "/var/task/privochat/http_api.py": sam_artifacts["function"]
        / "privochat"
        / "__pycache__"
        / "http_api.cpython-312.pyc",
        "/opt/python/fastapi/applications.py": sam_artifacts["layer"]
        / "python"
        / "fastapi"
        / "applications.pyc",
    }
    for expected, pyc in pycs.items():
        done = subprocess.run(
            [_python(), "-I", "-c", _PYC_FILE_NAME, str(pyc)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert done.stdout.strip() == expected


def test_the_zip_is_at_most_6_mb(built_zip: Path) -> None:
    size = built_zip.stat().st_size
    assert size <= MAX_ZIP_BYTES, f"{size / 1e6:.2f} MB zipped"


def test_the_zip_holds_the_tree_and_is_reproducible(
    built: Path, built_zip: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(built_zip) as archive:
        names = set(archive.namelist())
        assert "privochat/http_api.py" in names
        assert {entry.date_time for entry in archive.infolist()} == {build_lambda.ZIP_TIME}
    assert names == {p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()}
    again = tmp_path / "again.zip"
    zip_tree(built, again)
    assert again.read_bytes() == built_zip.read_bytes()


def test_it_is_built_for_lambda_python_3_12_on_arm64(built: Path) -> None:
    native = sorted(path.name for path in built.rglob("*.so"))
    assert native == ["_pydantic_core.cpython-312-aarch64-linux-gnu.so"]


def test_no_boto3_or_s3transfer(built: Path) -> None:
    assert left_out_problems(built) == []


def test_the_package_holds_no_botocore_since_the_code_creates_no_client(built: Path) -> None:
    """Issue 24: the two AWS calls are signed by privochat/aws_sigv4.py; botocore's import
    and models were more than half of a WebSocket function's cold start."""
    assert _services_the_code_uses() == set()
    assert not (built / "botocore").exists()
    assert not [path for path in built.iterdir() if path.name.startswith("botocore")]


def test_every_module_is_precompiled_for_python_3_12(built: Path) -> None:
    assert pyc_problems(built) == []


def test_no_tests_scripts_stubs_or_records(built: Path) -> None:
    assert junk_problems(built) == []


def test_the_built_handlers_answer_a_first_call_as_today_s_do(
    host_trees: dict[str, Path], running: coldstart.Backends
) -> None:
    """Python 3.12 with only the tree on sys.path (the host's twin of the arm64 tree):
    each function's first call reaches SSM and the Upstash endpoint and answers as the
    untrimmed package does, importing the same modules (but pydantic.v1)."""
    python = _python()
    problems = []
    for function in coldstart.FUNCTIONS:
        by_tree: dict[str, list[dict[str, Any]]] = {}
        for name, tree in host_trees.items():
            result = coldstart.first_call(python, tree, function, running)
            problems += coldstart.problems_of(function, name, result)
            by_tree[name] = [result]
        problems += coldstart.module_differences(function, by_tree)
        assert by_tree["built"][0]["with_pyc"] == by_tree["built"][0]["modules"]
        assert not by_tree["built"][0]["pydantic_v1"]
    assert problems == []


# ------------------------------------------------------------------ the checks catch


def _tree_of(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
    return tmp_path


def test_the_pyc_check_catches_a_timestamp_pyc_a_missing_one_and_a_dependency_source(
    tmp_path: Path,
) -> None:
    python = _python()
    tree = _tree_of(
        tmp_path,
        {
            "privochat/__init__.py": "",
            "privochat/a.py": "A = 1\n",
            "privochat/b.py": "B = 2\n",
            "privochat/c.py": "C = 3\n",
            "dep/__init__.py": "",
        },
    )
    build_lambda.compile_tree(python, tree)
    assert pyc_problems(tree) == ["dep/__init__.py: a dependency's source"]
    (tree / "dep" / "__init__.py").unlink()
    shutil.rmtree(tree / "dep" / "__pycache__")
    assert pyc_problems(tree) == []
    (tree / "privochat" / "b.py").write_text("B = 3\n")  # its pyc is stale now
    assert [p.split(":")[0] for p in pyc_problems(tree)] == ["privochat/b.py"]
    (tree / "privochat" / "__pycache__" / "c.cpython-312.pyc").unlink()
    subprocess.run(  # a timestamp pyc, as a plain `python -m compileall` makes
        [
            python,
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1])",
            str(tree / "privochat" / "a.py"),
        ],
        check=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": ""},
    )
    assert [p.split(":")[:2] for p in pyc_problems(tree)] == [
        ["privochat/a.py", " not a checked-hash 3.12 pyc of this source ({'pyc'"],
        ["privochat/b.py", " not a checked-hash 3.12 pyc of this source ({'pyc'"],
        ["privochat/c.py", " no pyc"],
    ]


def test_the_left_out_check_catches_boto3(tmp_path: Path) -> None:
    tree = _tree_of(tmp_path, {"boto3-1.44.5.dist-info/METADATA": "", "botocore/__init__.py": ""})
    assert left_out_problems(tree) == ["boto3-1.44.5.dist-info is shipped"]


def test_the_botocore_check_catches_an_extra_and_a_missing_model(tmp_path: Path) -> None:
    files: dict[str, bytes | str] = {f"botocore/data/{f}": "{}" for f in BOTOCORE_DATA_FILES}
    files |= {"botocore/data/ssm/x.json": "{}", "botocore/data/s3/x.json": "{}"}
    tree = _tree_of(tmp_path, files)
    assert botocore_problems(tree, {"ssm", "sqs"}) == [
        "model shipped but unused: s3",
        "model used but missing: sqs",
    ]


def test_the_junk_check_catches_tests_and_records(tmp_path: Path) -> None:
    tree = _tree_of(
        tmp_path, {"certifi/tests/x.py": "", "six-1.dist-info/RECORD": "", "a/b.pyi": ""}
    )
    assert sorted(junk_problems(tree)) == ["a/b.pyi", "certifi/tests", "six-1.dist-info/RECORD"]


# ------------------------------------------------------------------ the build's parts


def test_remove_distribution_removes_its_files_only(tmp_path: Path) -> None:
    tree = _tree_of(
        tmp_path,
        {
            "boto3/__init__.py": "",
            "boto3/data/x.json": "",
            "boto3-1.0.dist-info/METADATA": "",
            "boto3-1.0.dist-info/RECORD": "boto3/__init__.py,,\nboto3/data/x.json,,\n"
            "boto3-1.0.dist-info/METADATA,,\n../outside.txt,,\n",
            "botocore/__init__.py": "",
        },
    )
    (tmp_path.parent / "outside.txt").write_text("stays")
    assert remove_distribution(tree, "boto3")
    assert sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*")) == [
        "botocore",
        "botocore/__init__.py",
    ]
    assert (tmp_path.parent / "outside.txt").exists()
    assert not remove_distribution(tree, "s3transfer")


def test_the_build_will_not_replace_a_folder_that_is_not_a_build(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(BuildError, match="not replacing"):
        build_lambda.build(tmp_path, python="python3.12-not-called")
    assert (tmp_path / "notes.txt").read_text() == "mine"
