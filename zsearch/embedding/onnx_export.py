"""The ONNX file of a BERT-like model: which models qualify, the one-off export, the verified cache.

The cache lives in the user's cache directory (:func:`zsearch.config.default_cache_dir`,
``onnx/`` under it), one folder per source model, named by the SHA-256 of its weights and
``config.json``, so a changed model is exported again and never silently reused::

    onnx/<sha256 of the source weights + config>/fp32.onnx
    onnx/<...>/fp32.onnx.json          sidecar: sha256, size and mtime of fp32.onnx, versions
    onnx/<...>/int8.onnx(.json)        the per-channel int8 variant (--engine onnx-int8)

Each file is written under a temporary name and renamed into place; its sidecar is written
last, so the sidecar is the commit point. A file whose bytes do not match its sidecar
(truncated, corrupt, half-written) is reported in one line and exported again.

Only :func:`export_onnx` needs torch and transformers (imported inside it); quantisation needs
``onnx`` and ``onnxruntime.quantization``. Loading a prepared file needs neither.

A little over 400 lines, kept as one piece: what makes a cached file valid (the key, the
sidecar, :data:`EXPORT_VERSION`) and the export and quantisation that write it change together.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zsearch.config import default_cache_dir
from zsearch.errors import ModelLoadError

log = logging.getLogger(__name__)

# ONNX opset of the export: 17 has LayerNormalization as one op (onnxruntime >= 1.14 runs it).
OPSET = 17
# Bump when export_onnx or quantize_onnx change what they write: older files are rebuilt.
EXPORT_VERSION = 1
# Files whose bytes define the exported graph (weights and architecture). The tokenizer is read
# from the model directory at run time, so it is not part of the key.
SOURCE_GLOBS = ("*.safetensors", "*.bin", "config.json")
# The export's self-check: smallest cosine between torch and ONNX mean-pooled vectors of a
# padded probe batch (the plain export measured 0.9999998 on 1,000 SciFact abstracts).
CHECK_MIN_COSINE = 0.99999
# The int8 recipe: onnxruntime quantize_dynamic, per-channel QInt8 weights on every supported op.
# Measured on 400 SciFact abstracts (/work/scratch/h-onnx/quant_table.txt): 1.74x the fp32 speed,
# cosine to fp32 min 0.988 / mean 0.993 (per-tensor: 1.59x, min 0.878). Not the default.
INT8_PER_CHANNEL = True


# What _problem says of a file that is not there (exported without a complaint).
MISSING = "missing"


class OnnxUnavailable(ModelLoadError):
    """The ONNX engine cannot serve this model here (the caller falls back to torch)."""


class CacheUnwritable(OnnxUnavailable):
    """The cache directory cannot be written (read-only file system, permissions)."""


# -- which models qualify ----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """What the ONNX engine needs of a sentence-transformers model directory."""

    model_dir: Path  # the sentence-transformers directory (modules.json)
    transformer_dir: Path  # where config.json, the weights and tokenizer.json are
    max_seq_length: int
    do_lower_case: bool
    pooling: str  # "mean" or "cls"
    normalize: bool
    dim: int


def read_spec(model_dir: str | Path) -> ModelSpec:
    """Read modules.json, sentence_bert_config.json and the pooling config of a model directory.

    Raises :class:`OnnxUnavailable` for anything the engine does not reproduce exactly: a
    custom or Dense module, pooling other than mean or CLS, a pooling that leaves the prompt
    out, no fast tokenizer (``tokenizer.json``), a model that runs its own code.
    """
    d = Path(model_dir)
    modules_path = d / "modules.json"
    if not modules_path.is_file():
        raise OnnxUnavailable(f"{d} is not a sentence-transformers directory (no modules.json)")
    tdir, pooling, normalize, dim = d, "mean", False, None
    for m in json.loads(modules_path.read_text(encoding="utf-8")):
        kind = m.get("type", "")
        path = d / m.get("path", "")
        if kind == "sentence_transformers.models.Transformer":
            tdir = path
        elif kind == "sentence_transformers.models.Pooling":
            cfg = json.loads((path / "config.json").read_text(encoding="utf-8"))
            dim = cfg.get("word_embedding_dimension")
            modes = sorted(k for k, v in cfg.items() if k.startswith("pooling_mode") and v)
            if cfg.get("include_prompt", True) is False:
                raise OnnxUnavailable("a pooling that leaves the prompt out is not supported by the ONNX engine")
            if modes == ["pooling_mode_mean_tokens"]:
                pooling = "mean"
            elif modes == ["pooling_mode_cls_token"]:
                pooling = "cls"
            else:
                raise OnnxUnavailable(f"pooling {modes} is not supported by the ONNX engine")
        elif kind == "sentence_transformers.models.Normalize":
            normalize = True
        else:
            raise OnnxUnavailable(f"module {kind or '?'} is not supported by the ONNX engine")
    config = json.loads((tdir / "config.json").read_text(encoding="utf-8"))
    if config.get("auto_map"):
        raise OnnxUnavailable("a model with its own code (auto_map) is not supported by the ONNX engine")
    if not (tdir / "tokenizer.json").is_file():
        raise OnnxUnavailable(f"{tdir} has no tokenizer.json (a fast tokenizer)")
    sbert = tdir / "sentence_bert_config.json"
    sb = json.loads(sbert.read_text(encoding="utf-8")) if sbert.is_file() else {}
    limit = int(config.get("max_position_embeddings", 512))
    return ModelSpec(
        model_dir=d,
        transformer_dir=tdir,
        max_seq_length=min(int(sb.get("max_seq_length") or limit), limit),
        do_lower_case=bool(sb.get("do_lower_case", False)),
        pooling=pooling,
        normalize=normalize,
        dim=int(dim or config["hidden_size"]),
    )


# -- hashing -----------------------------------------------------------------------------------


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def source_hash(spec: ModelSpec, memo: Path | None = None) -> str:
    """SHA-256 over the source weights and config (names and digests), in sorted order.

    ``memo``: a JSON file of ``{path: [size, mtime_ns, sha256]}`` so an unchanged file is not
    read again on every start (hashing MiniLM's 90 MB costs 0.1-0.3 s, a cold search's budget).
    """
    cache: dict[str, list[Any]] = {}
    if memo is not None and memo.is_file():
        with contextlib.suppress(OSError, ValueError):
            cache = json.loads(memo.read_text(encoding="utf-8"))
    h = hashlib.sha256()
    changed = False
    files = sorted({p for g in SOURCE_GLOBS for p in spec.transformer_dir.glob(g) if p.is_file()})
    for p in files:
        st = p.stat()
        key = str(p.resolve())
        hit = cache.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            digest = hit[2]
        else:
            digest = sha256_file(p)
            cache[key] = [st.st_size, st.st_mtime_ns, digest]
            changed = True
        h.update(p.name.encode() + b"\0" + digest.encode() + b"\0")
    if memo is not None and changed:
        with contextlib.suppress(OSError):
            _atomic_write_text(memo, json.dumps(cache))
    return h.hexdigest()


def cache_root() -> Path:
    """Where exported models live: ``onnx/`` in the user's zsearch cache directory."""
    return default_cache_dir() / "onnx"


# -- atomic files ------------------------------------------------------------------------------


def _atomic_write_text(path: Path, text: str) -> None:
    with _tmp_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def _tmp_path(final: Path) -> Iterator[Path]:
    """A temporary path next to ``final``; synced and renamed onto it when the block succeeds."""
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory``: two processes never export the same model at once."""
    import fcntl

    with open(directory / ".lock", "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


# -- export (torch) ----------------------------------------------------------------------------


def export_onnx(spec: ModelSpec, dest: Path) -> dict[str, Any]:
    """Export the transformer of ``spec`` to ``dest`` (atomically); returns facts for the sidecar.

    The only function that imports torch. The graph takes ``input_ids``, ``attention_mask``
    (and ``token_type_ids`` when the model has them), batch and sequence axes dynamic, and
    returns ``last_hidden_state``; pooling runs in numpy. The graph then goes through
    onnxruntime's BERT optimizer (fused Attention, SkipLayerNorm, BiasGelu), kept only if it
    matches torch as closely as the plain one (self-check on a padded probe batch).
    """
    import warnings

    with warnings.catch_warnings():  # the tracer's warnings are about shapes the self-check covers
        warnings.simplefilter("ignore")
        return _export(spec, dest)


def _export(spec: ModelSpec, dest: Path) -> dict[str, Any]:
    import inspect

    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()  # "Loading weights" is ours to report
    t0 = time.perf_counter()
    model = AutoModel.from_pretrained(str(spec.transformer_dir), attn_implementation="eager").eval()
    params = inspect.signature(model.forward).parameters
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if "token_type_ids" in params else [])

    class Wrapped(torch.nn.Module):
        def __init__(self, inner: Any):
            super().__init__()
            self.inner = inner

        def forward(self, *args: Any) -> Any:
            return self.inner(**dict(zip(names, args))).last_hidden_state

    tok = AutoTokenizer.from_pretrained(str(spec.transformer_dir))
    probe = ["a short probe", "a somewhat longer probe sentence, with punctuation and 123 numbers in it."]
    enc = tok(probe, padding=True, return_tensors="pt")
    args = tuple(enc[n] if n in enc else torch.zeros_like(enc["input_ids"]) for n in names)
    with torch.inference_mode():
        ref = model(**dict(zip(names, args))).last_hidden_state.numpy()
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".export.") as work:
        plain = Path(work) / "plain.onnx"
        with torch.inference_mode():
            torch.onnx.export(
                Wrapped(model), args, str(plain), dynamo=False, opset_version=OPSET,
                input_names=names, output_names=["last_hidden_state"], dynamic_axes=axes,
                do_constant_folding=True,
            )
        feeds = {n: a.numpy().astype(np.int64) for n, a in zip(names, args)}
        cosine = _check(plain, feeds, ref)
        if cosine < CHECK_MIN_COSINE:
            raise OnnxUnavailable(f"the exported graph differs from torch (cosine {cosine:.6f})")
        chosen, fused = plain, _fuse(plain, Path(work) / "fused.onnx", model.config)
        if fused is not None and _check(fused, feeds, ref) >= CHECK_MIN_COSINE:
            chosen = fused
        with _tmp_path(dest) as tmp:
            os.replace(chosen, tmp)
    import onnxruntime

    return {
        "opset": OPSET,
        "inputs": names,
        "fused": chosen != plain,
        "export_seconds": round(time.perf_counter() - t0, 2),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def _fuse(plain: Path, dest: Path, config: Any) -> Path | None:
    """The graph through onnxruntime's BERT optimizer, or ``None`` when it fuses no attention."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        opt = optimize_model(str(plain), model_type="bert", num_heads=int(config.num_attention_heads),
                             hidden_size=int(config.hidden_size), opt_level=0)
        if not opt.get_fused_operator_statistics().get("Attention"):
            return None
        opt.save_model_to_file(str(dest))
        return dest
    except Exception as exc:  # noqa: BLE001 - the plain graph is correct; fusing is a bonus
        log.info("graph fusion failed, using the plain export: %s", exc)
        return None


def _check(path: Path, feeds: dict[str, np.ndarray], ref: np.ndarray) -> float:
    """Smallest cosine between mean-pooled torch and ONNX states of the probe batch."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {i.name: feeds[i.name] for i in sess.get_inputs()})[0]
    mask = feeds["attention_mask"][..., None].astype(np.float32)
    a, b = (ref * mask).sum(1), (got * mask).sum(1)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    return float(np.min(np.sum(a * b, axis=1)))


def quantize_onnx(src: Path, dest: Path) -> dict[str, Any]:
    """Write the per-channel int8 variant of ``src`` to ``dest`` (atomically); facts for the sidecar."""
    t0 = time.perf_counter()
    logging.disable(logging.WARNING)  # it advises "pre-processing" on the root logger, for CNNs
    try:
        _quantize(src, dest)
    finally:
        logging.disable(logging.NOTSET)
    return {"quant": {"per_channel": INT8_PER_CHANNEL, "weight_type": "QInt8"},
            "quant_seconds": round(time.perf_counter() - t0, 2)}


def _quantize(src: Path, dest: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _tmp_path(dest) as tmp:
        quantize_dynamic(
            str(src), str(tmp), per_channel=INT8_PER_CHANNEL, weight_type=QuantType.QInt8,
            # the fused contrib ops (SkipLayerNormalization...) defeat onnx shape inference
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


# -- the cache ---------------------------------------------------------------------------------


def prepared_model(
    model_dir: str | Path,
    *,
    int8: bool = False,
    root: Path | None = None,
    verify: str = "stat",
    notify: Callable[[str], None] = log.warning,
) -> Path:
    """Path of a verified ONNX file for ``model_dir`` (fp32, or the int8 variant); exports it if needed.

    ``verify``: ``"stat"`` re-hashes the file only when its size or mtime differ from the
    sidecar (a truncated or rewritten file is caught); ``"full"`` re-hashes it every time (also
    a bit flipped in place). A file that fails is exported again and ``notify`` is told in one
    line. Raises :class:`CacheUnwritable` when there is no valid file and the cache cannot be
    written, :class:`OnnxUnavailable` when the model does not qualify.
    """
    spec = read_spec(model_dir)
    root = root or cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        key = source_hash(spec, memo=root / "source-hashes.json")
        folder = root / key
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise CacheUnwritable(f"cannot write the ONNX cache {root}: {exc.strerror or exc}") from exc
    fp32 = folder / "fp32.onnx"
    want = folder / ("int8.onnx" if int8 else "fp32.onnx")
    if _problem(want, key, verify) is None:
        return want
    try:
        with _locked(folder):
            if _problem(want, key, verify) is None:  # another process made it meanwhile
                return want
            problem = _problem(fp32, key, "full")
            if problem is not None:
                notify(problem if problem != MISSING else f"exporting {spec.model_dir.name} to ONNX once, into {folder}")
                _write_sidecar(fp32, key, export_onnx(spec, fp32))
            if int8:
                problem = _problem(want, key, "full")
                if problem not in (None, MISSING):
                    notify(problem.replace("exporting", "quantising"))
                _write_sidecar(want, key, quantize_onnx(fp32, want))
    except OSError as exc:
        raise CacheUnwritable(f"cannot write the ONNX cache {folder}: {exc.strerror or exc}") from exc
    except OnnxUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - an export that fails leaves the torch path
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise OnnxUnavailable(f"exporting {model_dir} to ONNX failed: {type(exc).__name__}: {first}") from exc
    return want


def _write_sidecar(path: Path, key: str, facts: dict[str, Any]) -> None:
    st = path.stat()
    side = {"file": path.name, "sha256": sha256_file(path), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns,
            "source_sha256": key, "export_version": EXPORT_VERSION, **facts}
    _atomic_write_text(path.with_name(path.name + ".json"), json.dumps(side, indent=1))


def _problem(path: Path, key: str, verify: str) -> str | None:
    """What is wrong with the cached ``path`` (:data:`MISSING` when absent), or ``None``: it is valid."""
    side_path = path.with_name(path.name + ".json")
    if not path.is_file() and not side_path.is_file():
        return MISSING
    try:
        side = json.loads(side_path.read_text(encoding="utf-8"))
        st = path.stat()
    except (OSError, ValueError):
        return f"the ONNX model {path} is incomplete; exporting it again"
    if side.get("source_sha256") != key or side.get("export_version") != EXPORT_VERSION:
        return f"the ONNX model {path} is from another export; exporting it again"
    if verify == "stat" and st.st_size == side.get("bytes") and st.st_mtime_ns == side.get("mtime_ns"):
        return None
    if st.st_size != side.get("bytes") or sha256_file(path) != side.get("sha256"):
        return f"the ONNX model {path} is corrupt or truncated (its hash does not match); exporting it again"
    return None
