"""Turns the pgbench logs of bench/run.sh into a markdown table, a PNG chart and PASS/FAIL
lines for the targets."""

import argparse
import glob
import os
import platform
import re
from datetime import datetime, timezone

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def latencies_ms(work, name, clients):
    """Per-transaction latencies (ms) from pgbench's -l logs: column 3 is microseconds."""
    values = []
    for path in glob.glob(os.path.join(work, f"{name}.c{clients}.*")):
        if path.endswith(".out"):
            continue
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) > 2 and parts[2].isdigit():
                    values.append(int(parts[2]) / 1000.0)
    return sorted(values)


def tps(work, name, clients):
    with open(os.path.join(work, f"{name}.c{clients}.out")) as f:
        m = re.search(r"tps = ([0-9.]+)", f.read())
    return float(m.group(1)) if m else 0.0


def pct(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def storage_line(before, after, charges):
    """Bytes stored per charge: what the extension's tables and indexes grew by over the
    charge runs, divided by the charges they made."""
    per_charge = (after - before) / charges if charges else float("nan")
    return (f"Bytes stored per charge: {per_charge:,.0f} ({charges:,} charges; the extension's tables with their "
            f"indexes and TOAST, live QR codes aside, grew from {before / 2**20:,.1f} MiB to {after / 2**20:,.1f} MiB)")


def main():
    ap = argparse.ArgumentParser()
    for arg in ["work", "out", "seconds", "cards", "violations", "bcrypt", "settings", "stored-before",
                "stored-after", "charges"]:
        ap.add_argument(f"--{arg}", required=True)
    a = ap.parse_args()

    feed = [(name, c) for c in (4, 16) for name in ("charge_feed", "charge_no_feed")]
    runs = [("tpcb", c) for c in (1, 4, 16)] + [("charge", c) for c in (1, 4, 16)] + \
        [("charge_10_codes", c) for c in (1, 4, 16)] + [("charge_100k_codes", c) for c in (1, 4, 16)] + feed + \
        [("refund", 4), ("recharge", 4), ("hold", 4), ("history", 4), ("login", 4)]

    def measured(name, c):
        lat = latencies_ms(a.work, name, c)
        return {"tps": tps(a.work, name, c), "p50": pct(lat, 50), "p99": pct(lat, 99), "n": len(lat)}

    rows = {(name, c): measured(name, c) for name, c in runs if (name, c) not in feed}
    # the feed's workloads ran three rounds each: the median round stands for each
    for name, c in feed:
        rounds = sorted((measured(f"{name}{r}", c) for r in (1, 2, 3)), key=lambda row: row["tps"])
        rows[(name, c)] = {**rounds[1], "rounds": [round(row["tps"]) for row in rounds]}

    labels = {"tpcb": "pgbench TPC-B (scale 10)", "charge": f"merchant_charge_by_qr ({int(a.cards):,} live codes)",
              "charge_10_codes": "charge, 10 hot cards, 10 live codes",
              "charge_100k_codes": f"charge, 10 hot cards, {int(a.cards):,} live codes",
              "charge_feed": "charge with its event (notifier worker; median of 3 rounds)",
              "charge_no_feed": "charge without its event row (a bench-only trigger drops it; median of 3)",
              "refund": "merchant_refund_tx", "recharge": "user_recharge_card",
              "hold": "merchant_authorize_by_qr + merchant_capture_hold (a pair)",
              "history": "get_member_transactions", "login": f"member_login (bcrypt cost {a.bcrypt})"}
    lines = [f"# mps_ext benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "",
             f"Machine: {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}. "
             f"Each run {a.seconds} s, pgbench `-M prepared`, calls made the way PostgREST makes them "
             "(transaction, `set_config` prologue, named arguments). Ratio: TPS over TPC-B's at the same clients.",
             "", "| workload | clients | TPS | p50 ms | p99 ms | ratio to TPC-B |", "|---|---:|---:|---:|---:|---:|"]
    for name, c in runs:
        r = rows[(name, c)]
        base = rows[("tpcb", c)]["tps"] if ("tpcb", c) in rows else rows[("tpcb", 4)]["tps"]
        lines.append(f"| {labels[name]} | {c} | {r['tps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                     f"{r['tps'] / base:.2f} |")

    checks = []
    charge4, tpcb4 = rows[("charge", 4)], rows[("tpcb", 4)]
    checks.append(("charge TPS >= 0.8 x TPC-B TPS at 4 clients",
                   charge4["tps"] >= 0.8 * tpcb4["tps"], f"{charge4['tps']:.0f} vs {tpcb4['tps']:.0f}"))
    hot10, hot100k = rows[("charge_10_codes", 4)], rows[("charge_100k_codes", 4)]
    checks.append((f"charge TPS with {int(a.cards):,} live codes within 10% of 10 live codes (4 clients)",
                   hot100k["tps"] >= 0.9 * hot10["tps"], f"{hot100k['tps']:.0f} vs {hot10['tps']:.0f}"))
    checks.append(("p99 charge latency at 4 clients <= 3 x TPC-B's",
                   charge4["p99"] <= 3 * tpcb4["p99"], f"{charge4['p99']:.2f} ms vs {tpcb4['p99']:.2f} ms"))
    for c in (4, 16):
        feed, bare = rows[("charge_feed", c)], rows[("charge_no_feed", c)]
        checks.append((f"the event feed costs a charge <= 5% of its TPS at {c} clients",
                       feed["tps"] >= 0.95 * bare["tps"],
                       f"{feed['tps']:.0f} with vs {bare['tps']:.0f} without: {1 - feed['tps'] / bare['tps']:.1%}; "
                       f"rounds {feed['rounds']} vs {bare['rounds']}"))
    checks.append(("verify_ledger() returns no rows after the run", a.violations.strip() == "0",
                   f"{a.violations.strip()} violations"))
    lines += ["", "## Targets", ""] + [f"- {'PASS' if ok else 'FAIL'}: {what} ({detail})" for what, ok, detail in checks]
    lines += ["", "## Storage", "", storage_line(int(a.stored_before), int(a.stored_after), int(a.charges))]
    lines += ["", "## Server settings", "", "```", a.settings.strip(), "```"]
    statements = os.path.join(a.work, "statements.txt")
    if os.path.exists(statements):
        lines += ["", "## Top statements (pg_stat_statements: calls | mean ms | query)", "", "```",
                  open(statements).read().strip(), "```"]

    fig, ax = plt.subplots(figsize=(7, 4.5))
    clients = [1, 4, 16]
    for name, style in [("tpcb", "o-"), ("charge", "s-"), ("charge_10_codes", "^--"), ("charge_100k_codes", "v--")]:
        ax.plot(clients, [rows[(name, c)]["tps"] for c in clients], style, label=labels[name])
    ax.set_xscale("log", base=2)
    ax.set_xticks(clients, [str(c) for c in clients])
    ax.set_xlabel("clients")
    ax.set_ylabel("transactions per second")
    ax.set_title("mps_ext charges vs pgbench TPC-B, same server")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out + ".png", dpi=110)
    lines.insert(2, f"![TPS by clients]({os.path.basename(a.out)}.png)\n")

    with open(a.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[lines.index("## Targets"):lines.index("## Server settings")]))
    print(f"results: {a.out}.md, {a.out}.png")


if __name__ == "__main__":
    main()
