"""Embedding throughput: zsearch's path vs plain baselines, on CPU and on a GPU.

CPU part (``--device cpu``, the bundled all-MiniLM-L6-v2):

* SciFact abstracts (title + abstract, ``--limit`` of them) and the shared PDFs' full texts
  (cut into the windows the library embeds for a short-context model), each embedded by
  ``Embedder.encode_documents`` and by a plain ``SentenceTransformer.encode`` (default batch
  size 32) of the same texts with the same weights, alternating, best of ``--repeats``;
  docs/s, tokens/s (real tokens, padding excluded) and the ratio ours / plain (target >= 1.0);
* a sweep of the token budget (``--budgets``) on the SciFact texts.

GPU part (``--device cuda``): a random-weight model with zembed-1's architecture (Qwen3-4B:
hidden 2560, 36 layers, 32 query / 8 key-value heads, head dim 128, intermediate 9728,
vocab 151,936) in bf16 with SDPA — weights do not change the speed — on documents of exactly
1k, 8k and 32k tokens and on a mixed-length corpus (log-uniform 256-32k tokens, shuffled):
tokens/s, papers/s, peak GPU memory, model FLOP utilisation (achieved FLOP/s over the dense
bf16 peak, ``--peak-tflops``, 989 for an H100 SXM; FLOPs = 2 × parameters per token plus
causal attention, see ``zsearch.embedding.runner_torch.flops_per_token``), against a naive baseline in the same
run: fixed-size batches in corpus order, padded to the longest (``--naive-batch``).
``--arch tiny`` runs the same GPU code on a 2-layer model (on CPU too) as a smoke test.

    python benchmarks/embed.py --device cpu [--limit 500] [--repeats 2] [--json]
    python benchmarks/embed.py --device cuda [--arch qwen3-4b] [--lengths 1024,8192,32768]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# dense bf16 peak of an H100 SXM (NVIDIA H100 datasheet: 989.4 TFLOP/s without sparsity)
H100_BF16_TFLOPS = 989.0
QWEN3_4B = dict(
    hidden_size=2560,
    num_hidden_layers=36,
    num_attention_heads=32,
    num_key_value_heads=8,
    head_dim=128,
    intermediate_size=9728,
    vocab_size=151936,
    max_position_embeddings=40960,
)
TINY = dict(
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    intermediate_size=128,
    vocab_size=3000,
    max_position_embeddings=40960,
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- corpora -----------------------------------------------------------------------------


def scifact_texts(limit: int) -> list[str]:
    """SciFact title + abstract texts; the 150-document test sample when the shared data is absent
    (the GPU machine gets the repository only)."""
    path = DATA / "beir" / "scifact" / "corpus.jsonl"
    if not path.is_file():
        path = Path(__file__).resolve().parents[1] / "tests" / "data" / "embed" / "scifact_sample.jsonl"
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out.append(f"{rec['title']}\n\n{rec['text']}")
            if len(out) >= limit:
                break
    return out


def pdf_full_texts() -> tuple[list[str], str]:
    """Full texts of the shared PDFs: zsearch.sources.pdf.reader, else PyMuPDF page text."""
    paths = sorted((DATA / "pdfs").rglob("*.pdf"))
    try:
        from zsearch.errors import RecordError
        from zsearch.sources.pdf.reader import iter_pdfs

        texts = [p.document_text for p in iter_pdfs(paths) if not isinstance(p, RecordError)]
        return [t for t in texts if t.strip()], "zsearch.sources.pdf.reader"
    except ImportError:
        import pymupdf

        texts = []
        for p in paths:
            try:
                with pymupdf.open(p) as doc:
                    texts.append("\n".join(page.get_text() for page in doc))
            except Exception:  # noqa: BLE001 - broken/encrypted files are part of the set
                continue
        return [t for t in texts if t.strip()], "pymupdf page text"


# -- CPU part ----------------------------------------------------------------------------


def timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def compare(emb: Any, texts: list[str], repeats: int) -> dict[str, Any]:
    """Best-of-``repeats`` seconds for our path and for plain encode, run alternately."""
    import numpy as np

    tokens = sum(len(x) for x in emb.token_ids(texts))
    ours, plain = [], []
    v_ours = v_plain = None
    for _ in range(repeats):
        t = time.perf_counter()
        v_ours = emb.encode_documents(texts)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        v_plain = emb.model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        plain.append(time.perf_counter() - t)
    diff = float(np.abs(v_ours - v_plain).max())
    o, p = min(ours), min(plain)
    return {
        "docs": len(texts),
        "tokens": tokens,
        "ours_s": round(o, 3),
        "plain_s": round(p, 3),
        "ours_docs_s": round(len(texts) / o, 2),
        "plain_docs_s": round(len(texts) / p, 2),
        "ours_tok_s": round(tokens / o),
        "plain_tok_s": round(tokens / p),
        "ratio": round(p / o, 3),
        "max_abs_diff": diff,
    }


def cpu_part(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from zsearch.embedding.embedder import load_embedder

    if args.threads:
        torch.set_num_threads(args.threads)
    emb = load_embedder("minilm", device="cpu", engine="torch")  # the torch path it measures
    res: dict[str, Any] = {"device": "cpu", "threads": torch.get_num_threads(), "model": emb.model_id}
    sci = scifact_texts(args.limit)
    log(f"scifact: {len(sci)} abstracts")
    res["scifact"] = compare(emb, sci, args.repeats)
    log(f"  {res['scifact']}")
    full, how = pdf_full_texts()
    windows = [w for t in full for w in emb.windows(t)]
    n_all = len(windows)
    if args.max_windows and n_all > args.max_windows:  # an even sample over all papers
        step = n_all / args.max_windows
        windows = [windows[int(i * step)] for i in range(args.max_windows)]
    log(f"pdf full texts ({how}): {len(full)} papers -> {n_all} windows, {len(windows)} embedded")
    res["pdf_windows"] = {
        "papers": len(full), "windows_total": n_all, "text_source": how, **compare(emb, windows, args.repeats)
    }
    log(f"  {res['pdf_windows']}")
    sweep = {}
    for b in args.budgets:
        emb.token_budget = b
        t = timed(lambda: emb.encode_documents(sci))
        sweep[b] = round(res["scifact"]["tokens"] / t)
        log(f"  budget {b}: {sweep[b]} tok/s")
    res["budget_sweep_tok_s"] = sweep
    return res


# -- GPU part ----------------------------------------------------------------------------


def build_random_embedder(arch: dict[str, int], device: str, max_tokens: int) -> Any:
    """An Embedder over a random-weight Qwen3 with zembed-1's modules, in bf16 (fp32 on CPU)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling
    from tinymodels import build_tiny_zembed
    from transformers import Qwen3Config, Qwen3Model

    from zsearch.embedding.embedder import Embedder
    from zsearch.embedding.profiles import Profile
    from zsearch.embedding.runner_torch import TorchRunner

    tmp = Path(tempfile.mkdtemp(prefix="zsearch-bench-"))
    tiny = build_tiny_zembed(tmp / "tiny")  # tokenizer, prompts and module layout of zembed-1
    st_tiny = SentenceTransformer(str(tiny), device="cpu", trust_remote_code=True, local_files_only=True)
    transformer = st_tiny[0]
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    cfg = Qwen3Config(**arch, attn_implementation="sdpa", dtype=dtype)
    torch.manual_seed(0)
    with torch.device(device):
        big = Qwen3Model(cfg).to(dtype).eval()
    transformer.model = big  # the module's weights: random, zembed-1-sized
    model = SentenceTransformer(
        modules=[transformer, Pooling(arch["hidden_size"], pooling_mode="lasttoken"), Normalize()],
        device=device,
        prompts=st_tiny.prompts,
    )
    model.max_seq_length = max_tokens
    profile = Profile("random-qwen3", "random/qwen3", "-", "benchmark", max_tokens=max_tokens)
    return Embedder(TorchRunner([model]), profile, model_path=str(tiny))


def texts_of_length(emb: Any, n_tokens: int, count: int, seed: int) -> list[str]:
    """``count`` texts of exactly ``n_tokens`` document tokens (prompt and suffix included)."""
    rng = random.Random(seed)
    pool = scifact_texts(2000)
    body = n_tokens - emb.tokens.templates["document"].overhead
    out = []
    for _ in range(count):
        rng.shuffle(pool)
        ids: list[int] = []
        for t in pool:
            ids += emb.tokenizer(t + "\n\n", add_special_tokens=False, verbose=False)["input_ids"]
            if len(ids) >= body + 8:
                break
        text = emb.tokenizer.decode(ids[:body])
        out.append(text)
    return out


def naive_encode(emb: Any, texts: list[str], batch: int) -> None:
    """The baseline: fixed-size batches in corpus order, padded to the longest, same model."""
    import torch

    tok = emb.tokenizer
    prompt = emb.prompts["document"]
    model = emb.model
    with torch.inference_mode():
        for i in range(0, len(texts), batch):
            feats = tok(
                [prompt + t + emb.suffix_text for t in texts[i : i + batch]],
                padding=True,
                truncation=True,
                max_length=emb.max_tokens,
                return_tensors="pt",
            )
            feats = {k: v.to(model.device) for k, v in feats.items()}
            model(feats)["sentence_embedding"].float().cpu()


def gpu_part(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from zsearch.embedding.runner_torch import flops_per_token

    device = "cuda:0" if args.device == "cuda" else args.device
    cuda = device.startswith("cuda")
    arch = QWEN3_4B if args.arch == "qwen3-4b" else TINY
    emb = build_random_embedder(arch, device, max(args.lengths))
    if args.budget:
        emb.token_budget = args.budget
    if args.exact_from is not None:
        emb.exact_length_from = args.exact_from or None
    from transformers import Qwen3Config

    cfg = Qwen3Config(**arch)
    res: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if cuda else device,
        "arch": args.arch,
        "token_budget": emb.token_budget,
        "exact_length_from": emb.exact_length_from,
        "peak_tflops": args.peak_tflops,
        "runs": [],
    }
    log(f"GPU part on {res['device']}: {args.arch}, token budget {emb.token_budget}")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    def measure(name: str, texts: list[str], run: Any, seq_for_flops: list[int]) -> dict[str, Any]:
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        sync()
        t = time.perf_counter()
        run(texts)
        sync()
        dt = time.perf_counter() - t
        tokens = sum(seq_for_flops)
        flops = sum(flops_per_token(cfg, n) * n for n in seq_for_flops)
        row = {
            "run": name,
            "docs": len(texts),
            "tokens": tokens,
            "seconds": round(dt, 3),
            "papers_s": round(len(texts) / dt, 3),
            "tok_s": round(tokens / dt),
            "peak_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
            "mfu": round(flops / dt / (args.peak_tflops * 1e12), 4) if cuda else None,
        }
        log(f"  {row}")
        return row

    # warm-up: kernels, allocator
    warm = texts_of_length(emb, min(args.lengths), 2, seed=0)
    emb.encode_documents(warm)
    naive_encode(emb, warm, args.naive_batch)

    for n_tok in args.lengths:
        count = max(2, args.tokens_per_run // n_tok)
        texts = texts_of_length(emb, n_tok, count, seed=n_tok)
        lens = [len(x) for x in emb.token_ids(texts)]
        res["runs"].append(measure(f"zsearch {n_tok}", texts, emb.encode_documents, lens))
        res["runs"].append(
            measure(f"naive(b={args.naive_batch}) {n_tok}", texts, lambda t: naive_encode(emb, t, args.naive_batch), lens)
        )

    # a mixed-length corpus, in arbitrary (shuffled) order
    rng = random.Random(1)
    lo, hi = 256, max(args.lengths)
    mixed: list[str] = []
    total = 0
    while total < args.tokens_per_run:
        n = int(round(lo * (hi / lo) ** rng.random()))
        mixed += texts_of_length(emb, n, 1, seed=len(mixed))
        total += n
    lens = [len(x) for x in emb.token_ids(mixed)]
    ours = measure("zsearch mixed", mixed, emb.encode_documents, lens)
    naive = measure(f"naive(b={args.naive_batch}) mixed", mixed, lambda t: naive_encode(emb, t, args.naive_batch), lens)
    res["runs"] += [ours, naive]
    if args.compare_padded:  # the same batching, but long texts padded together (exact_from off)
        keep = emb.exact_length_from
        emb.exact_length_from = None
        res["runs"].append(measure("zsearch mixed, padded batches", mixed, emb.encode_documents, lens))
        emb.exact_length_from = keep
    res["mixed_speedup"] = round(naive["seconds"] / ours["seconds"], 2)
    res["oom_retries"] = emb.oom_retries
    log(f"mixed corpus: zsearch is {res['mixed_speedup']}x the naive baseline")
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", help="cpu (CPU part) or cuda / cuda:N (GPU part)")
    ap.add_argument("--limit", type=int, default=500, help="SciFact abstracts for the CPU part")
    ap.add_argument("--repeats", type=int, default=2, help="alternating runs per path; best is kept")
    ap.add_argument(
        "--budgets", type=lambda s: [int(x) for x in s.split(",")], default=[4096, 16384, 65536],
        help="token budgets to sweep on the CPU",
    )
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--max-windows", type=int, default=300, help="PDF windows embedded (even sample)")
    ap.add_argument("--arch", choices=["qwen3-4b", "tiny"], default="qwen3-4b", help="GPU part model")
    ap.add_argument(
        "--lengths", type=lambda s: [int(x) for x in s.split(",")], default=[1024, 8192, 32768],
        help="document lengths in tokens (GPU part)",
    )
    ap.add_argument("--tokens-per-run", type=int, default=262144, help="tokens per GPU measurement")
    ap.add_argument("--naive-batch", type=int, default=4, help="fixed batch size of the naive baseline")
    ap.add_argument("--peak-tflops", type=float, default=H100_BF16_TFLOPS, help="dense bf16 peak for MFU")
    ap.add_argument("--budget", type=int, default=0, help="GPU token budget (0: from free memory)")
    ap.add_argument(
        "--exact-from", type=int, default=None, help="override GPU_EXACT_LENGTH_FROM (0: off)"
    )
    ap.add_argument("--compare-padded", action="store_true", help="also run the mixed corpus padded")
    ap.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    args = ap.parse_args(argv)
    res = cpu_part(args) if args.device == "cpu" and args.arch != "tiny" else gpu_part(args)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
