"""Distribution strategies for TPU, GPU, CPU and multi-worker training.

`get_strategy(name)` resolves a name to a `Strategy`: a small wrapper that holds the
backend's distribution object (a `tf.distribute.Strategy` under the TensorFlow backend,
a `keras.distribution.DataParallel` under JAX), the number of replicas, whether XLA
compilation can be used, and a sentence saying what was chosen and why.

`training_settings(strategy, per_replica_batch_size)` applies the TPU defaults in one
place: the bfloat16 mixed-precision policy on TPU (and on GPUs that support it when
asked), `steps_per_execution`, the global batch size, `drop_remainder=True` and int32 ids.
"""

import contextlib
import dataclasses
import json
import os
import socket
import sys
import threading
import urllib.parse

import keras
import numpy as np

STRATEGY_NAMES = ("auto", "tpu", "gpu", "cpu", "multi_worker")
TPU_DEFAULT_STEPS_PER_EXECUTION = 32


@dataclasses.dataclass
class Strategy:
    """What `get_strategy` chose.

    Attributes:
        kind: one of "tpu", "gpu", "cpu", "multi_worker".
        distribution: the `tf.distribute.Strategy` (TensorFlow backend) or the
            `keras.distribution.Distribution` (JAX backend).
        num_replicas: replicas that each take `per_replica_batch_size` examples a step
            (under JAX: the size of the device mesh's batch axis).
        jit_compile: whether `model.compile(jit_compile=...)` may use XLA here.
        reason: one sentence: what was chosen and why.
        mesh: `{axis name: size}` of the devices: `{"batch": 8}` for data parallelism
            over 8 JAX devices, `{"batch": 2, "model": 4}` with `--model-parallel 4`,
            `{"replica": n}` for a TensorFlow strategy's n replicas.
        processes: processes (hosts) taking part; each feeds its own rows of a batch.
    """

    kind: str
    distribution: object
    num_replicas: int
    jit_compile: bool
    reason: str
    mesh: dict = None
    processes: int = 1

    def __post_init__(self):
        if self.mesh is None:
            self.mesh = {"replica": self.num_replicas}

    @property
    def num_devices(self):
        """Devices the run uses (over every process)."""
        return int(np.prod(list(self.mesh.values())))

    def scope(self):
        """Context manager under which models and optimizers are created."""
        if hasattr(self.distribution, "scope"):
            return self.distribution.scope()
        return contextlib.nullcontext()

    @property
    def backend(self):
        return keras.backend.backend()


def get_strategy(name="auto", tpu=None, verbose=True, model_parallel=1, layout_map=None):
    """Resolve a strategy name to a `Strategy` and say what was chosen and why.

    Args:
        name: "auto" (a TPU if one is reachable, else every visible GPU, else the
            CPU), "tpu", "gpu", "cpu" or "multi_worker" (`TF_CONFIG` describes the
            cluster). Under `KERAS_BACKEND=jax`, every name but "multi_worker" gives
            `keras.distribution.DataParallel` over the JAX devices of that kind.
        tpu: TPU address for "tpu"/"auto": a name, `grpc://host:port`, or "local"
            on a Cloud TPU VM. By default Colab's `COLAB_TPU_ADDR` / `TPU_NAME` or a
            local TPU VM is used.
        verbose: print the reason.
        model_parallel: devices that hold one model replica (JAX backend only). Above
            1: `keras.distribution.ModelParallel` over a `DeviceMesh` of shape
            `(devices / model_parallel, model_parallel)`, axes `("batch", "model")`,
            with the variables laid out by `layout_map`.
        layout_map: `layout_map(device_mesh) -> keras.distribution.LayoutMap`, the model
            family's sharding (e.g. `zoo.models.GPT.layout_map`); required when
            `model_parallel > 1`.

    Returns:
        A `Strategy`.

    Example:

    >>> import tpu
    >>> strategy = tpu.get_strategy("cpu", verbose=False)
    >>> strategy.kind, strategy.num_replicas
    ('cpu', 1)
    """
    if name not in STRATEGY_NAMES:
        raise ValueError(
            f"Unknown strategy name {name!r}. Expected one of {', '.join(STRATEGY_NAMES)}, "
            'e.g. get_strategy("auto").'
        )
    if (
        isinstance(model_parallel, bool)
        or not isinstance(model_parallel, int)
        or (model_parallel < 1)
    ):
        raise ValueError(
            f"model_parallel must be a positive int (devices per model replica), received "
            f"{model_parallel!r}; e.g. --model-parallel 4 on 8 devices, or 1 for none."
        )
    if keras.backend.backend() == "jax":
        strategy = _jax_strategy(name, model_parallel, layout_map)
    else:
        if model_parallel > 1:
            raise ValueError(
                f"--model-parallel {model_parallel} needs the JAX backend (keras.distribution."
                "ModelParallel); this process runs Keras on "
                f"{keras.backend.backend()!r}. Run with KERAS_BACKEND=jax, or pass "
                "--model-parallel 1."
            )
        strategy = _tensorflow_strategy(name, tpu)
    if verbose:
        print(f"[tpu] {strategy.reason}", file=sys.stderr)
    return strategy


# TensorFlow backend ----------------------------------------------------------------------


def _mirrored(kind, devices, jit_compile, reason):
    """A `Strategy` replicating over `devices` (logical devices) with `MirroredStrategy`."""
    import tensorflow as tf

    distribution = tf.distribute.MirroredStrategy([device.name for device in devices])
    replicas = distribution.num_replicas_in_sync
    return Strategy(kind, distribution, replicas, jit_compile=jit_compile, reason=reason)


def _tensorflow_strategy(name, tpu):
    import tensorflow as tf

    if name == "multi_worker":
        return _multi_worker_strategy()
    if name in ("tpu", "auto"):
        address, why_not = _find_tpu(tpu)
        if address is not None:
            return _tpu_strategy(address)
        if name == "tpu":
            raise ValueError(
                f"Asked for a TPU, but none is reachable: {why_not}. On Colab choose "
                "Runtime > Change runtime type > TPU; on a Cloud TPU VM pass tpu='local'; "
                "elsewhere pass the TPU's name or grpc://host:port address, or use "
                "--strategy auto / gpu / cpu."
            )
    gpus = tf.config.list_logical_devices("GPU")
    if name in ("gpu", "auto") and gpus:
        found = " (no TPU found)" if name == "auto" else ""
        return _mirrored("gpu", gpus, True, f"MirroredStrategy over {len(gpus)} GPU(s){found}")
    if name == "gpu":
        raise ValueError(
            "Asked for GPUs, but TensorFlow sees none (tf.config.list_physical_devices('GPU') "
            "is empty). Install a CUDA build of TensorFlow (pip install 'tensorflow[and-cuda]') "
            "or use --strategy cpu."
        )
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) > 1:
        # Several logical CPU devices (tf.config.set_logical_device_configuration):
        # replicate over them. XLA cannot address variables across logical CPU devices.
        return _mirrored(
            "cpu",
            cpus,
            False,
            f"MirroredStrategy over {len(cpus)} logical CPU devices, XLA off "
            "(XLA cannot address variables across logical CPU devices)",
        )
    distribution = tf.distribute.OneDeviceStrategy("/cpu:0")
    return Strategy(
        "cpu",
        distribution,
        1,
        jit_compile=True,
        reason="one CPU device" + (" (no TPU or GPU found)" if name == "auto" else ""),
    )


def _find_tpu(tpu):
    """(address, None) for a reachable TPU, else (None, why not). Never blocks for long."""
    if tpu is None:
        tpu = os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR")
        if tpu and not tpu.startswith("grpc://") and ":" in tpu:
            tpu = f"grpc://{tpu}"
    if tpu is None:
        if _has_local_tpu_devices():
            return "local", None
        return None, "no TPU_NAME / COLAB_TPU_ADDR is set and this machine has no TPU device"
    if tpu == "local":
        if _has_local_tpu_devices():
            return "local", None
        return None, "tpu='local' was given but this machine has no /dev/accel* or /dev/vfio TPU"
    if tpu.startswith("grpc://"):
        parsed = urllib.parse.urlparse(tpu)
        try:
            with socket.create_connection((parsed.hostname, parsed.port or 8470), timeout=5):
                pass
        except OSError as error:
            return None, f"{tpu} does not answer ({error})"
    return tpu, None


def _has_local_tpu_devices():
    return any(os.path.exists(path) for path in ("/dev/accel0", "/dev/vfio/0"))


def _tpu_strategy(address):
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=address)
    if address != "local":
        tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    distribution = tf.distribute.TPUStrategy(resolver)
    return Strategy(
        "tpu",
        distribution,
        distribution.num_replicas_in_sync,
        jit_compile=True,
        reason=f"TPUStrategy on {address} with {distribution.num_replicas_in_sync} cores",
    )


def _multi_worker_strategy():
    import tensorflow as tf

    config = os.environ.get("TF_CONFIG")
    if not config:
        raise ValueError(
            "Asked for multi_worker, but TF_CONFIG is not set. Set it on every worker, e.g. "
            'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\'.'
        )
    try:
        parsed = json.loads(config)
        workers = parsed["cluster"]["worker"]
        index = parsed["task"]["index"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"TF_CONFIG is not valid ({error}): received {config!r}; expected JSON with "
            '"cluster": {"worker": [...]} and "task": {"type": "worker", "index": i}.'
        ) from None
    distribution = tf.distribute.MultiWorkerMirroredStrategy()
    _reduce_leaf_by_leaf(distribution)
    return Strategy(
        "multi_worker",
        distribution,
        distribution.num_replicas_in_sync,
        # XLA has no CPU kernel for the cross-worker collectives ("UnimplementedError"),
        # so compile only where the workers have GPUs.
        jit_compile=bool(tf.config.list_logical_devices("GPU")),
        reason=f"MultiWorkerMirroredStrategy, worker {index} of {len(workers)}, "
        f"{distribution.num_replicas_in_sync} replicas in sync",
        processes=len(workers),
    )


def _reduce_leaf_by_leaf(distribution):
    """Work around two Keras 3.15 `fit` bugs under MultiWorkerMirroredStrategy.

    `fit` reduces the first (x, y) batch with one `strategy.reduce` call to build the model
    symbolically, and reduces scalar per-replica metrics with `axis=0`; the strategy's
    cross-device reduce takes neither a nested structure nor an axis on a scalar. Reduce
    leaf by leaf, and across replicas only (`axis=None`) for scalars.
    """
    import tensorflow as tf

    reduce = distribution.reduce

    def reduce_leaf(reduce_op, leaf, axis):
        if axis is not None:
            local = distribution.experimental_local_results(leaf)[0]
            if local.shape.rank == 0:
                axis = None
        return reduce(reduce_op, leaf, axis)

    def reduce_each(reduce_op, value, axis=None):
        return tf.nest.map_structure(lambda leaf: reduce_leaf(reduce_op, leaf, axis), value)

    distribution.reduce = reduce_each


# JAX backend -----------------------------------------------------------------------------


def _jax_strategy(name, model_parallel=1, layout_map=None):
    import jax

    if name == "multi_worker":
        raise ValueError(
            "multi_worker is a TensorFlow strategy. Under KERAS_BACKEND=jax pass "
            "--coordinator-address HOST:PORT --num-processes P --process-id I on every host "
            "(nothing on a TPU pod), with --strategy auto."
        )
    platform = {"tpu": "tpu", "gpu": "gpu", "cpu": "cpu"}.get(name)
    if platform is None:  # auto: the best platform JAX has
        devices = jax.devices()
    else:
        try:
            devices = jax.devices(platform)
        except RuntimeError as error:
            raise ValueError(
                f"Asked for {name}, but JAX has no {platform} devices ({error}). "
                "Install the matching jax build or use --strategy auto."
            ) from None
    kind = devices[0].platform
    count = len(devices)
    processes = jax.process_count()
    where = f"{count} JAX {kind} device(s)" + (
        f" in {processes} processes" if processes > 1 else ""
    )
    if count % model_parallel:
        working = ", ".join(str(size) for size in range(1, count + 1) if count % size == 0)
        raise ValueError(
            f"--model-parallel {model_parallel} does not divide the {count} JAX devices; "
            f"pass one of {working}."
        )
    local = jax.local_device_count()
    if model_parallel > 1 and processes > 1 and local % model_parallel:
        raise ValueError(
            f"--model-parallel {model_parallel} would split a model replica across hosts "
            f"({local} devices each); pass a divisor of {local}."
        )
    # Each process feeds only its own rows of the step's global batch (the recipes'
    # step datasets cut them), so Keras must not shard the dataset again.
    if model_parallel == 1:
        distribution = keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
        mesh = {"batch": count}
        reason = f"keras.distribution.DataParallel over {where}"
    else:
        if layout_map is None:
            raise ValueError(
                "model_parallel > 1 needs the model family's layout_map (e.g. "
                "zoo.models.GPT.layout_map) to know how to shard its variables."
            )
        device_mesh = keras.distribution.DeviceMesh(
            (count // model_parallel, model_parallel), ("batch", "model"), devices
        )
        distribution = keras.distribution.ModelParallel(
            layout_map=layout_map(device_mesh), batch_dim_name="batch", auto_shard_dataset=False
        )
        mesh = {"batch": count // model_parallel, "model": model_parallel}
        reason = (
            f"keras.distribution.ModelParallel over {where}: mesh batch {mesh['batch']} x "
            f"model {model_parallel}"
        )
    keras.distribution.set_distribution(distribution)
    return Strategy(
        kind,
        distribution,
        mesh["batch"],
        jit_compile=True,
        reason=reason,
        mesh=mesh,
        processes=processes,
    )


# Several hosts ---------------------------------------------------------------------------


def initialize_processes(
    coordinator_address="", num_processes=1, process_id=0, timeout=300, verbose=True
):
    """Join a run of several JAX processes (hosts) with `jax.distributed.initialize`.

    Call it first, before anything asks JAX for its devices. One process
    (`num_processes=1`, no address) needs nothing, except on a TPU pod slice: there
    `jax.distributed.initialize()` finds the other hosts by itself, and is called when
    the TPU runtime names several workers (`TPU_WORKER_HOSTNAMES`). Elsewhere every process
    names the same coordinator (process 0 listens there) and its own id. On CPU the
    processes' collectives go through gloo.

    Args:
        coordinator_address: "HOST:PORT" of process 0; "" for one process or a TPU pod.
        num_processes: processes in the run.
        process_id: this process, 0 to `num_processes - 1`.
        timeout: seconds to wait for the coordinator and every process to join.
        verbose: say what was joined.

    Returns:
        `(process_id, num_processes)` as JAX sees them.

    Raises:
        ValueError: a bad address, count or id, another backend than JAX, or a
            coordinator that did not answer within `timeout` (one line each).
    """
    for name, value, low in (("num-processes", num_processes, 1), ("process-id", process_id, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"--{name} must be an int >= {low}, received {value!r}.")
    if process_id >= num_processes:
        raise ValueError(
            f"--process-id {process_id} is out of range for --num-processes {num_processes}; "
            f"pass 0 to {num_processes - 1}."
        )
    if not timeout or timeout <= 0:
        raise ValueError(f"--coordinator-timeout must be > 0 seconds, received {timeout!r}.")
    pod = "," in os.environ.get("TPU_WORKER_HOSTNAMES", "")
    if num_processes == 1 and not coordinator_address and not pod:
        return 0, 1
    if keras.backend.backend() != "jax":
        raise ValueError(
            "--coordinator-address / --num-processes start a multi-host JAX run, but Keras "
            f"runs on {keras.backend.backend()!r}: set KERAS_BACKEND=jax, or use "
            "--strategy multi_worker with TF_CONFIG under TensorFlow."
        )
    import jax

    if jax.distributed.is_initialized():
        return jax.process_index(), jax.process_count()
    if coordinator_address or num_processes > 1:
        host, _, port = coordinator_address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"--coordinator-address must be HOST:PORT (process 0's address, the same "
                f"on every process), received {coordinator_address!r}; e.g. 10.0.0.2:8476."
            )
        arguments = {
            "coordinator_address": coordinator_address,
            "num_processes": num_processes,
            "process_id": process_id,
        }
    else:
        arguments = {}  # a TPU pod: JAX reads the hosts from the TPU runtime
    # Only the CPU client reads this; TPU and GPU hosts have their own interconnect.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    failure = (
        f"Could not join the run at {coordinator_address or 'the TPU pod'} as process "
        f"{process_id} of {num_processes} within {timeout} s"
    )
    advice = (
        "Start process 0 on the coordinator's host, give every process the same "
        "--coordinator-address and --num-processes, and a distinct --process-id."
    )
    # JAX's coordination client aborts the whole process (a C++ check failure) when its
    # own timeout runs out; this watchdog ends it first, with one line that says why.
    watchdog = threading.Timer(timeout, _give_up, args=(f"{failure}. {advice}",))
    watchdog.daemon = True
    watchdog.start()
    try:
        jax.distributed.initialize(**arguments, initialization_timeout=int(timeout) + 30)
    except Exception as error:  # jax raises XlaRuntimeError / RuntimeError subclasses
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{failure} ({first}). {advice}") from None
    finally:
        watchdog.cancel()
    if verbose:
        print(
            f"[tpu] process {jax.process_index()} of {jax.process_count()} joined "
            f"({jax.local_device_count()} local devices)",
            file=sys.stderr,
        )
    return jax.process_index(), jax.process_count()


def _give_up(message):
    print(f"error: {message}", file=sys.stderr, flush=True)
    os._exit(2)


# Training defaults -----------------------------------------------------------------------


@dataclasses.dataclass
class TrainingSettings:
    """Batch, precision and compilation settings for a strategy (see `training_settings`)."""

    global_batch_size: int
    per_replica_batch_size: int
    steps_per_execution: int
    dtype_policy: str
    jit_compile: bool
    drop_remainder: bool = True
    id_dtype: str = "int32"


def training_settings(
    strategy, per_replica_batch_size, steps_per_execution=None, mixed_precision=None
):
    """Apply the TPU rules to a strategy and set the global Keras dtype policy.

    Args:
        strategy: a `Strategy` from `get_strategy`.
        per_replica_batch_size: examples per replica per step.
        steps_per_execution: steps run per host call; default 32 on TPU, 1 elsewhere.
        mixed_precision: None (bf16 on TPU, float32 elsewhere), True for
            "mixed_bfloat16" anywhere, False for float32 everywhere.

    Returns:
        `TrainingSettings`; `keras.config.set_dtype_policy` has been called with its
        `dtype_policy`.
    """
    if not isinstance(per_replica_batch_size, int) or per_replica_batch_size < 1:
        raise ValueError(
            f"per_replica_batch_size must be a positive int, received {per_replica_batch_size!r}."
        )
    if steps_per_execution is None:
        steps_per_execution = TPU_DEFAULT_STEPS_PER_EXECUTION if strategy.kind == "tpu" else 1
    if steps_per_execution < 1:
        raise ValueError(f"steps_per_execution must be >= 1, received {steps_per_execution}.")
    if mixed_precision is None:
        mixed_precision = strategy.kind == "tpu"
    policy = "mixed_bfloat16" if mixed_precision else "float32"
    keras.config.set_dtype_policy(policy)
    return TrainingSettings(
        global_batch_size=per_replica_batch_size * strategy.num_replicas,
        per_replica_batch_size=per_replica_batch_size,
        steps_per_execution=steps_per_execution,
        dtype_policy=policy,
        jit_compile=strategy.jit_compile,
    )
