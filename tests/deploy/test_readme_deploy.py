"""The README's "Deploy to AWS" steps, read as the commands a user will paste: each
names its region, no secret is ever an argument, every template parameter is explained,
and removing the stack says what stays behind."""

from __future__ import annotations

import itertools
import re
import shlex

import pytest

from tests.deploy.sam_templates import ROOT, TEMPLATE, load_template

README = ROOT / "README.md"


def _section() -> str:
    text = README.read_text()
    start = text.index("## Deploy to AWS")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _commands() -> list[str]:
    """Every shell command of the section's ```sh blocks, continuation lines joined,
    comments dropped, split at pipes and ;/&&."""
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", _section(), re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            commands.extend(p.strip() for p in re.split(r"\|\s|;|&&", line) if p.strip())
    return commands


def _calls_aws(command: str) -> bool:
    words = command.split()
    return bool(words) and (
        words[0] == "aws"
        or words[:2] in (["sam", "deploy"], ["sam", "delete"])
        or "infra.publish_site" in command
        or words[:2] == ["make", "publish-site"]
    )


def test_the_section_has_commands_to_check() -> None:
    commands = _commands()
    assert sum(_calls_aws(c) for c in commands) >= 8, commands


@pytest.mark.parametrize("command", [c for c in _commands() if _calls_aws(c)])
def test_every_command_that_reaches_aws_names_its_region(command: str) -> None:
    assert re.search(r"--region[ =]", command), command


@pytest.mark.parametrize("command", [c for c in _commands() if _calls_aws(c)])
def test_no_secret_is_an_argument(command: str) -> None:
    """A value on a command line is in the shell's history and, while the command runs,
    in /proc/<pid>/cmdline for every local user: secrets come from stdin or a file."""
    words = shlex.split(command)
    for flag, value in itertools.pairwise(words):
        if flag == "--value":
            assert value == "file:///dev/stdin", command
    assert "OriginVerifySecret=" not in command, command


def test_secure_strings_are_piped_without_a_trailing_newline() -> None:
    """`aws ... --value file:///dev/stdin` keeps a trailing newline in the value (seen with
    the AWS CLI here): each pipe into put-parameter strips it or never writes one."""
    for block in re.findall(r"```sh\n(.*?)```", _section(), re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            if "put-parameter" in line:
                assert "SecureString" in line, line
                producer = line.split("|")[0]
                assert "printf %s" in producer or "tr -d '\\n'" in line, line


def test_every_template_parameter_is_explained() -> None:
    section = _section()
    missing = [p for p in load_template(TEMPLATE)["Parameters"] if f"`{p}`" not in section]
    assert not missing, missing


def test_removal_deletes_the_ssm_parameters_and_says_what_stays() -> None:
    section = _section()
    removal = section[section.index("### Remove everything") :]
    removal = removal[: removal.find("\n### ", 1)]
    parameters = load_template(TEMPLATE)["Parameters"]
    for name in ("UpstashTokenParameterName", "AppSecretParameterName"):
        assert parameters[name]["Default"] in removal, name
    for left in ("aws-sam-cli-managed-default", "samconfig.toml", "log group"):
        assert left in removal, left


def _sam_local_blocks() -> list[str]:
    section = _section()
    part = section[section.index("### Develop with `sam local`") :]
    part = part[: part.find("\n### ", 1)]
    return [re.sub(r"\\\n\s*", " ", block) for block in re.findall(r"```sh\n(.*?)```", part, re.S)]


def test_the_linux_sam_local_recipe_reaches_the_stack_through_docker_s_bridge() -> None:
    """SAM CLI 1.170's `--docker-network host` leaves the container on the bridge (127.0.0.1
    is the container): the stack listens on the bridge's gateway when asked, and every
    `sam local` command names that address host.docker.internal."""
    blocks = _sam_local_blocks()
    linux = next(block for block in blocks if "docker network inspect bridge" in block)
    run = next(line for line in linux.splitlines() if "make run" in line)
    assert 'LOCAL_EXTRA_BIND_ADDRESSES="$GATEWAY"' in run
    sam_local = [line for line in linux.splitlines() if line.startswith("sam local")]
    assert {line.split()[2] for line in sam_local} == {"start-api", "invoke"}
    for line in sam_local:
        assert '--add-host "host.docker.internal:$GATEWAY"' in line, line
    assert not any("--docker-network" in block for block in blocks)
    assert "qemu-user-static" in _section()  # arm64 functions on an x86 machine


def test_the_bind_setting_the_readme_names_is_the_stack_s() -> None:
    server = (ROOT / "infra" / "local_stack" / "server.py").read_text()
    assert '"LOCAL_EXTRA_BIND_ADDRESSES"' in server


def _make_targets_needing(prerequisite: str) -> set[str]:
    """The root Makefile's targets that run `prerequisite` first."""
    targets = set()
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([A-Za-z][\w-]*):(.*)$", line)
        if match and prerequisite in match.group(2).split():
            targets.add(match.group(1))
    return targets


def _program(command: str) -> str:
    """The program a command starts: after any VAR=value, or inside VAR="$(...)"."""
    for word in command.split():
        assignment = re.match(r"^[A-Za-z_]+=(.*)$", word)
        if not assignment:
            return word
        inner = re.match(r"^\"?\$\((\S+)", assignment.group(1))
        if inner:
            return inner.group(1)
    return ""


def test_the_section_works_from_a_fresh_clone_top_to_bottom() -> None:
    """Nothing runs .venv's or .venv-sam's programs before a command of the section has
    made that folder, and every program the commands start is a prerequisite (Docker is
    only for `sam local` and `--use-container`, which say so)."""
    makes = {".venv": _make_targets_needing("venv") | {"venv"}, ".venv-sam": {"sam-tools"}}
    made: set[str] = set()
    programs: set[str] = set()
    for command in _commands():
        for folder in makes:
            if f"{folder}/bin/" in command:
                assert folder in made, f"{command!r} runs before anything makes {folder}"
        words = command.split()
        if words[0] == "make":
            made |= {folder for folder, targets in makes.items() if words[1] in targets}
        programs.add(_program(command))
    section = _section()
    prerequisites = section[section.index("### Prerequisites") : section.index("\n#### ")]
    shell = {"read", "printf", "unset", "export", "rm", "tr", "mktemp", "docker"}
    missing = [p for p in sorted(programs - shell) if f"`{p}`" not in prerequisites]
    assert not missing, missing
