"""What the benchmark scripts share: TensorFlow's environment defaults, the JSON report and
the pieces of the printed table.

Each script first puts the repository root on `sys.path` in place of its own folder (run as
a script, `benchmarks/` is `sys.path[0]`, and `benchmarks/tokenizers.py` would shadow the HF
`tokenizers` package), then imports this module and calls `set_environment` before it
imports TensorFlow or Keras:

    HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [os.path.dirname(HERE), *(p for p in sys.path if ... != HERE)]
    from benchmarks._common import set_environment, write_json

    set_environment()
"""

import json
import os
import platform

__all__ = [
    "attention_model",
    "load_line",
    "machine_facts",
    "memory_status",
    "print_header",
    "report_run",
    "set_environment",
    "write_json",
]


def machine_facts(load_at_start, **extra):
    """The report's "machine" entry: platform, processor, CPU count and the 1-minute load
    average at the start (`load_at_start`, from `os.getloadavg()[0]`) and now; `extra`
    entries follow."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "load_average_1min_at_start": load_at_start,
        "load_average_1min_at_end": os.getloadavg()[0],
        **extra,
    }


def load_line(machine):
    """`load (1 min) A -> B on N CPUs`: the load averages and CPU count of a report's
    "machine" entry (`machine_facts`)."""
    return (
        f"load (1 min) {machine['load_average_1min_at_start']:.2f} -> "
        f"{machine['load_average_1min_at_end']:.2f} on {machine['cpu_count']} CPUs"
    )


def print_header(*parts):
    """Print a table's header line (the `parts` joined) and a rule as long under it."""
    header = "".join(parts)
    print(header)
    print("-" * len(header))


def set_environment(backend="tensorflow", cpu_only=True, **extra):
    """Defaults for the variables TensorFlow and Keras read when they start; a value the
    caller already set wins.

    Args:
        backend: `KERAS_BACKEND`.
        cpu_only: hide GPUs (`CUDA_VISIBLE_DEVICES=""`), for figures measured on the CPU.
        **extra: further variables, e.g. `TF_CPU_ALLOCATOR_USE_BFC="true"`.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", backend)
    if cpu_only:
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    for name, value in extra.items():
        os.environ.setdefault(name, value)


def write_json(report, path, ensure_ascii=True, lead=""):
    """Write `report` to `path` as indented UTF-8 JSON (its folder made where missing) and
    print `{lead}wrote {path}`."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        json.dump(report, file, indent=2, ensure_ascii=ensure_ascii)
    print(f"{lead}wrote {path}")


def memory_status():
    """`(VmRSS, VmHWM)` of this process in bytes: resident memory now and at its peak
    (Linux `/proc/self/status`)."""
    values = {}
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount, _ = line.split()
                values[key[:-1]] = int(amount) * 1024
    return values["VmRSS"], values["VmHWM"]


def report_run(run, print_table, args):
    """`run(args)`: the report it returns, printed with `print_table` and, where `args.json`
    names a file, written there (`write_json`)."""
    report = run(args)
    print_table(report)
    if args.json:
        write_json(report, args.json)
    return report


def attention_model(cls, attention, options, vocabulary_size, length, layers, heads, hidden, **kw):
    """A zoo `Bert` or `GPT` (`cls`) as the attention benchmarks build theirs: `attention`
    with its `options`, no dropout, a feed-forward of 4 x `hidden` unless
    `intermediate_dim` is passed, positions up to `length`."""
    return cls(
        vocabulary_size=vocabulary_size,
        num_layers=layers,
        num_heads=heads,
        hidden_dim=hidden,
        intermediate_dim=kw.pop("intermediate_dim", 4 * hidden),
        dropout=0.0,
        max_sequence_length=length,
        attention=attention,
        attention_options=options,
        **kw,
    )
