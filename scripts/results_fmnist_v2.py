#!/usr/bin/env python3
"""Summarises version 2 of the Fashion-MNIST study (scripts/reproduce_fmnist.sh): test accuracy
per variant (mean and sample standard deviation over seeds), the paired difference over seeds
with a 95% confidence interval for each claim, the picture of validation Top-1 over cumulative
epochs, and copies of every run's resolved spec.json, manifest.json (with the commit and LibTorch
that trained it), metrics.jsonl, train.log, report.md and wall time, so that docs/results.md only
shows what the runs produced.

  /usr/bin/python3 scripts/results_fmnist_v2.py runs/study-v2 docs/results

Definitions (also stated in docs/results.md):
  final test:    the test score of the run's last stage (W1A1 in every variant), taken once
                 when the stage ended;
  selected test: the test score of the W1A1 stage whose final validation Top-1 is the best of
                 the run (CTMQ has three W1A1 stages), the checkpoint a user would keep; the
                 choice uses validation only;
  val:           the last epoch's validation Top-1 (5,000 held-out training images);
  wall:          seconds the variant's stages trained, summed over every sitting of a resumed
                 run (the manifest's wall_seconds; the shared pretraining excluded). The
                 study's wall.json times only the script's last sitting.
A claim "A beats B" holds when the 95% interval of the paired difference A - B over seeds lies
above 0, is reversed when it lies below 0, and is not shown otherwise. That interval is per claim;
the table also gives each claim's two-sided paired t-test p-value and its Holm adjustment over all
the claims of CLAIMS, and a claim survives the adjustment when its adjusted p is below 0.05.
Without matplotlib the summary is written and the plot is skipped.
"""
import math
import os
import statistics
import sys

# Version 1's readers: the run files have not changed shape.
from results_fmnist import COPIED, cell, copy_run_files, finished, read_json, read_jsonl  # noqa: E402

VARIANTS = [
    ("direct", "direct (pretrained -> W1A1)"),
    ("steps", "steps only (4 -> 3 -> 2 -> 1)"),
    ("ctmq", "CTMQ (steps + 2 cycles)"),
    ("direct-kd", "direct + distillation"),
    ("ctmq-kd", "CTMQ + distillation"),
    ("scratch", "direct from scratch (W1A1 from random, 20 epochs)"),
    ("ctmq-warmup", "CTMQ, 1-epoch warm-up in accurate stages"),
]
# (A, B, what "A - B > 0" claims)
CLAIMS = [
    ("ctmq", "direct", "CTMQ beats direct binarization"),
    ("ctmq-kd", "direct-kd", "CTMQ + KD beats direct + KD"),
    ("ctmq-kd", "direct", "CTMQ + KD beats direct binarization without KD"),
    ("steps", "direct", "quantization steps beat direct binarization"),
    ("ctmq", "steps", "cycles add to quantization steps"),
    ("direct-kd", "direct", "distillation helps direct binarization"),
    ("ctmq-kd", "ctmq", "distillation helps CTMQ"),
    ("direct", "scratch", "pretraining beats training W1A1 from scratch"),
    ("ctmq-warmup", "ctmq", "a warm-up in the accurate stages helps CTMQ"),
]
COLORS = {"direct": "tab:red", "steps": "tab:blue", "ctmq": "tab:green", "direct-kd": "tab:orange",
          "ctmq-kd": "tab:olive", "scratch": "tab:gray", "ctmq-warmup": "tab:cyan"}
# Two-sided 95% quantiles of Student's t by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228}


def training_seconds(run_dir):
    """The stages' wall_seconds from the manifest: they accumulate across resumed sittings."""
    manifest = read_json(os.path.join(run_dir, "manifest.json"))
    return sum(stage.get("wall_seconds", 0.0) for stage in manifest["stages"])


def summarise_run(run_dir):
    epochs = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    stage_ends = [e for e in epochs if "test_top1" in e]
    binary_ends = [e for e in stage_ends if e["w_bits"] == 1 and e["a_bits"] == 1]
    if not binary_ends or "test_top1" not in epochs[-1]:
        raise SystemExit(f"{run_dir}/metrics.jsonl: no W1A1 stage with a test score; "
                         "was it run with data.val_split?")
    selected = max(binary_ends, key=lambda e: e["val_top1"])
    return {
        "test_top1": epochs[-1]["test_top1"],
        "test_top5": epochs[-1]["test_top5"],
        "val_top1": epochs[-1]["val_top1"],
        "selected_test_top1": selected["test_top1"],
        "selected_stage": selected["stage"],
        "epochs": len(epochs),
        "wall": training_seconds(run_dir),
        "curve": [e["val_top1"] for e in epochs],
        "stages": [(e["stage"], e["w_bits"]) for e in epochs],
    }


def summarise_pretrain(run_dir):
    epochs = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    return {"epochs": len(epochs), "val_top1": epochs[-1]["val_top1"],
            "test_top1": epochs[-1].get("test_top1", float("nan")),
            "curve": [e["val_top1"] for e in epochs],
            "wall": training_seconds(run_dir)}


def paired(a, b):
    """Mean of a - b over seeds, and its 95% interval (None with fewer than 2 seeds)."""
    d = [x - y for x, y in zip(a, b)]
    mean = statistics.fmean(d)
    if len(d) < 2:
        return mean, None, d
    half = T975.get(len(d) - 1, 1.96) * statistics.stdev(d) / math.sqrt(len(d))
    return mean, (mean - half, mean + half), d


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b) (continued fraction, Lentz)."""
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    if x > (a + 1) / (a + b + 2):
        return 1 - betainc(b, a, 1 - x)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log(1 - x)) / a
    tiny = 1e-300
    c, d, f = 1.0, 0.0, 1.0
    for i in range(400):
        m = i // 2
        if i == 0:
            num = 1.0
        elif i % 2 == 0:
            num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1 + num * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + num / c
        c = c if abs(c) > tiny else tiny
        f *= c * d
        if abs(1 - c * d) < 1e-15:
            break
    return front * (f - 1)


def t_test_p(d):
    """Two-sided p-value of the paired t-test that the mean of d is 0 (None below 2 values)."""
    if len(d) < 2:
        return None
    sd = statistics.stdev(d)
    if sd == 0:
        return 0.0
    t = statistics.fmean(d) / (sd / math.sqrt(len(d)))
    df = len(d) - 1
    return betainc(df / 2, 0.5, df / (df + t * t))


def holm(pvalues):
    """Holm's step-down adjustment of a list of p-values (None entries left out)."""
    ranked = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    adjusted, running = [None] * len(pvalues), 0.0
    for rank, (p, i) in enumerate(ranked):
        running = max(running, min(1.0, (len(ranked) - rank) * p))
        adjusted[i] = running
    return adjusted


def verdict(interval):
    if interval is None:
        return "not shown (one seed)"
    if interval[0] > 0:
        return "**holds**"
    if interval[1] < 0:
        return "**reversed**"
    return "not shown"


def main(study, out):
    all_seeds = sorted((d for d in os.listdir(study) if d.startswith("seed") and d[4:].isdigit()),
                       key=lambda d: int(d[4:]))
    seeds_of = {v: [s for s in all_seeds if finished(os.path.join(study, s, v))] for v, _ in VARIANTS}
    variants = [(v, label) for v, label in VARIANTS if seeds_of[v]]
    if not variants:
        raise SystemExit(f"{study}: no finished variant")
    runs = {v: {s: summarise_run(os.path.join(study, s, v)) for s in seeds_of[v]} for v, _ in variants}
    pretrained = [s for s in all_seeds if finished(os.path.join(study, s, "pretrain"))]
    pretrain = {s: summarise_pretrain(os.path.join(study, s, "pretrain")) for s in pretrained}

    lines = ["Mean ± sample standard deviation over the seeds each variant finished; accuracies in %; "
             "test: the 10,000 test images, scored once per stage; val: 5,000 held-out training "
             "images.", "",
             "| variant | seeds | epochs | final test Top-1 | final test Top-5 | selected test Top-1 "
             "| final val Top-1 | wall (s) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for variant, label in variants:
        r = [runs[variant][s] for s in seeds_of[variant]]
        lines.append(f"| {label} | {', '.join(s[4:] for s in seeds_of[variant])} | {r[0]['epochs']} | "
                     f"{cell([x['test_top1'] for x in r])} | {cell([x['test_top5'] for x in r])} | "
                     f"{cell([x['selected_test_top1'] for x in r])} | "
                     f"{cell([x['val_top1'] for x in r])} | {cell([x['wall'] for x in r], 0)} |")
    if pretrain:
        p = list(pretrain.values())
        lines += ["", f"Shared full-precision pretraining ({len(p)} seeds): {p[0]['epochs']} epochs, "
                  f"val Top-1 {cell([x['val_top1'] for x in p])}, test Top-1 "
                  f"{cell([x['test_top1'] for x in p])}, wall {cell([x['wall'] for x in p], 0)} s."]
    lines += ["", "Paired differences of final test Top-1 over the seeds both variants finished "
              "(95% interval: mean ± t(0.975, n-1) · sd / √n):", "",
              "| claim | A - B | seeds | per seed | mean | 95% interval | verdict | p | "
              f"Holm p ({len(CLAIMS)} claims) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    rows = []
    for a, b, claim in CLAIMS:
        common = [s for s in all_seeds if s in runs.get(a, {}) and s in runs.get(b, {})]
        if not common:
            rows.append((claim, a, b, None))
            continue
        rows.append((claim, a, b, common) + paired([runs[a][s]["test_top1"] for s in common],
                                                   [runs[b][s]["test_top1"] for s in common]))
    pvalues = [t_test_p(row[6]) if row[3] else None for row in rows]
    adjusted = holm(pvalues)
    for row, p, p_holm in zip(rows, pvalues, adjusted):
        claim, a, b, common = row[:4]
        if not common:
            lines.append(f"| {claim} | {a} - {b} | - | - | - | - | not run yet | - | - |")
            continue
        mean, interval, d = row[4:]
        shown = f"[{interval[0]:+.2f}, {interval[1]:+.2f}]" if interval else "-"
        survives = "" if p_holm is None else (" (survives)" if p_holm < 0.05 else "")
        lines.append(f"| {claim} | {a} - {b} | {', '.join(s[4:] for s in common)} | "
                     f"{', '.join(f'{x:+.2f}' for x in d)} | {mean:+.2f} | {shown} | "
                     f"{verdict(interval)} | {'-' if p is None else f'{p:.3f}'} | "
                     f"{'-' if p_holm is None else f'{p_holm:.2f}'}{survives} |")
    lines += ["", "Per seed (final test Top-1 / selected test Top-1 [stage]):", "",
              "| seed | " + " | ".join(v for v, _ in variants) + " |",
              "| --- |" + " --- |" * len(variants)]
    for s in all_seeds:
        if not any(s in runs[v] for v, _ in variants):
            continue
        lines.append(f"| {s[4:]} | " + " | ".join(
            f"{runs[v][s]['test_top1']:.2f} / {runs[v][s]['selected_test_top1']:.2f} "
            f"[{runs[v][s]['selected_stage']}]" if s in runs[v] else "-"
            for v, _ in variants) + " |")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "fmnist-v2-summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if pretrain:
        try:
            import matplotlib
        except ImportError:
            print("matplotlib is missing (Debian: python3-matplotlib): no plot", file=sys.stderr)
        else:
            matplotlib.use("Agg")
            plot(runs, pretrain, variants, os.path.join(out, "fmnist-v2-top1.png"))
    for s in all_seeds:
        for variant in [v for v, _ in variants if s in runs[v]] + ["pretrain"]:
            src = os.path.join(study, s, variant)
            if not finished(src):
                continue
            copy_run_files(src, os.path.join(out, "fmnist-v2", s, variant),
                           COPIED + ["spec.json", "train.log"])


def plot(runs, pretrain, variants, path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(13, 5.5))
    seeds = list(pretrain)
    p_epochs = len(pretrain[seeds[0]]["curve"])
    p_mean = [statistics.fmean(pretrain[s]["curve"][i] for s in seeds) for i in range(p_epochs)]
    ax.plot(range(1, p_epochs + 1), p_mean, color="black", marker="o", ms=3,
            label="full-precision pretraining (shared)")
    for variant, label in variants:
        curves = [run["curve"] for run in runs[variant].values()]
        n = len(curves[0])
        # From scratch has no pretraining: its epochs start at 1.
        first = 1 if variant == "scratch" else p_epochs + 1
        xs = list(range(first, first + n))
        means = [statistics.fmean(c[i] for c in curves) for i in range(n)]
        ax.plot(xs, means, color=COLORS[variant], marker="o", ms=3,
                label=f"{label}, {len(curves)} seed{'s' if len(curves) > 1 else ''}")
        ax.fill_between(xs, [min(c[i] for c in curves) for i in range(n)],
                        [max(c[i] for c in curves) for i in range(n)], color=COLORS[variant],
                        alpha=0.15)
    ax.axvline(p_epochs + 0.5, color="black", alpha=0.5, lw=1)
    ax.set_xlabel("cumulative epoch (pretraining included)")
    ax.set_ylabel("validation Top-1 (%), 5,000 held-out images")
    ax.set_ylim(bottom=max(0, ax.get_ylim()[0]))
    ax.set_title("resnet20 on Fashion-MNIST, W1A1 target, study v2: mean over seeds "
                 "(shaded: min-max)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
