"""Every name the README gives is true: each repository path it quotes exists, and
each `module.function` (or `Class.method`) it names is defined. Plain reading of
files and imports: no server. docs/api.md's paths are held to the same rule, and
nothing in the repository points outside it (a clone has only itself)."""

from __future__ import annotations

import importlib
import inspect
import os
import re
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/api.md")
# Paths the README quotes that are made by a command, or by the reader, not kept in
# the repository.
MADE_NOT_KEPT = {
    ".aws-sam/",
    ".venv-sam/",
    "bench/results/",
    "build/lambda.zip",
    "samconfig.toml",
}
_EXTENSIONS = "py|js|mjs|md|json|yaml|toml|sh|lua|html|txt"
_PATH = re.compile(r"[\w@-][\w.@*-]*(/[\w.@*-]+)*/?")
_FILE = re.compile(rf".+\.(?:{_EXTENSIONS})")
_DOTTED = re.compile(r"([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)(?:\(.*\))?")
_CALL = re.compile(r"([A-Za-z_]\w*)\(.*\)")
_SKIPPED_FOLDERS = {".git", ".venv", ".venv-sam", ".aws-sam", "build", "node_modules"}


@cache
def repository_files() -> tuple[str, ...]:
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [
            name for name in subfolders if name not in _SKIPPED_FOLDERS and name != "__pycache__"
        ]
        relative = Path(folder).relative_to(ROOT)
        found += [(relative / name).as_posix() for name in files]
    return tuple(found)


def _prose_and_flows(text: str) -> tuple[str, list[str]]:
    """The text outside fenced blocks, and the lines of the blocks that draw a flow."""
    prose, flows = [], []
    for number, part in enumerate(re.split(r"^```.*$", text, flags=re.MULTILINE)):
        if number % 2 == 0:
            prose.append(part)
        else:
            flows += [line for line in part.splitlines() if "─►" in line]
    return "\n".join(prose), flows


def quoted(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", _prose_and_flows(text)[0])


def quoted_paths(text: str) -> set[str]:
    """Backticked spans that name a file or folder of the repository (not a URL path,
    a placeholder or a bare extension)."""
    return {
        span
        for span in quoted(text)
        if _PATH.fullmatch(span)
        and not span.startswith((".", "-"))
        and ("/" in span or _FILE.fullmatch(span))
        and not span.startswith("aws/")  # a KMS key alias
    }


def exists(path: str) -> bool:
    if path in MADE_NOT_KEPT:
        return True
    path = path.rstrip("/")
    for file in repository_files():
        anchored = "/" + file
        if "*" in path:
            if fnmatch(anchored, "*/" + path):
                return True
        elif anchored.endswith("/" + path) or ("/" + path + "/") in anchored:
            return True
    return False


def named_functions(text: str) -> set[str]:
    """`wiring.configure(...)`, `privochat.http_api.handler`, `error_responses(...)`, and
    the `Class.method` steps of the README's flow drawings."""
    prose_spans = quoted(text)
    names = {span for span in prose_spans if _DOTTED.fullmatch(span) or _CALL.fullmatch(span)}
    for line in _prose_and_flows(text)[1]:
        names |= {m.group(0) for m in re.finditer(r"\b[A-Za-z_]\w*\.[a-z_]\w*\b(?!\.)", line)}
    return {name for name in names if not _FILE.fullmatch(name.split("(")[0])}


def _python_head(head: str) -> object | None:
    """What a name's first part is in the Python code: a module of privochat, or a
    class or function defined in one."""
    if head == "privochat":
        return importlib.import_module("privochat")
    if (ROOT / "functions" / "privochat" / f"{head}.py").exists():
        return importlib.import_module(f"privochat.{head}")
    for source in sorted((ROOT / "functions" / "privochat").glob("*.py")):
        module: ModuleType = importlib.import_module(f"privochat.{source.stem}")
        found = getattr(module, head, None)
        if found is not None and (inspect.isclass(found) or inspect.isfunction(found)):
            return found
    return None


def _js_defines(head: str, members: list[str]) -> bool | None:
    """Whether the browser's module exporting `head` defines its member (a method or
    a property); None when no module exports it."""
    for source in sorted((ROOT / "static_site" / "js").glob("*.js")):
        code = source.read_text(encoding="utf-8")
        if re.search(rf"^export (class|const|function) {re.escape(head)}\b", code, re.MULTILINE):
            member = re.escape(members[-1])
            return re.search(rf"^\s*(async )?{member}\s*[(:]", code, re.MULTILINE) is not None
    return None


def defined(name: str) -> bool | None:
    """True or False for a name of this repository's code; None when its first part
    is nothing of the code's (`host.docker.internal`, `roomId.token`)."""
    bare = name.split("(")[0]
    if "." not in bare:
        pattern = re.compile(rf"^\s*(async )?def {re.escape(bare)}\(", re.MULTILINE)
        return any(
            pattern.search(path.read_text(encoding="utf-8"))
            for folder in ("functions", "infra", "devkit")
            for path in (ROOT / folder).rglob("*.py")
        )
    head, *members = bare.split(".")
    target = _python_head(head)
    if target is not None:
        for member in members:
            if isinstance(target, ModuleType) and not hasattr(target, member):
                try:
                    target = importlib.import_module(f"{target.__name__}.{member}")
                    continue
                except ModuleNotFoundError:
                    return False
            if not hasattr(target, member):
                return False
            target = getattr(target, member)
        return True
    return _js_defines(head, members)


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_it_quotes_exists(doc: str) -> None:
    paths = quoted_paths((ROOT / doc).read_text(encoding="utf-8"))
    assert paths, "no path found: the parser broke"
    missing = sorted(path for path in paths if not exists(path))
    assert not missing, f"{doc} quotes paths that are not in the repository: {missing}"


def test_every_function_the_readme_names_is_defined() -> None:
    names = named_functions((ROOT / "README.md").read_text(encoding="utf-8"))
    verdicts = {name: defined(name) for name in names}
    checked = {name for name, verdict in verdicts.items() if verdict is not None}
    assert {"wiring.configure(Settings(...))", "ChatService.send", "Conversation.write"} <= checked
    wrong = sorted(name for name, verdict in verdicts.items() if verdict is False)
    assert not wrong, f"README.md names what the code does not define: {wrong}"


def test_the_parsers_catch_a_wrong_name_and_a_missing_path() -> None:
    text = "Declare with `_errors(...)`, see `functions/privochat/wire.py`.\n"
    assert defined("_errors(...)") is False
    assert defined("error_responses(...)") is True
    assert defined("ChatService.sned") is False
    assert quoted_paths(text) == {"functions/privochat/wire.py"}
    assert not exists("functions/privochat/wire.py")


# Files that still point outside the repository, owned by work in progress
# elsewhere: each owner removes its file from this list with the pointer.
_POINTING_OUT_PENDING: set[str] = set()
# The documents of the workspace this project began in (../shared/*.md).
_OUTSIDE = re.compile(r"\bshared/[\w-]+\.md")


def test_nothing_in_the_repository_points_outside_it() -> None:
    pointing = set()
    for file in repository_files():
        if not file.endswith((".py", ".js", ".mjs", ".md", ".html", ".yaml", ".toml", ".sh")):
            continue
        if file == "tests/docs/test_readme.py":
            continue
        if _OUTSIDE.search((ROOT / file).read_text(encoding="utf-8", errors="replace")):
            pointing.add(file)
    assert pointing <= _POINTING_OUT_PENDING, sorted(pointing - _POINTING_OUT_PENDING)
