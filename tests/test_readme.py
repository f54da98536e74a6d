"""The README works as written, from the repository root.

Its Python blocks run in order in one namespace (as a reader pastes them into one session),
and a block that prints must be followed by a ```text block holding exactly what it prints.
Its ``minisr`` command lines parse; the Quickstart writes nothing into the repository and
``.ci/run`` runs the same commands; ``minisr.backend`` works after a bare ``import minisr``.
"""
import contextlib
import io
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

from minisr.cli import build_parser

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", re.S | re.M)
BLOCKS = [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(README)]
# Arguments naming a file or folder a command writes (resize/upscale/demo OUT, --compare,
# train --out, data fetch --dir); None means the command's own default (checked below).
OUTPUT_ARGS = ("output", "out", "compare", "dir")


def _examples() -> list[tuple[str, str | None]]:
    """(code, expected stdout) per python block; the expected stdout is the ```text block
    that follows it with nothing but blank lines between, else None."""
    examples = []
    for k, (lang, body, _, end) in enumerate(BLOCKS):
        if lang != "python":
            continue
        nxt = BLOCKS[k + 1] if k + 1 < len(BLOCKS) else None
        shown = nxt is not None and nxt[0] == "text" and not README[end:nxt[2]].strip()
        examples.append((body, nxt[1] if shown else None))
    return examples


def _commands(text: str) -> list[str]:
    """Shell commands of a bash block: one per line and per ``&&``, comments dropped."""
    lines = (line.split(" #")[0].strip() for line in text.splitlines())
    return [c.strip() for line in lines if line for c in line.split("&&") if c.strip()]


def _quickstart() -> str:
    """The bash block of the README's Quickstart section."""
    match = re.search(r"^## Quickstart\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert match, "README has no '## Quickstart' section"
    bash = [body for lang, body, _, _ in BLOCKS if lang == "bash" and body in match.group(1)]
    assert len(bash) == 1, "the Quickstart should have exactly one bash block"
    return bash[0]


def _parse(command: str):
    tokens = shlex.split(command)
    assert tokens[0] == "minisr", command
    try:
        return build_parser().parse_args(tokens[1:])
    except Exception as e:  # the parser raises instead of exiting (minisr.cli._Parser)
        raise AssertionError(f"README command {command!r} does not parse: {e}") from None


def test_readme_examples_run_and_print_what_they_show(monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for i, (code, expected) in enumerate(_examples()):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"README.md, python block {i}", "exec"), namespace)
        if expected is None:
            assert out.getvalue() == "", (f"python block {i} prints {out.getvalue()!r} but "
                                          "no ```text block after it shows that")
        else:
            assert out.getvalue() == expected, f"python block {i}"


def test_readme_has_examples_with_output():
    examples = _examples()
    assert len(examples) >= 3 and sum(e is not None for _, e in examples) >= 2
    assert any("minisr.backend.use_backend" in code for code, _ in examples)


def test_readme_minisr_commands_parse():
    # Every command in a bash block, and every inline `minisr SUB ARG...` span.
    commands = [c for lang, body, _, _ in BLOCKS if lang == "bash"
                for c in _commands(body) if c.startswith("minisr ")]
    commands += [s for s in re.findall(r"`(minisr [^`]+)`", README) if len(s.split()) >= 3]
    assert len(commands) >= 3
    for command in commands:
        _parse(command)


def test_quickstart_writes_nothing_into_the_repository():
    commands = [c for c in _commands(_quickstart()) if c.startswith("minisr ")]
    assert commands, "the Quickstart runs no minisr command"
    for command in commands:
        args = _parse(command)
        for name in OUTPUT_ARGS:
            value = getattr(args, name, None)
            if value is None:
                continue
            path = pathlib.Path(os.path.realpath(ROOT / pathlib.Path(value).expanduser()))
            assert ROOT.resolve() not in (path, *path.parents), \
                f"Quickstart {command!r} writes {value!r} inside the repository"


def test_ci_runs_the_quickstart_commands():
    # `.ci/run` installs quietly into a fresh venv, then runs the other commands verbatim.
    ci_lines = {line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()}
    for command in _commands(_quickstart()):
        if not command.startswith("pip install"):
            assert command in ci_lines, f".ci/run does not run the Quickstart's {command!r}"


@pytest.mark.parametrize("code, expected", [
    # import minisr loads no submodule (so `minisr --version` stays quick) ...
    ("import minisr; print(sorted(m for m in sys.modules if m.startswith('minisr.')))", "[]"),
    # ... and minisr.backend, as the README writes it, imports minisr.backend on first use.
    ("import minisr\nwith minisr.backend.use_backend('ref'):\n"
     "    print(minisr.backend.current_backend_name())\n"
     "print(hasattr(minisr, 'no_such_module'))", "ref\nFalse"),
])
def test_bare_import_minisr_is_lazy_and_reaches_submodules(code, expected):
    # A fresh interpreter: in this one, other tests have imported the submodules already.
    out = subprocess.run([sys.executable, "-c", "import sys\n" + code], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == expected
