"""Generate every measurement table of the documentation from the results files.

    python -m benchmarks.tables            # rewrite the tables in README.md, benchmarks/README.md, docs/*.md,
                                           # docs/decisions/*.md
    python -m benchmarks.tables --check    # exit 1 and name the tables that differ from their data

A generated table sits between two markers in a Markdown file::

    <!-- table:update_rule -->
    | ... the table ... |
    <!-- /table -->

and everything between them is replaced by ``TABLES["update_rule"](results_dir)``, a function of
the files in ``benchmarks/results/`` only. Editing a table by hand is therefore pointless: change
its data (run the experiment with ``--json``) or its renderer here, then run this command.
``tests/test_tables.py`` fails when a table in the repository differs from what its data give.

Nothing here imports TensorFlow or ganlib.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
RESULTS = BENCHMARKS / "results"
MARKER = re.compile(r"(<!-- table:(?P<name>[a-z0-9_]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.S)


def documents(repo: Path = REPO) -> list[Path]:
    """The Markdown files whose tables are generated: the READMEs, the site's pages and the decision records.

    docs/course/ is left out: scripts/render_course.py writes it.
    """
    docs = repo / "docs"
    return [repo / "README.md", repo / "benchmarks" / "README.md", *sorted(docs.glob("*.md")),
            *sorted((docs / "decisions").glob("*.md"))]


# ---------------------------------------------------------------------------------------------- helpers

def read_rows(results: Path, name: str) -> list[dict[str, Any]]:
    """The rows of ``results/<name>.jsonl``, in file order."""
    with open(results / f"{name}.jsonl") as f:
        return [json.loads(line) for line in f if line.strip()]


def num(x: Any, digits: int = 1, *, thousands: bool = True) -> str:
    """``x`` rounded to ``digits`` decimals as Python formats it, with thousands separators."""
    return f"{float(x):,.{digits}f}" if thousands else f"{float(x):.{digits}f}"


def pct(x: float, digits: int = 1) -> str:
    """A share as a percentage: ``0.938`` -> ``93.8%``."""
    return num(round(100 * x, 10), digits) + "%"


def mean_std(values: list[float], digits: int = 1) -> str:
    if len(values) == 1:
        return num(values[0], digits)
    return f"{num(statistics.mean(values), digits)} ± {num(statistics.stdev(values), digits)}"


def table(header: list[str], rows: Iterable[list[Any]]) -> str:
    lines = [("| " + " | ".join(header) + " |").replace("|  |", "| |"), "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def source_line(rows: list[dict[str, Any]], name: str) -> str:
    """One line under a table: the results file and the distinct sources of its rows."""
    sources = list(dict.fromkeys(r["source"] for r in rows if "source" in r))
    text = f"Data: `benchmarks/results/{name}.jsonl`"
    if sources:
        text += "; " + "; ".join(sources)
    return f"\n*{text}.*\n"


# ---------------------------------------------------------------------------------------------- tables

def update_rule(results: Path) -> str:
    rows = read_rows(results, "update_rule")
    marks = sorted({r["iterations"] for r in rows})
    label = {"simultaneous": "simultaneous (the presets)", "alternating": "alternating (Algorithm 1)"}
    out = []
    for rule in ("simultaneous", "alternating"):
        rs = {r["iterations"]: r for r in rows if r["rule"] == rule}
        first = next(iter(rs.values()))
        cost = f"{num(first['seconds_per_iteration'], 2)} s"
        if first.get("cost_ratio_to_simultaneous"):
            cost += f" ({num(first['cost_ratio_to_simultaneous'], 2)}x)"
        out.append([label[rule], *(num(rs[m]["fcd"]) if m in rs else "" for m in marks), cost])
    return table(["generator iterations", *(f"{m:,}" for m in marks), "cost per iteration"], out)


D_LABEL = {"projection": "projection", "concat": "concatenated one-hot label maps (keras-io's conditional GAN)"}
G_LABEL = {"embedding": "embedding", "one_hot": "one-hot label"}
CONDITIONAL_DEFAULT = ("projection", "embedding")  # TrainConfig.d_label_input, g_label_input


def conditional_ablation(results: Path) -> str:
    out = []
    for r in read_rows(results, "conditional_ablation"):
        cells = [D_LABEL[r["d_label_input"]], G_LABEL[r["g_label_input"]], pct(r["class_accuracy"]),
                 f"{r['worst_class']}: {pct(r['worst_class_accuracy'])}", num(r["fcd"])]
        if (r["d_label_input"], r["g_label_input"]) == CONDITIONAL_DEFAULT:
            cells = [f"**{c}**" for c in cells[:3]] + [cells[3], f"**{cells[4]}**"]
            cells[1] += " (the default)"
        out.append(cells)
    return table(["discriminator", "generator", "class accuracy (mean over classes)", "worst class",
                  "FCD (5,000 samples)"], out)


def conditional_default(results: Path) -> str:
    rows = read_rows(results, "conditional_default")
    digits = [r for r in rows if r["digit"] != "mean"]
    mean = next(r for r in rows if r["digit"] == "mean")
    n = digits[0]["per_class_samples"]
    return table(["requested digit", *(str(r["digit"]) for r in digits), "mean"],
                 [[f"classified as requested ({n:,} samples each)", *(pct(r["class_accuracy"]) for r in digits),
                   f"**{pct(mean['class_accuracy'], 2)}**"]])


FIT_VARIANTS = {
    "loop": "loop, XLA on (the CLI's default), TensorBoard on (the default)",
    "loop, no TensorBoard": "loop, XLA on, `--no-tensorboard`",
    "loop, no XLA": "loop, XLA off (`--no-jit`)",
    "fit": "`fit` (Keras's `jit_compile=\"auto\"`, which is off on a CPU)",
    "fit, XLA": "`fit`, `compile(jit_compile=True)`",
    "fit, XLA step only": "`fit`, XLA on ganlib's step only (`build_gan_model(config, jit_compile_step=True)`)",
}


def fit_speed(results: Path) -> str:
    data = json.loads((results / "fit_idle.json").read_text())
    out = []
    for key, values in data["images_per_second"].items():
        out.append([FIT_VARIANTS.get(key, key),
                    f"{num(statistics.median(values), 0)} ({num(min(values), 0)}-{num(max(values), 0)})"])
    return table(["variant", "images/s: median (the 4 epochs)"], out)


STABILISER_LABELS = {
    ("dcgan", "raw"): "`dcgan` (baseline)",
    ("dcgan", "ema0.99"): "`dcgan` + EMA 0.99",
    ("dcgan", "ema0.999"): "`dcgan` + EMA 0.999",
    ("ttur", "raw"): "`dcgan` + TTUR (G 1e-4, D 4e-4, betas (0, 0.9))",
    ("ttur", "ema0.99"): "`dcgan` + TTUR + EMA 0.99",
    ("dcgan-ls", "raw"): "`dcgan` + label smoothing 0.9",
    ("sngan", "raw"): "`sngan` (hinge + spectral norm, setting C)",
    ("sngan", "ema0.99"): "`sngan` + EMA 0.99 (the best combination with spectral normalization)",
}


def _stabiliser_rows(results: Path, budgets: list[float], labels: dict, suffix: bool,
                     name: str = "stabilisers") -> list[list[str]]:
    rows = read_rows(results, name)
    out = []
    for budget in budgets:
        for key, label in labels.items():
            rs = sorted((r for r in rows if (r["variant"], r["generator"]) == key and r["budget_seconds"] == budget),
                        key=lambda r: r["seed"])
            if not rs:
                continue
            out.append([label + (f", {budget:g} s" if suffix else ""), f"{rs[0]['iterations']:,}",
                        ",".join(str(r["seed"]) for r in rs), mean_std([r["fcd"] for r in rs]),
                        ", ".join(str(r["classes_covered"]) for r in rs)])
    return out


STABILISER_HEADER = ["variant", "generator iterations", "seeds", "FCD, mean ± std over seeds", "classes covered (per seed)"]


def stabilisers_150(results: Path) -> str:
    return table(STABILISER_HEADER, _stabiliser_rows(results, [150.0], STABILISER_LABELS, False))


def stabilisers_long(results: Path) -> str:
    labels = {k: v for k, v in STABILISER_LABELS.items() if k[0] == "dcgan"}
    labels[("dcgan", "raw")] = "`dcgan`"
    return table(STABILISER_HEADER, _stabiliser_rows(results, [300.0, 600.0], labels, True))


RELATIVISTIC_LABELS = {
    ("dcgan", "raw"): "`dcgan` (baseline)",
    ("rpgan-r1r2-g1", "raw"): "RpGAN + R1 + R2, gamma 1, no batch norm in D",
    ("rpgan-r1r2-g0.1", "raw"): "RpGAN + R1 + R2, gamma 0.1, no batch norm in D",
    ("rpgan-r1r2-g1-lazy4", "raw"): "RpGAN + R1 + R2, gamma 1, every 4th step (lazy)",
}


def relativistic_screen(results: Path) -> str:
    budgets = sorted({r["budget_seconds"] for r in read_rows(results, "relativistic_screen")})
    return table(STABILISER_HEADER, _stabiliser_rows(results, budgets, RELATIVISTIC_LABELS, True,
                                                     name="relativistic_screen"))


def _pggan_runs(results: Path) -> list[dict]:
    return sorted((r for r in read_rows(results, "pggan") if r.get("preset") == "pggan" and r.get("overrides") == {}),
                  key=lambda r: r["seed"])


def pggan_seeds(results: Path) -> str:
    runs = _pggan_runs(results)
    labels = {"end of 7x7": "FCD at the end of 7x7", "end of 14x14": "FCD at the end of 14x14",
              "end of 28x28": "FCD at the end of 28x28, the schedule's end", "end of run": "FCD at the end of the run"}
    out = []
    for at, label in labels.items():
        evals = [next(e for e in r["evaluations"] if e["at"] == at) for r in runs]
        cells = []
        for e in evals:
            if at == "end of run":
                cells.append(f"**{num(e['fcd'])}** ({e['classes_covered']} classes, coverage {num(e['coverage'], 2)}, "
                             f"classifier score {num(e['classifier_score'], 2)})")
            else:
                cells.append(f"{num(e['fcd'])} ({e['classes_covered']} classes)")
        out.append([f"{label} ({evals[0]['images_seen']:,} images)", *cells])
    times = []
    for r in runs:
        loads = [r["load_average_start"][0], r["load_average_end"][0], *(x for p in r["phases"] for x in p["load_average"])]
        times.append(f"{num(r['train_seconds'], 0)} s ({num(min(loads))}-{num(max(loads))})")
    out.append(["training time, wall (1-minute load average, lowest-highest recorded during the run)", *times])
    return table(["", *(f"seed {r['seed']}" for r in runs)], out)


def pggan_vs_dcgan(results: Path) -> str:
    rows = read_rows(results, "pggan")
    dcgan = [r for r in rows if r.get("variant") == "dcgan"]
    runs = _pggan_runs(results)
    marks = sorted({r["budget_seconds"] for r in dcgan})
    out = []
    for i, budget in enumerate(marks):
        rs = sorted((r for r in dcgan if r["budget_seconds"] == budget), key=lambda r: r["seed"])
        fcds = [r["fcd"] for r in rs]
        cell = f"{mean_std(fcds)} ({', '.join(num(f) for f in fcds)}; {rs[0]['iterations']:,} iterations)"
        if i == len(marks) - 1:
            ends = [next(e for e in r["evaluations"] if e["at"] == "end of run") for r in runs]
            pf = [e["fcd"] for e in ends]
            iterations = ends[0]["images_seen"] // runs[0]["schedule"]["stage_batch_sizes"][-1]
            cell = f"**{mean_std(fcds)}** ({', '.join(num(f) for f in fcds)}; {rs[0]['iterations']:,} iterations)"
            pcell = f"**{mean_std(pf)}** ({', '.join(num(f) for f in pf)}; {iterations:,} iterations)"
        elif i == 0:
            e14 = [next(e for e in r["evaluations"] if e["at"] == "end of 14x14")["fcd"] for r in runs]
            pcell = f"end of 14x14: {', '.join(num(f) for f in e14)} (images at 14x14)"
        else:
            pcell = "in the stable 28x28 phase (not evaluated)"
        out.append([str(math.floor(budget)), cell, pcell])
    return table(["idle training seconds", "`dcgan`", "`pggan`"], out)


README_RECORDS = {"stabilisers": "docs/decisions/008-stabilisers-off.md", "pggan": "docs/decisions/009-pggan-preset.md"}


def readme_results(results: Path) -> str:
    """README.md's one results table: ``dcgan`` at the stabilisers ablation's longest budget, ``pggan`` at its end.

    The raw ``dcgan`` generator (``stabilisers.jsonl``) and the ``pggan`` preset's runs without overrides
    (``pggan.jsonl``), FCD mean and standard deviation over their seeds; the links (relative to the repository
    root) lead to the decision records that give the budgets, the machine and the load.
    """
    dcgan = [r for r in read_rows(results, "stabilisers") if (r["variant"], r["generator"]) == ("dcgan", "raw")]
    longest = max(r["budget_seconds"] for r in dcgan)
    dcgan = sorted((r for r in dcgan if r["budget_seconds"] == longest), key=lambda r: r["seed"])
    runs = _pggan_runs(results)
    ends = [next(e for e in r["evaluations"] if e["at"] == "end of run") for r in runs]
    if len({r["iterations"] for r in dcgan}) != 1 or len({e["images_seen"] for e in ends}) != 1:
        raise ValueError("readme_results: the runs of one row trained for different lengths")
    samples = {r["eval_samples"] for r in dcgan} | {e["num_samples"] for e in ends}
    if len(samples) != 1:
        raise ValueError(f"readme_results: FCDs over different sample counts: {sorted(samples)}")
    pggan_iterations = ends[0]["images_seen"] // runs[0]["schedule"]["stage_batch_sizes"][-1]

    def row(label: str, iterations: int, seeds: list[int], fcds: list[float], classes: list[int], record: str):
        return [label, f"{iterations:,}", ", ".join(map(str, seeds)), mean_std(fcds),
                ", ".join(map(str, classes)), f"[{Path(record).stem[:3]}]({record})"]

    out = [
        row("`dcgan` (the default preset), the stabilisers ablation's longest budget", dcgan[0]["iterations"],
            [r["seed"] for r in dcgan], [r["fcd"] for r in dcgan], [r["classes_covered"] for r in dcgan],
            README_RECORDS["stabilisers"]),
        row("`pggan` (progressive growing 7x7 -> 14x14 -> 28x28), end of the run", pggan_iterations,
            [r["seed"] for r in runs], [e["fcd"] for e in ends], [e["classes_covered"] for e in ends],
            README_RECORDS["pggan"]),
    ]
    caption = (f"\n*Generated by `python -m benchmarks.tables` from `benchmarks/results/stabilisers.jsonl` and "
               f"`benchmarks/results/pggan.jsonl`. FCD over {samples.pop():,} samples in the features of ganlib's "
               "MNIST classifier (lower is better; not comparable with Inception-based FID). The two rows had "
               "different budgets; the budgets, the machine and the load of every run are in the linked decision "
               "records.*\n")
    return table(["model", "generator iterations", "seeds", "FCD, mean ± std over seeds", "classes covered (per seed)",
                  "decision record"], out) + caption


def _throughput(results: Path, which: str, last: str) -> str:
    rows = [r for r in read_rows(results, "throughput") if r["table"] == which]
    out = []
    for r in rows:
        ratio = num(r["ratio"], 2)
        if which.startswith("tutorial") and r["variant"] != "reference (tutorial loop)":
            ratio = f"**{ratio}**" + (f" ({num(r['ratio'], 3)})" if num(r["ratio"], 3) != num(r["ratio"], 2) + "0" else "")
        variant = r["variant"].replace("--no-jit", "`--no-jit`").replace("--steps-per-execution 8", "`--steps-per-execution 8`")
        variant = variant.replace("make_train_step", "`make_train_step`")
        ips = num(r["images_per_second"])
        if "the CLI's default" in r["variant"] and which.startswith("dcgan"):
            variant, ips = f"**{variant}**", f"**{ips}**"
        out.append([variant, num(r["ms_per_step"], 0, thousands=False), ips, ratio])
    return table(["variant", "ms/step", "images/s", last], out)


def throughput_tutorial(results: Path) -> str:
    return _throughput(results, "tutorial configuration, batch 256", "ratio to reference")


def throughput_dcgan(results: Path) -> str:
    return _throughput(results, "dcgan preset, batch 64", "ratio to default")


def small_data(results: Path) -> str:
    """FCD and the discriminator's accuracies, mean ± sd over seeds, per (training images, DiffAugment)."""
    rows = read_rows(results, "small_data")
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["size"], r["diffaugment"], r["steps"]), []).append(r)
    out = []
    for (size, policy, steps), rs in sorted(groups.items()):
        out.append([f"{size:,}", policy or "none", f"{steps:,}", len(rs), mean_std([r["fcd"] for r in rs]),
                    mean_std([r["d_acc_train"] for r in rs], 3), mean_std([r["d_acc_test"] for r in rs], 3),
                    mean_std([r["d_logit_train"] - r["d_logit_test"] for r in rs], 2),
                    mean_std([r["d_acc_fake"] for r in rs], 3)])
    samples = sorted({r["eval_samples"] for r in rows})
    return table(["training images", "DiffAugment", "generator steps", "seeds",
                  f"FCD ({', '.join(f'{n:,}' for n in samples)} samples)", "D accuracy, training reals",
                  "D accuracy, test reals", "mean D logit, training minus test reals", "D accuracy, fakes"], out) \
        + source_line(rows, "small_data")


def gan_augmentation(results: Path) -> str:
    """Test accuracy of a classifier trained on N real images, alone and with a conditional GAN's samples."""
    rows = read_rows(results, "gan_augmentation")
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["size"], r["training_set"]), []).append(r)
    out = [[f"{size:,}", kind, len(rs), mean_std([100 * r["test_accuracy"] for r in rs], 2) + "%"]
           for (size, kind), rs in sorted(groups.items())]
    return table(["labelled real images", "classifier trained on", "seeds", "test accuracy (10,000 images)"], out) \
        + source_line(rows, "gan_augmentation")


def generic(name: str, columns: list[tuple[str, str | Callable[[dict], Any]]],
            keep: Callable[[dict], bool] = lambda r: True) -> Callable[[Path], str]:
    """A table of the rows of one results file: one column per (header, key or function); then the sources."""

    def render(results: Path) -> str:
        rows = [r for r in read_rows(results, name) if keep(r)]

        def cell(r: dict, how: str | Callable) -> str:
            value = how(r) if callable(how) else r.get(how)
            return "—" if value is None else str(value)

        return table([h for h, _ in columns], ([cell(r, how) for _, how in columns] for r in rows)) \
            + source_line(rows, name)

    render.__name__ = name
    return render


def inpainting(results: Path) -> str:
    """pix2pix, L1 only, the masked input and the true digits per mask: mean ± standard deviation over seeds."""
    rows = read_rows(results, "inpainting")
    order = {"pix2pix": 0, "l1": 1, "masked": 2, "truth": 3}
    names = {"pix2pix": "pix2pix (cGAN + 100 L1)", "l1": "L1 only (adv_weight 0)",
             "masked": "no generator (masked input)", "truth": "true digits"}
    groups: dict[tuple[str, str, int], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["mask"], r["variant"], r.get("epochs", 0)), []).append(r)
    body = []
    for (mask, variant, epochs), rs in sorted(groups.items(), key=lambda kv: (
            kv[0][0] != "lower_half", kv[0][0], kv[0][2] == 0, kv[0][2], order[kv[0][1]])):
        trained = "seed" in rs[0]
        body.append([mask.replace("_", " "), names[variant], epochs or "—", len(rs) if trained else "—",
                     mean_std([r["train_seconds"] for r in rs], 0) if trained else "—",
                     mean_std([r["l1"] for r in rs], 3), mean_std([r["psnr"] for r in rs], 2),
                     mean_std([r["fcd"] for r in rs], 1), mean_std([100 * r["class_kept"] for r in rs], 1) + "%",
                     ", ".join(sorted({str(r["machine"]["load"][0]) for r in rs}))])
    n = sorted({r["test_size"] for r in rows})
    return table(["mask", "completion", "epochs", "seeds", "train s", "L1 on mask", "PSNR on mask (dB)",
                  f"FCD ({', '.join(f'{k:,}' for k in n)} test digits)", "true digit kept", "load (1 min)"], body) \
        + source_line(rows, "inpainting")


def _conditions(r: dict) -> str:
    if "conditions" in r:
        return r["conditions"]
    return ", ".join(str(r[k]) for k in ("machine", "load") if k in r and r[k] is not None) or "not recorded"


TABLES: dict[str, Callable[[Path], str]] = {
    "update_rule": update_rule,
    "small_data": small_data,
    "small_data_runs": generic("small_data", [
        ("training images", "size"), ("DiffAugment", lambda r: r["diffaugment"] or "none"), ("seed", "seed"),
        ("steps", "steps"), ("FCD", "fcd"), ("classes covered", "classes_covered"),
        ("D acc. train / test / fakes", lambda r: f"{r['d_acc_train']} / {r['d_acc_test']} / {r['d_acc_fake']}"),
        ("mean D logit train / test / fakes",
         lambda r: f"{r['d_logit_train']} / {r['d_logit_test']} / {r['d_logit_fake']}"),
        ("training s", "train_seconds"), ("load before, after", lambda r: f"{r['load_before'][0]}, {r['load_after'][0]}"),
        ("machine", lambda r: "{cpu}, {cores} cores, TensorFlow {tensorflow}, {date}".format(**r["machine"]))]),
    "gan_augmentation": gan_augmentation,
    "conditional_ablation": conditional_ablation,
    "conditional_default": conditional_default,
    "fit_speed": fit_speed,
    "stabilisers_150": stabilisers_150,
    "stabilisers_long": stabilisers_long,
    "relativistic_screen": relativistic_screen,
    "lazy_xla": generic("lazy_xla", [
        ("variant", "variant"), ("XLA", lambda r: "on" if r["xla"] else "off"), ("ms per step", "ms_per_step"),
        ("batch", "batch"), ("timed steps x rounds", lambda r: f"{r['steps']} x {r['repeats']}"),
        ("load before, after", lambda r: f"{r['load_before'][0]}, {r['load_after'][0]}"),
        ("machine", lambda r: "{cpu}, {cores} cores, TensorFlow {tensorflow}, {date}".format(**r["machine"]))]),
    "health_cost": generic("health_cost", [
        ("preset", "preset"), ("XLA", lambda r: "on" if r["xla"] else "off"),
        ("health signals", lambda r: "on" if r["health_signals"] else "off"), ("ms per step (median)", "ms_per_step"),
        ("fastest, slowest round", lambda r: f"{r['ms_spread'][0]}, {r['ms_spread'][1]}"),
        ("ratio to signals off", "ratio_to_without"), ("timed steps x rounds", lambda r: f"{r['steps']} x {r['repeats']}"),
        ("load before, after", lambda r: f"{r['load_before'][0]}, {r['load_after'][0]}"),
        ("machine", lambda r: "{cpu}, {cores} cores, TensorFlow {tensorflow}, {date}".format(**r["machine"]))]),
    "inpainting": inpainting,
    "inpainting_runs": generic("inpainting", [
        ("mask", "mask"), ("completion", "variant"), ("seed", "seed"), ("epochs", "epochs"), ("steps", "steps"),
        ("train s", "train_seconds"), ("L1 on mask", "l1"), ("PSNR on mask (dB)", "psnr"), ("FCD", "fcd"),
        ("true digit kept", lambda r: pct(r["class_kept"], 2)), ("test digits", "test_size"),
        ("load (1 min)", lambda r: r["machine"]["load"][0])], keep=lambda r: "seed" in r),
    "cyclegan_strokes": generic("cyclegan_strokes", [
        ("seed", "seed"), ("train digits (two halves)", "train_size"), ("steps", "steps"), ("train s", "train_seconds"),
        ("L1 of G(x) to dilate(x)", "translation_error"), ("L1 of F(dilate(x)) to x", "backward_error"),
        ("class kept by G(x)", lambda r: pct(r["class_kept"])),
        ("class kept by F(dilate(x))", lambda r: pct(r["class_kept_backward"])),
        ("cycle L1 of F(G(x)) to x", "cycle_error"), ("L1 of x to dilate(x) (no change)", "identity_error"),
        ("test digits", "test_size"), ("load (1 min)", lambda r: r["machine"]["load"][0])]),
    "checkpoint_cost": generic("checkpoint_cost", [
        ("preset", "preset"), ("EMA", "ema"), ("seconds per save (median)", "save_seconds"),
        ("fastest, slowest save", lambda r: f"{r['save_spread'][0]}, {r['save_spread'][1]}"),
        ("checkpoint (MB)", "checkpoint_mb"), ("ms per step", "ms_per_step"),
        ("share of training at 60 s, 300 s, 900 s",
         lambda r: ", ".join(f"{100 * v:.2f}%" for v in r["share_of_training"].values())),
        ("load before, after", lambda r: f"{r['load_before'][0]}, {r['load_after'][0]}"),
        ("machine", lambda r: "{cpu}, {cores} cores, TensorFlow {tensorflow}, {date}".format(**r["machine"]))]),
    "pggan_seeds": pggan_seeds,
    "pggan_vs_dcgan": pggan_vs_dcgan,
    "readme_results": readme_results,
    "throughput_tutorial": throughput_tutorial,
    "throughput_dcgan": throughput_dcgan,
    "update_rule_data": generic("update_rule", [
        ("rule", "rule"), ("iterations", "iterations"), ("FCD", "fcd"), ("s/iteration", "seconds_per_iteration"),
        ("seed", "seed"), ("samples", "eval_samples"), ("load average", "load")]),
    "sngan_settings": generic("sngan_settings", [
        ("setting", "setting"), ("optimizer", "optimizer"), ("n_critic", "n_critic"),
        ("generator updates", "generator_updates"), ("FCD (5,000 samples)", "fcd"), ("classes", "classes_covered"),
        ("budget", "budget"), ("load average", "load")], keep=lambda r: "fcd" in r),
    "sngan_sigma": generic("sngan_settings", [
        ("setting", "setting"), ("n_critic", "n_critic"), ("generator updates", "generator_updates"),
        ("largest abs(sigma - 1)", "max_abs_sigma_minus_1"), ("conditions", _conditions)],
        keep=lambda r: "max_abs_sigma_minus_1" in r),
    "wgan_ablation": generic("wgan_ablation", [
        ("train step", "step"), ("change", "change"), ("batch", "batch_size"), ("epochs", "epochs"),
        ("generator iterations", "generator_iterations"), ("FCD (10,000 samples)", lambda r: r.get("fcd") or r.get("fcd_change")),
        ("conditions", _conditions)]),
    "conditional_ablation_data": generic("conditional_ablation", [
        ("D label input", "d_label_input"), ("G label input", "g_label_input"), ("class accuracy", "class_accuracy"),
        ("FCD", "fcd"), ("seed", "seed"), ("load average", "load")]),
    "frame_spacing": generic("frame_spacing", [
        ("command", "command"), ("schedule", "schedule"), ("steps", "steps"), ("frames", "frames"),
        ("change per frame (grey levels)", "change_per_frame"), ("GIF (MB)", "gif_mb"), ("conditions", _conditions)]),
    "throughput_other": generic("throughput", [
        ("measurement", "table"), ("variant", "variant"), ("ms/step", "ms_per_step"), ("note", "note"),
        ("conditions", _conditions)], keep=lambda r: not r["table"].startswith(("tutorial", "dcgan"))),
    "pggan_probe": generic("pggan_probe", [
        ("input downsampling", "input_downsampling"), ("phase / at", lambda r: r.get("phase") or r.get("at")),
        ("seconds", "seconds"), ("images/s", "images_per_second"), ("FCD (5,000 samples)", "fcd"),
        ("classes", "classes_covered"), ("mean penalty", "mean_gradient_penalty"),
        ("mean scores (real, fake)", lambda r: f"{r['mean_real_score']}, {r['mean_fake_score']}" if "mean_real_score" in r else None),
        ("load average", "load")],
        keep=lambda r: "input_downsampling" in r),
    "pggan_stage_selection": generic("pggan_probe", [
        ("stage selection", "stage_selection"), ("trace s", "trace_seconds"), ("ms/step", "ms_per_step"),
        ("conditions", _conditions)], keep=lambda r: "stage_selection" in r),
    "ring_collapse": generic("ring_collapse", [
        ("variant", lambda r: r.get("variant") or r.get("measurement") or f"learning rate {r['learning_rate']:g}"),
        ("modes covered (of 8)", lambda r: r.get("modes_covered") or (
            f"{r['modes_covered_mean']} ± {r['modes_covered_std']}" if "modes_covered_mean" in r else None)),
        ("high-quality share", lambda r: r.get("high_quality") or (
            f"{r['high_quality_mean']} ± {r['high_quality_std']}" if "high_quality_mean" in r else None)),
        ("other", lambda r: r.get("result") or r.get("seconds")), ("seeds", "seeds"), ("conditions", _conditions)]),
    "data_pipeline": generic("data_pipeline", [
        ("setting", "setting"), ("effect", "effect"), ("TensorFlow", "tensorflow"), ("conditions", _conditions)]),
    "metrics_costs": generic("metrics_costs", [
        ("choice", "choice"), ("against", "against"), ("result", "result"), ("conditions", _conditions)]),
    "gif_grey_levels": generic("gif_grey_levels", [
        ("grey levels", "grey_levels"), ("GIF (MB)", "gif_mb"), ("frames", "frames"), ("frame size", "frame_pixels"),
        ("conditions", _conditions)]),
}


# ---------------------------------------------------------------------------------------------- rewriting

def render(name: str, results: Path = RESULTS) -> str:
    if name not in TABLES:
        raise KeyError(f"Unknown table {name!r}: expected one of {', '.join(sorted(TABLES))}")
    return TABLES[name](results)


def update_text(text: str, results: Path = RESULTS) -> str:
    """``text`` with the body of every ``<!-- table:NAME -->`` ... ``<!-- /table -->`` block generated again."""
    return MARKER.sub(lambda m: m.group(1) + render(m.group("name"), results) + m.group(4), text)


def stale(paths: Iterable[Path], results: Path = RESULTS) -> list[str]:
    """``file: table`` for every generated table whose text differs from what its data give."""
    out = []
    for path in paths:
        text = path.read_text()
        for m in MARKER.finditer(text):
            if m.group("body") != render(m.group("name"), results):
                out.append(f"{path}: {m.group('name')}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a table is out of date")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results directory")
    args = parser.parse_args(argv)
    paths = documents()
    if args.check:
        old = stale(paths, args.results)
        for line in old:
            print(f"out of date: {line}")
        return 1 if old else 0
    for path in paths:
        text = path.read_text()
        new = update_text(text, args.results)
        if new != text:
            path.write_text(new)
            print(f"rewrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
