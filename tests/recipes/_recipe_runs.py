"""What the recipe tests share: a tiny run's flags, one run per test module, the resume
check, and Python code run in a fresh process (a SavedModel served without `zoo`)."""

import json
import subprocess
import sys

import pytest

# A one-layer Transformer with hidden size 16.
TINY_MODEL = [
    "--num-layers", "1", "--num-heads", "2", "--hidden-dim", "16", "--intermediate-dim", "32",
]  # fmt: skip


def tiny_flags(*extra, batch_size=16, vocabulary_size=400):
    """The flags of a 4-step CPU run of a Transformer recipe on `TINY_MODEL` (sequences of
    24 tokens, a checkpoint every 2 steps, quiet), then `extra`."""
    return [
        "--steps", "4", "--batch-size", str(batch_size), "--vocabulary-size",
        str(vocabulary_size), *TINY_MODEL, "--sequence-length", "24", "--checkpoint-every",
        "2", "--strategy", "cpu", "--verbose", "0", *extra,
    ]  # fmt: skip


def run_dir_fixture(main, argv, name):
    """A module-scoped `run_dir` fixture: the `--out` of one `main(argv)` run, shared by
    the module's tests."""

    @pytest.fixture(scope="module")
    def run_dir(tmp_path_factory):
        out = tmp_path_factory.mktemp(name)
        assert main([*argv, "--out", str(out)]) == 0
        return out

    return run_dir


def checkpoint_step(run_dir):
    """The step of the run's newest checkpoint (`checkpoints/latest.json`)."""
    return json.loads((run_dir / "checkpoints" / "latest.json").read_text())["step"]


def check_resume(main, argv, run_dir, steps=6, extra=(), refused=True):
    """`--resume` of the run in `run_dir` (made by `main(argv)`), with `extra` flags, goes
    on to `steps`; with `refused`, the same run again without `--resume` is refused."""
    resumed = [*argv, "--out", str(run_dir), "--resume", "--steps", str(steps), "--no-export"]
    assert main([*resumed, *extra]) == 0
    assert checkpoint_step(run_dir) == steps
    if refused:
        with pytest.raises(ValueError, match="--resume"):
            main([*argv, "--out", str(run_dir)])


def run_python(code, *arguments, timeout=300, **options):
    """Run `code` in a fresh Python with `arguments` (`sys.argv[1:]`), check that it exits
    0 (else show the end of its standard error) and return its standard output's lines.
    `options` go to `subprocess.run` (`env`, `cwd`)."""
    result = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        **options,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()
