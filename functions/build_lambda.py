"""Builds the Lambda code package: what the four functions need and nothing more.

    python -m build_lambda                 # build/lambda/ and build/lambda.zip (python3.12, arm64)
    python -m build_lambda --arch host     # a twin for this machine (benchmarks, tests)
    python functions/build_lambda.py --part dependencies --out DIR/python --no-zip
    python functions/build_lambda.py --part code --out DIR --no-zip   # what `sam build` runs

It lives in functions/, the template's CodeUri, beside what it builds: `sam build
--use-container` mounts that folder alone. `sam build` (functions/Makefile) builds the
dependencies once, as the layer of the four functions, and each function's own package
from the code alone (a copy and its pycs, about a second); `make build` builds the whole
package in one tree (benchmarks, tests, size checks).

1. The pinned dependencies (functions/requirements.txt) installed for CPython 3.12 on
   manylinux2014_aarch64 (wheels only), without compiling them.
2. boto3 and s3transfer removed (file by file, from their RECORD): the code calls botocore
   directly and nothing imports boto3. botocore's data/ keeps the service models the code
   uses (KEPT_SERVICES) and the few files botocore reads at import and client creation.
3. Junk dropped: bin/, __pycache__/, type stubs, tests, and the dist-info files nothing reads
   at run time (RECORD, INSTALLER, ...). METADATA, entry points and licences stay.
4. The `privochat` package copied in, then every .py compiled with Python 3.12 into a
   checked-hash .pyc (PEP 552): the pyc stays valid whatever the files' times in the zip,
   and a pyc that no longer matches its source is ignored rather than run.
5. A reproducible zip (sorted, fixed times) beside the tree.

Standard library only: SAM's makefile build runs it with whatever Python 3 is on PATH;
the Python 3.12 it installs and compiles with is found on its own (LAMBDA_PYTHON, pyenv,
PATH).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parent
ROOT = FUNCTIONS.parent
PACKAGE = FUNCTIONS / "privochat"
REQUIREMENTS = FUNCTIONS / "requirements.txt"
DEFAULT_OUT = ROOT / "build" / "lambda"

PYTHON_VERSION = (3, 12)
LAMBDA_ARCH = "aarch64"
# Distributions that pip installs (boto3 is pinned) but Lambda never imports.
LEFT_OUT = ("boto3", "s3transfer")
# botocore service models the code creates clients for (wiring.py, pusher_apigw.py).
KEPT_SERVICES = ("apigatewaymanagementapi", "ssm")
# botocore/data/*.json read at import or client creation, whatever the service.
BOTOCORE_DATA_FILES = (
    "_retry.json",
    "endpoints.json",
    "partitions.json",
    "sdk-default-configuration.json",
)
# Inside a kept service's folder: documentation only.
BOTOCORE_DOC_FILES = ("examples-1.json",)
# dist-info files nothing reads at run time (importlib.metadata reads METADATA and
# entry_points.txt: pydantic and opentelemetry look plugins up through them).
DIST_INFO_JUNK = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "WHEEL")
# Files of kept distributions that nothing loads here, each with the reason.
UNUSED_FILES = {
    # FastAPI imports pydantic.v1 only to refuse v1 models, and takes its absence as
    # "no v1 model" (fastapi/_compat/shared.py): without it, that import is not paid.
    "pydantic/v1": "pydantic v1 compatibility layer",
    # botocore takes certifi's bundle when certifi is installed (httpx brings it).
    "botocore/cacert.pem": "botocore's copy of the CA bundle",
    # botocore uses dateutil.tz's tzutc/tzlocal only; without the tarball,
    # dateutil.zoneinfo answers "no such zone" after a warning.
    "dateutil/zoneinfo/dateutil-zoneinfo.tar.gz": "dateutil's time zone database",
}
JUNK_DIRS = ("__pycache__", "tests", "test")
JUNK_SUFFIXES = (".pyi", ".pyc", ".pyo")
JUNK_NAMES = ("py.typed",)
# Fixed time for every zip entry: the same tree gives the same zip, byte for byte.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CACHE_TAG = "cpython-312"
# Dependency modules that read their own source at run time: they keep it (and a
# checked pyc). anyio's lazy importer parses its package's __init__.py with
# inspect.getsource; without it anyio falls back to importing 38 modules eagerly.
KEEP_SOURCES = ("anyio/__init__.py", "anyio/abc/__init__.py")
# --sources: which .py files ship beside their pyc.
SOURCES = {
    "ours": "privochat's .py and checked-hash pycs; the dependencies as pycs only",
    "all": "every .py and its checked-hash pyc (1.7 MB more zipped)",
}
# Where Lambda unpacks the code and a layer's python/ folder: the file names recorded
# in the pycs (tracebacks).
LAMBDA_TASK_ROOT = "/var/task"
LAMBDA_LAYER_ROOT = "/opt/python"
# --part: what a build holds.
PARTS = {
    "all": "the dependencies and privochat in one tree (make build)",
    "dependencies": "the dependencies alone, for the layer's python/ folder (sam build)",
    "code": "privochat alone, for each function (sam build)",
}


class BuildError(RuntimeError):
    pass


def python312() -> str:
    """A CPython 3.12 interpreter: $LAMBDA_PYTHON, pyenv's 3.12.x, or python3.12 on PATH."""
    candidates: list[str] = []
    if os.environ.get("LAMBDA_PYTHON"):
        candidates.append(os.environ["LAMBDA_PYTHON"])
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(path / "bin" / "python3.12")
        for path in sorted((pyenv_root / "versions").glob("3.12.*"), reverse=True)
    ]
    found = shutil.which("python3.12")
    if found:
        candidates.append(found)
    wanted = ".".join(map(str, PYTHON_VERSION))
    for candidate in candidates:
        try:
            answer = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if answer.returncode == 0 and answer.stdout.strip() == wanted:
            return candidate
    raise BuildError(
        f"no Python {wanted} found (tried {candidates or 'nothing'}): "
        "set LAMBDA_PYTHON=/path/to/python3.12 or `pyenv install 3.12`"
    )


def host_arch() -> str:
    machine = platform.machine().lower()
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine)


def _run(command: Sequence[str], **env: str) -> None:
    done = subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    if done.returncode != 0:
        raise BuildError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def pip_install(
    python: str, target: Path, arch: str, requirements: Iterable[str] = ("-r", str(REQUIREMENTS))
) -> None:
    """Wheels for CPython 3.12 on manylinux2014_<arch>, into `target`, no pyc."""
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--platform",
            f"manylinux2014_{arch}",
            "--implementation",
            "cp",
            "--python-version",
            ".".join(map(str, PYTHON_VERSION)),
            "--only-binary=:all:",
            "--target",
            str(target),
            *requirements,
        ],
        PYTHONDONTWRITEBYTECODE="1",
    )


def _dist_info(target: Path, name: str) -> Path | None:
    pattern = re.compile(rf"^{re.escape(name).replace('-', '[-_]')}-[^-]+\.dist-info$", re.I)
    found = [path for path in target.iterdir() if pattern.match(path.name)]
    return found[0] if found else None


def remove_distribution(target: Path, name: str) -> bool:
    """Uninstalls `name` from a --target tree, file by file from its RECORD."""
    dist_info = _dist_info(target, name)
    if dist_info is None:
        return False
    folders: set[Path] = set()
    for line in (dist_info / "RECORD").read_text().splitlines():
        relative = line.rsplit(",", 2)[0]
        path = (target / relative).resolve()
        if not relative or target.resolve() not in path.parents:
            continue
        if path.is_file():
            path.unlink()
        folders.update(p for p in path.parents if target.resolve() in p.parents)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        # Only what the distribution left empty (its own __pycache__ included).
        shutil.rmtree(folder / "__pycache__", ignore_errors=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    shutil.rmtree(dist_info, ignore_errors=True)
    return True


def trim_botocore(target: Path, services: Iterable[str] = KEPT_SERVICES) -> None:
    """Since issue 24 the functions need no botocore (privochat/aws_sigv4.py signs their
    two AWS calls) and requirements.txt no longer names it: nothing to trim then. An
    older requirements file (bench/coldstart.py builds the code as it was) still has it."""
    data = target / "botocore" / "data"
    if not (target / "botocore").is_dir():
        return
    if not data.is_dir():
        raise BuildError(f"no botocore data in {data}")
    kept = set(services)
    missing = kept - {path.name for path in data.iterdir() if path.is_dir()}
    if missing:
        raise BuildError(f"botocore has no model for {sorted(missing)}")
    for path in data.iterdir():
        if path.is_dir() and path.name not in kept:
            shutil.rmtree(path)
        elif path.is_file() and path.name not in BOTOCORE_DATA_FILES:
            path.unlink()
    for name in BOTOCORE_DOC_FILES:
        for path in data.glob(f"*/*/{name}"):
            path.unlink()


def drop_unused(target: Path) -> None:
    for relative in UNUSED_FILES:
        path = target / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def drop_junk(target: Path) -> None:
    shutil.rmtree(target / "bin", ignore_errors=True)
    for path in sorted(target.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and path.name in JUNK_DIRS:
            shutil.rmtree(path)
        elif path.is_file() and (path.suffix in JUNK_SUFFIXES or path.name in JUNK_NAMES):
            path.unlink()
    for dist_info in target.glob("*.dist-info"):
        for name in DIST_INFO_JUNK:
            (dist_info / name).unlink(missing_ok=True)


def copy_code(target: Path, package: Path = PACKAGE) -> None:
    shutil.copytree(
        package,
        target / PACKAGE.name,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"),
    )


def compile_tree(
    python: str, target: Path, invalidation: str = "checked-hash", prefix: str = LAMBDA_TASK_ROOT
) -> None:
    """Every .py to __pycache__/<name>.cpython-312.pyc, hash-based (PEP 552), its file
    name recorded under `prefix` (where Lambda will find it)."""
    _run(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-f",
            "-j",
            "0",
            "--invalidation-mode",
            invalidation,
            "-s",
            str(target),
            "-p",
            prefix,
            str(target),
        ]
    )


def _keeps_source(relative: Path, keep: Iterable[str]) -> bool:
    return relative.parts[0] == PACKAGE.name or relative.as_posix() in set(keep)


def sourceless_dependencies(target: Path, keep: Iterable[str] = KEEP_SOURCES) -> None:
    """Each dependency module's pyc moved to where its .py was (`mod.pyc`, which
    the import system loads without a source), and the .py dropped. The package's
    own modules and `keep` stay as sources with checked pycs (their tracebacks
    show lines)."""
    suffix = f".{CACHE_TAG}.pyc"
    for cached in sorted(target.rglob(f"__pycache__/*{suffix}")):
        folder = cached.parent.parent
        name = cached.name.removesuffix(suffix)
        source = folder / f"{name}.py"
        if _keeps_source(source.relative_to(target), keep):
            continue
        if not source.exists():
            raise BuildError(f"a pyc without its source: {cached}")
        cached.replace(folder / f"{name}.pyc")
        source.unlink()
    for cache in sorted(target.rglob("__pycache__")):
        if not any(cache.iterdir()):
            cache.rmdir()


def zip_tree(tree: Path, zip_path: Path) -> int:
    """A reproducible zip of the tree (sorted entries, fixed times); its size in bytes."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    partial = zip_path.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            entry = zipfile.ZipInfo(path.relative_to(tree).as_posix(), ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(path, os.X_OK) and path.suffix == ".so" else 0o644
            entry.external_attr = (0o100000 | mode) << 16
            archive.writestr(entry, path.read_bytes(), compresslevel=9)
    partial.replace(zip_path)
    return zip_path.stat().st_size


def _is_a_build(tree: Path) -> bool:
    return (tree / PACKAGE.name).is_dir() or (tree / "botocore").is_dir()


def build(
    out: Path,
    arch: str = LAMBDA_ARCH,
    sources: str = "ours",
    python: str | None = None,
    package: Path = PACKAGE,
    part: str = "all",
) -> Path:
    """The package tree at `out` (replaced): dependencies, trimmed, code (`package`,
    functions/privochat unless given), pycs; or one `part` of it (PARTS)."""
    if sources not in SOURCES:
        raise BuildError(f"sources: one of {sorted(SOURCES)}, not {sources!r}")
    if part not in PARTS:
        raise BuildError(f"part: one of {sorted(PARTS)}, not {part!r}")
    python = python or python312()
    out = out.resolve()
    if out.is_dir() and any(out.iterdir()) and not _is_a_build(out):
        raise BuildError(f"{out} holds something else than a build: not replacing it")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}-") as scratch:
        stage = Path(scratch) / "tree"
        stage.mkdir()
        if part != "code":
            pip_install(python, stage, arch)
            for name in LEFT_OUT:
                remove_distribution(stage, name)
            trim_botocore(stage)
            drop_unused(stage)
            drop_junk(stage)
        if part != "dependencies":
            copy_code(stage, package)
        prefix = LAMBDA_LAYER_ROOT if part == "dependencies" else LAMBDA_TASK_ROOT
        compile_tree(python, stage, prefix=prefix)
        if sources == "ours":
            sourceless_dependencies(stage)
        if out.exists():
            shutil.rmtree(out)
        stage.replace(out)
    return out


def tree_bytes(tree: Path) -> int:
    return sum(path.stat().st_size for path in tree.rglob("*") if path.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m build_lambda", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the tree (build/lambda)")
    parser.add_argument(
        "--arch",
        default=LAMBDA_ARCH,
        help=f"{LAMBDA_ARCH} (Lambda's arm64, the default), x86_64, or host ({host_arch()})",
    )
    parser.add_argument(
        "--sources",
        choices=sorted(SOURCES),
        default="ours",
        help="; ".join(f"{name}: {what}" for name, what in SOURCES.items()),
    )
    parser.add_argument(
        "--part",
        choices=list(PARTS),
        default="all",
        help="; ".join(f"{name}: {what}" for name, what in PARTS.items()),
    )
    parser.add_argument("--zip", type=Path, help="the zip (default: <out>.zip)")
    parser.add_argument("--no-zip", action="store_true", help="the tree only (sam build)")
    args = parser.parse_args(argv)
    arch = host_arch() if args.arch == "host" else args.arch
    try:
        tree = build(args.out, arch, args.sources, part=args.part)
    except BuildError as error:
        print(f"build_lambda: {error}", file=sys.stderr)
        return 1
    files = sum(1 for path in tree.rglob("*") if path.is_file())
    print(f"build_lambda: {tree} ({arch}): {files} files, {tree_bytes(tree) / 1e6:.1f} MB")
    if not args.no_zip:
        zip_path = args.zip or tree.with_suffix(".zip")
        size = zip_tree(tree, zip_path)
        print(f"build_lambda: {zip_path}: {size / 1e6:.2f} MB zipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
