"""Turns the runs of bench/run.sh (in --work, per run <workload>.<mode>.c<clients>, a round's
run with .r<round> after it: pgbench's output .out and latency logs .log.*, the sampled wait
events .waits, the top statements .statements) into a markdown report, a PNG chart and
PASS/FAIL lines for the targets."""

import argparse
import glob
import json
import os
import platform
import statistics
from datetime import datetime, timezone

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sample_waits import figures  # noqa: E402

MODES = {"durable": "durable", "cpu": "CPU-bound"}
WORKLOADS = ["tpcb", "charge", "charge_merchants", "charge_100k_codes", "charge_10_codes", "select_only", "history",
             "refund", "recharge", "hold", "login"]
# The pairs of a round's runs (4 clients) the targets compare: (workload, its reference in the
# same round, mode).
ROUND_PAIRS = [("refund", "tpcb", "durable"), ("recharge", "tpcb", "durable"), ("history", "select_only", "durable"),
               ("history", "select_only", "cpu"), ("charge_100k_codes", "charge_10_codes", "durable")]
CLIENTS = [1, 4, 16, 64]


def cpu_model():
    """The processor's model name: machines of one kind differ from day to day, and with them
    how a run scales from 4 to 16 clients."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "unknown CPU")
    except OSError:
        return "unknown CPU"


def latencies_ms(work, run_id):
    """Per-transaction latencies (ms) from pgbench's -l logs: column 3 is microseconds."""
    values = []
    for path in glob.glob(os.path.join(work, f"{run_id}.log.*")):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) > 2 and parts[2].isdigit():
                    values.append(int(parts[2]) / 1000.0)
    return sorted(values)


def pct(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def top_waits(path, n=5):
    """The n most sampled wait events with their shares of all samples, and what autovacuum did
    meanwhile (share of the polls that saw it), as one line."""
    with open(path) as f:
        sampled = json.load(f)
    counts, total = sampled["waits"], sum(sampled["waits"].values())
    if not total:
        return "no active backend sampled"
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:n]
    line = ", ".join(f"{event} {count / total:.0%}" for event, count in top) + f" ({total:,} samples)"
    vacuums = sorted(sampled["autovacuum"].items(), key=lambda kv: -kv[1])
    if vacuums:
        line += "; autovacuum " + ", ".join(f"`{what}` {polls / sampled['polls']:.0%}" for what, polls in vacuums)
    return line


def measured(work, run_id):
    run = figures(os.path.join(work, f"{run_id}.out"), os.path.join(work, f"{run_id}.waits"))
    lat = latencies_ms(work, run_id)
    with open(os.path.join(work, f"{run_id}.statements")) as f:
        statements = f.read().strip()
    return {"tps": run["tps"], "p50": pct(lat, 50), "p99": pct(lat, 99), "server_us": run["server_us"],
            "client_us": run["client_us"], "waits": top_waits(os.path.join(work, f"{run_id}.waits")),
            "statements": statements}


def report_order(workload, mode):
    return list(MODES).index(mode), WORKLOADS.index(workload)


def load_runs(work):
    """Every run in work: those outside the rounds keyed (workload, mode, clients), in report
    order; the rounds' keyed round → (workload, mode), rounds in their order, runs in report
    order."""
    runs, rounds = {}, {}
    for path in glob.glob(os.path.join(work, "*.out")):
        run_id = os.path.basename(path)[:-len(".out")]
        workload, mode, clients, *round_no = run_id.split(".")
        if round_no:
            rounds.setdefault(int(round_no[0][1:]), {})[(workload, mode)] = measured(work, run_id)
        else:
            runs[(workload, mode, int(clients[1:]))] = measured(work, run_id)
    runs = dict(sorted(runs.items(), key=lambda kv: (*report_order(*kv[0][:2]), kv[0][2])))
    return runs, {number: dict(sorted(r.items(), key=lambda kv: report_order(*kv[0])))
                  for number, r in sorted(rounds.items())}


def main():
    ap = argparse.ArgumentParser()
    for arg in ["work", "out", "seconds", "scale", "cards", "merchants", "history", "history-txs", "violations",
                "bcrypt", "settings", "stored", "charges"]:
        ap.add_argument(f"--{arg}", required=True)
    a = ap.parse_args()
    cards = int(a.cards)
    runs, rounds = load_runs(a.work)

    def run(workload, mode, clients):
        return runs[(workload, mode, clients)]

    def name(key):
        workload, mode, clients = key
        return f"{workload} {MODES[mode]} c{clients}"

    labels = {"tpcb": f"pgbench TPC-B (scale {a.scale})",
              "charge": f"merchant_charge_by_qr, 1 merchant, {cards:,} cards",
              "charge_merchants": f"charge, {a.merchants} merchants, {cards:,} cards",
              "charge_100k_codes": f"charge, 10 hot cards, {cards:,} live codes",
              "charge_10_codes": "charge, 10 hot cards, 10 live codes",
              "select_only": "select-only reference (pgbench_accounts by key)",
              "history": f"get_member_transactions ({a.history_txs} transactions, first page of 20)",
              "refund": "merchant_refund_tx", "recharge": "user_recharge_card",
              "hold": "merchant_authorize_by_qr + merchant_capture_hold (a pair)",
              "login": f"member_login (bcrypt cost {a.bcrypt})"}
    lines = [f"# mps_ext benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "",
             f"Machine: {os.cpu_count()} cores ({cpu_model()}), {platform.machine()}, {platform.platform()}. "
             f"Each run {a.seconds} s, pgbench `-M prepared`, calls made the way PostgREST makes them "
             "(transaction, `set_config` prologue, named arguments).", "",
             "## How to read", "",
             "- Modes: every workload ran twice on the same cluster, *durable* (`synchronous_commit = on`: each "
             "commit waits for its WAL flush, as in production) and *CPU-bound* (`synchronous_commit = off` for the "
             "run's sessions: no commit waits for the disk, so TPS shows what the work costs in CPU). TPC-B ran in "
             "the same mode just before the workloads compared with it.",
             "- Ratio: TPS over TPC-B's in the same mode at the same clients (hold and login: durable, 4 clients).",
             f"- Rounds: the targets that compare two workloads at 4 clients take the median of {len(rounds)} "
             "rounds, each ratio between two runs of the same round (see Rounds): a durable ratio follows the "
             "disk's flush time, which can drift by a quarter within the minutes between a client count's TPC-B "
             "run and its refunds, charges on 10 hot cards queue on their rows, which makes one run of them "
             "swing, and any single run can meet a busy moment of a shared machine.",
             f"- Charges: on a random card among {cards:,}, at one merchant or at a random one of {a.merchants} per "
             "transaction (one script: it builds the merchant's code from its number and reads its session with a "
             "scalar subquery on `mps_bench.merchants`); or on 10 hot cards, with all codes or only theirs live.",
             f"- Reads: get_member_transactions (first page of 20) of one of {a.history} members with exactly "
             f"{a.history_txs} transactions each, held against a select-only script on the TPC-B database shaped "
             "like a PostgREST read (the same READ ONLY transaction and `set_config` prologue, one primary-key "
             "SELECT).",
             "- Wait events: shares of the samples (`pg_stat_activity` every 20 ms) of the benchmarked database's "
             "active backends; CPU: waiting on no event, so running or, with 2 cores, waiting for one. After them, "
             "what autovacuum was doing in that database during the run, as the share of the polls that saw it.",
             "- CPU per transaction: the CPU time of the server processes that ended during the run (its client "
             "backends, which end when pgbench disconnects, and any autovacuum worker; the WAL writer and the "
             "other long-lived processes aside) over the transactions it made, and pgbench's own. × TPC-B: the "
             "server's CPU per transaction over TPC-B's in the same mode at the same clients, how many TPC-B "
             "transactions of CPU one transaction costs.", "",
             "## Runs", "",
             "| workload | mode | clients | TPS | p50 ms | p99 ms | ratio to TPC-B | server CPU µs/tx | × TPC-B | "
             "pgbench CPU µs/tx |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def figure(value, spec):
        return "–" if value is None else format(value, spec)

    for (workload, mode, clients), r in runs.items():
        base = runs.get(("tpcb", mode, clients), run("tpcb", "durable", 4))
        cpu_ratio = (r["server_us"] / base["server_us"]) if r["server_us"] and base["server_us"] else None
        lines.append(f"| {labels[workload]} | {MODES[mode]} | {clients} | {r['tps']:.0f} | {r['p50']:.2f} | "
                     f"{r['p99']:.2f} | {r['tps'] / base['tps']:.2f} | {figure(r['server_us'], ',.0f')} | "
                     f"{figure(cpu_ratio, '.2f')} | {figure(r['client_us'], ',.0f')} |")

    short = {"tpcb": "TPC-B", "charge": "charge (1 merchant)",
             "charge_merchants": f"charge ({a.merchants} merchants)", "select_only": "select-only",
             "history": "history", "refund": "refund", "recharge": "recharge",
             "charge_100k_codes": f"{cards:,} codes", "charge_10_codes": "10 codes"}
    checks = []

    def at_least(what, mode, clients, factor):
        r, ref = run(what, mode, clients), run("tpcb", mode, clients)
        checks.append((f"{MODES[mode]}: {short[what]} TPS >= {factor} x TPC-B's at {clients} clients",
                       r["tps"] >= factor * ref["tps"], f"{r['tps']:.0f} vs {ref['tps']:.0f}"))

    def in_rounds(what, reference, mode, factor, text):
        ratios = [r[(what, mode)]["tps"] / r[(reference, mode)]["tps"] for r in rounds.values()]
        median = statistics.median(ratios)
        checks.append((f"{MODES[mode]}: {text} at 4 clients (median of {len(ratios)} rounds)", median >= factor,
                       f"{median:.2f} x; rounds " + ", ".join(f"{x:.2f}" for x in ratios)))

    for clients in (1, 4, 16):
        at_least("charge", "cpu", clients, 0.5)
    for clients in (4, 16, 64):
        at_least("charge", "durable", clients, 0.8)
    for workload in ("charge", "charge_merchants"):
        for mode in MODES:
            c4, c16 = run(workload, mode, 4), run(workload, mode, 16)
            checks.append((f"{MODES[mode]}: no collapse, {short[workload]} TPS at 16 clients >= at 4",
                           c16["tps"] >= c4["tps"], f"{c16['tps']:.0f} vs {c4['tps']:.0f}"))
    for workload in ("refund", "recharge"):
        in_rounds(workload, "tpcb", "durable", 0.6, f"{workload} TPS >= 0.6 x TPC-B's")
    for mode in MODES:
        in_rounds("history", "select_only", mode, 0.5, "get_member_transactions TPS >= 0.5 x the select-only "
                  "reference's")
    for clients in CLIENTS:
        charge, tpcb = run("charge", "durable", clients), run("tpcb", "durable", clients)
        checks.append((f"durable: p99 charge latency <= 3 x TPC-B's at {clients} clients",
                       charge["p99"] <= 3 * tpcb["p99"], f"{charge['p99']:.2f} ms vs {tpcb['p99']:.2f} ms"))
    in_rounds("charge_100k_codes", "charge_10_codes", "durable", 0.9,
              f"charge TPS with {cards:,} live codes within 10% of 10 live codes (10 hot cards)")
    checks.append(("verify_ledger() returns no rows after the run", a.violations.strip() == "0",
                   f"{a.violations.strip()} violations"))
    columns = list(next(iter(rounds.values())))   # every round runs the same workloads
    lines += ["", "## Rounds", "",
              "4 clients, TPS. Each round ran, durable, TPC-B, refund and recharge back to back, the order "
              "rotating from round to round (TPC-B first, then refund first, then recharge first, …), charges "
              f"on the 10 hot cards with {cards:,} and with 10 live codes; then, durable and CPU-bound, the "
              "select-only reference and the history read; each pair's order alternating.", "",
              "| round | " + " | ".join(f"{short[w]} {MODES[m]}" for w, m in columns) + " | "
              + " | ".join(f"{short[w]} / {short[ref]} {MODES[m]}" for w, ref, m in ROUND_PAIRS) + " |",
              "|---:|" + "---:|" * (len(columns) + len(ROUND_PAIRS))]
    for number, r in rounds.items():
        lines.append(f"| {number} | " + " | ".join(f"{r[key]['tps']:.0f}" for key in columns) + " | "
                     + " | ".join(f"{r[(w, m)]['tps'] / r[(ref, m)]['tps']:.2f}" for w, ref, m in ROUND_PAIRS)
                     + " |")
    lines += ["", "## Targets", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {what} ({detail})" for what, ok, detail in checks]

    stored, charges = int(a.stored), int(a.charges)
    lines += ["", "## Storage", "",
              f"Bytes stored per charge: {stored / charges if charges else float('nan'):,.0f} ({charges:,} charges; "
              f"the extension's tables with their indexes and TOAST, live QR codes aside, grew by "
              f"{stored / 2**20:,.1f} MiB over the charge runs)"]
    lines += ["", "## Top 5 wait events per run", ""] + [f"- {name(key)}: {r['waits']}" for key, r in runs.items()]
    lines += ["", "## Server settings", "",
              "The CPU-bound runs set `synchronous_commit = off` per session (`PGOPTIONS`).", "",
              "```", a.settings.strip(), "```"]
    lines += ["", "## Appendix: top statements per run", "",
              "pg_stat_statements, reset before each run, top 8 by total time: calls | mean ms | query."]
    for key, r in runs.items():
        lines += ["", f"<details><summary>{name(key)}</summary>", "", "```", r["statements"], "```", "</details>"]

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, mode in zip(axes, MODES):
        for workload, style in [("tpcb", "o-"), ("charge", "s-"), ("charge_merchants", "D-"),
                                ("charge_100k_codes", "v--")]:
            ax.plot(CLIENTS, [run(workload, mode, c)["tps"] for c in CLIENTS], style, label=labels[workload])
        ax.set_xscale("log", base=2)
        ax.set_xticks(CLIENTS, [str(c) for c in CLIENTS])
        ax.set_xlabel("clients")
        ax.set_title(f"{MODES[mode]} (synchronous_commit = {'on' if mode == 'durable' else 'off'})")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("transactions per second")
    axes[0].legend(fontsize=8)
    fig.suptitle("mps_ext charges vs pgbench TPC-B, same server")
    fig.tight_layout()
    fig.savefig(a.out + ".png", dpi=110)
    lines.insert(2, f"![TPS by clients]({os.path.basename(a.out)}.png)\n")

    with open(a.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[lines.index("## Targets"):lines.index("## Top 5 wait events per run")]))
    print(f"results: {a.out}.md, {a.out}.png")


if __name__ == "__main__":
    main()
