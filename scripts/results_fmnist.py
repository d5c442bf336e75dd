#!/usr/bin/env python3
"""Summarises the Fashion-MNIST study of scripts/reproduce_fmnist.sh: a table of final and best
W1A1 validation accuracy per variant (mean and sample standard deviation over seeds), the
picture of validation Top-1 over cumulative epochs, and copies of every run's manifest.json,
metrics.jsonl, report.md and wall time, so that docs/results.md only shows what the runs produced.

  /usr/bin/python3 scripts/results_fmnist.py runs/study docs/results

Definitions (also stated in docs/results.md):
  final: the last epoch of the run's last stage (W1A1 in every variant);
  best:  the best epoch of any W1A1 stage of the run (CTMQ has three: c0, c1 and c2);
  epochs: epochs trained after the shared full-precision pretraining;
  wall: seconds the variant's `ctmq train` took (the shared pretraining excluded).
"""
import json
import os
import shutil
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

VARIANTS = [
    ("direct-short", "direct, short (W1A1 for CTMQ's last-stage epochs)"),
    ("direct", "direct (pretrained -> W1A1, equal budget)"),
    ("steps", "steps only (4 -> 3 -> 2 -> 1)"),
    ("ctmq", "CTMQ (steps + 2 cycles)"),
]
COPIED = ["manifest.json", "metrics.jsonl", "report.md", "wall.json"]


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_json(path):
    with open(path) as f:
        return json.load(f)


def summarise_run(run_dir):
    epochs = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    binary = [e for e in epochs if e["w_bits"] == 1 and e["a_bits"] == 1]
    if not binary:
        raise SystemExit(f"{run_dir}/metrics.jsonl: no W1A1 epoch; is the run finished?")
    last = epochs[-1]
    best = max(binary, key=lambda e: e["val_top1"])
    return {
        "final_top1": last["val_top1"],
        "final_top5": last["val_top5"],
        "best_top1": best["val_top1"],
        "best_top5": best["val_top5"],
        "epochs": len(epochs),
        "wall": read_json(os.path.join(run_dir, "wall.json"))["wall_seconds"],
        "curve": [e["val_top1"] for e in epochs],
        "stages": [(e["stage"], e["w_bits"]) for e in epochs],
    }


def mean_std(values):
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    return mean, std


def cell(values, digits=2):
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if std == std else f"{mean:.{digits}f}"


def finished(run_dir):
    return os.path.exists(os.path.join(run_dir, "wall.json"))


def copy_run_files(src, dst, names=COPIED):
    """Copies a run's records (names) that exist from src to dst, creating dst."""
    os.makedirs(dst, exist_ok=True)
    for name in names:
        if os.path.exists(os.path.join(src, name)):
            shutil.copy(os.path.join(src, name), os.path.join(dst, name))


def main(study, out):
    all_seeds = sorted((d for d in os.listdir(study) if d.startswith("seed") and d[4:].isdigit()),
                       key=lambda d: int(d[4:]))
    pretrained = [s for s in all_seeds if finished(os.path.join(study, s, "pretrain"))]
    # Each variant is summarised over the seeds where it finished (a study may be under way).
    seeds_of = {v: [s for s in pretrained if finished(os.path.join(study, s, v))] for v, _ in VARIANTS}
    variants = [(v, label) for v, label in VARIANTS if seeds_of[v]]
    if not variants:
        raise SystemExit(f"{study}: no variant finished after a finished pretraining")
    used = [s for s in pretrained if any(s in seeds_of[v] for v, _ in variants)]
    runs = {v: {s: summarise_run(os.path.join(study, s, v)) for s in seeds_of[v]} for v, _ in variants}
    pretrain = {s: summarise_pretrain(os.path.join(study, s, "pretrain")) for s in used}

    lines = ["Mean ± sample standard deviation over the seeds each variant finished; accuracies in %.",
             "",
             "| variant | seeds | epochs | final Top-1 | final Top-5 | best W1A1 Top-1 "
             "| best W1A1 Top-5 | wall (s) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for variant, label in variants:
        r = [runs[variant][s] for s in seeds_of[variant]]
        lines.append(f"| {label} | {', '.join(s[4:] for s in seeds_of[variant])} | {r[0]['epochs']} | "
                     f"{cell([x['final_top1'] for x in r])} | {cell([x['final_top5'] for x in r])} | "
                     f"{cell([x['best_top1'] for x in r])} | {cell([x['best_top5'] for x in r])} | "
                     f"{cell([x['wall'] for x in r], 0)} |")
    p = list(pretrain.values())
    lines += ["", f"Shared full-precision pretraining ({len(p)} seeds): {p[0]['epochs']} epochs, "
              f"final Top-1 {cell([x['top1'] for x in p])}, wall {cell([x['wall'] for x in p], 0)} s.",
              "", "Per seed (final Top-1 / best W1A1 Top-1):", "",
              "| seed | " + " | ".join(v for v, _ in variants) + " |",
              "| --- |" + " --- |" * len(variants)]
    for s in used:
        lines.append(f"| {s[4:]} | " + " | ".join(
            f"{runs[v][s]['final_top1']:.2f} / {runs[v][s]['best_top1']:.2f}" if s in runs[v] else "-"
            for v, _ in variants) + " |")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "fmnist-summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    plot(runs, pretrain, variants, os.path.join(out, "fmnist-top1.png"))
    for s in used:
        for variant in [v for v, _ in variants if s in runs[v]] + ["pretrain"]:
            copy_run_files(os.path.join(study, s, variant),
                           os.path.join(out, "fmnist", s, variant))


def summarise_pretrain(run_dir):
    epochs = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    return {"epochs": len(epochs), "top1": epochs[-1]["val_top1"],
            "curve": [e["val_top1"] for e in epochs],
            "wall": read_json(os.path.join(run_dir, "wall.json"))["wall_seconds"]}


def plot(runs, pretrain, variants, path):
    fig, ax = plt.subplots(figsize=(13, 5.5))
    seeds = list(pretrain)
    p_epochs = len(pretrain[seeds[0]]["curve"])
    p_mean = [statistics.fmean(pretrain[s]["curve"][i] for s in seeds) for i in range(p_epochs)]
    ax.plot(range(1, p_epochs + 1), p_mean, color="black", marker="o", ms=3,
            label="full-precision pretraining (shared)")
    colors = {"direct-short": "tab:gray", "direct": "tab:red", "steps": "tab:blue",
              "ctmq": "tab:green"}
    for variant, label in variants:
        curves = [run["curve"] for run in runs[variant].values()]
        n = len(curves[0])
        xs = list(range(p_epochs + 1, p_epochs + n + 1))
        means = [statistics.fmean(c[i] for c in curves) for i in range(n)]
        lows = [min(c[i] for c in curves) for i in range(n)]
        highs = [max(c[i] for c in curves) for i in range(n)]
        ax.plot(xs, means, color=colors[variant], marker="o", ms=3,
                label=f"{label}, {len(curves)} seed{'s' if len(curves) > 1 else ''}")
        ax.fill_between(xs, lows, highs, color=colors[variant], alpha=0.2)
        # The W1A1 epochs, the ones the comparison is about, drawn larger.
        stages = next(iter(runs[variant].values()))["stages"]
        binary = [i for i, (_, bits) in enumerate(stages) if bits == 1]
        ax.scatter([xs[i] for i in binary], [means[i] for i in binary], color=colors[variant],
                   s=28, zorder=3)
    # CTMQ's stage boundaries, labelled with the bit depth of the stage that starts there.
    ctmq_runs = runs.get("ctmq") or next(iter(runs.values()))
    stages = next(iter(ctmq_runs.values()))["stages"]
    for i, (stage, bits) in enumerate(stages):
        if i == 0 or stages[i - 1][0] != stage:
            x = p_epochs + i + 0.5
            ax.axvline(x, color="tab:green", alpha=0.25, lw=0.8)
            ax.text(x + 0.05, 0.02, "fp" if bits >= 32 else f"w{bits}", transform=ax.get_xaxis_transform(),
                    fontsize=7, color="tab:green")
    ax.axvline(p_epochs + 0.5, color="black", alpha=0.5, lw=1)
    ax.set_xlabel("cumulative epoch (pretraining included)")
    ax.set_ylabel("validation Top-1 (%)")
    ax.set_title("resnet20 on Fashion-MNIST, W1A1 target: mean over seeds (shaded: min-max); "
                 "green lines: CTMQ's stages", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              title="large dots: W1A1 epochs", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
