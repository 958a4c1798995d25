#!/usr/bin/env python3
"""Runs every load scenario against the hub and the reference peers; prints a table and JSON.

The server under test is pinned to CPU 0 and the generator to CPU 1. A run whose generator used
more than 90% of its CPU is flagged: the numbers then measure the generator, not the server.
Exits non-zero when any run failed (error, duplicate or undelivered event), so `--smoke` is a
real check for CI. With `--repeat N` every scenario runs N rounds, each round every server once (in
turn, the order reversed each round, so drift in the machine's speed falls on all of them alike);
the table shows each server's median run, then hub/peer round by round with its median, and the
JSON keeps every run.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
GENERATOR_CPU_LIMIT = 0.90
FD_LIMIT = 200_000
START_TIMEOUT_S = 20
RUN_TIMEOUT_S = 240

def full_view(args):
    return ["--full-view"] if args.peer_full_view else []


SERVERS = {
    "hub": lambda a: [a.hub, "--listen", "127.0.0.1:0", "--log-level", "error",
                      "--threads", str(a.hub_threads)],
    # The same binary making one send call per socket write, as before io_uring (send_ring.hpp).
    "hub-send-calls": lambda a: [a.hub, "--listen", "127.0.0.1:0", "--log-level", "error",
                                 "--threads", str(a.hub_threads), "--io-uring", "off"],
    # Another hub build (--hub-baseline), e.g. the one from before a change, in the same invocation.
    "hub-baseline": lambda a: [a.hub_baseline, "--listen", "127.0.0.1:0", "--log-level", "error",
                               "--threads", str(a.hub_threads)],
    "ws": lambda a: ["node", str(PEERS / "ws_peer.mjs"), "--listen", "127.0.0.1:0"] + full_view(a),
    "uws": lambda a: ["node", str(PEERS / "uws_peer.mjs"), "--listen", "127.0.0.1:0"] + full_view(a),
    # Debian's python3 has fastapi/uvicorn; a pyenv shim earlier in PATH would not.
    "fastapi": lambda a: ["/usr/bin/python3", str(PEERS / "fastapi_peer.py"), "--listen", "127.0.0.1:0"],
}

# (label, scenario, extra loadgen flags, headline metric)
FULL = [
    ("fanout-max", "fanout-max", [], "delivered_per_s"),
    ("fanout-rate", "fanout-rate", [], "p99_us"),
    ("broadcast", "broadcast", [], "delivered_per_s"),
    ("idle-10k", "idle", ["--subscribers", "10000"], "rss_per_conn_bytes"),
    ("idle-50k", "idle", ["--subscribers", "50000"], "rss_per_conn_bytes"),
    ("churn", "churn", [], "cycles_per_s"),
    ("churn-handshake", "churn", ["--close", "handshake"], "cycles_per_s"),
    ("late-join-storm", "late-join-storm", [], "setup_s"),
]
SMOKE = [
    ("fanout-max", "fanout-max", ["--subscribers", "40", "--processes", "4", "--duration", "0.5"], "delivered_per_s"),
    ("fanout-rate", "fanout-rate", ["--subscribers", "40", "--processes", "4", "--duration", "0.5", "--rate", "200"],
     "p99_us"),
    ("broadcast", "broadcast", ["--subscribers", "100", "--duration", "0.5", "--rate", "50"], "delivered_per_s"),
    ("idle", "idle", ["--subscribers", "200", "--hold", "0.2"], "rss_per_conn_bytes"),
    ("churn", "churn", ["--duration", "0.5", "--concurrency", "5", "--processes", "4"], "cycles_per_s"),
    ("churn-handshake", "churn", ["--duration", "0.5", "--concurrency", "5", "--processes", "4", "--close", "handshake"],
     "cycles_per_s"),
    ("late-join-storm", "late-join-storm", ["--subscribers", "100", "--processes", "4"], "setup_s"),
]
LOWER_IS_BETTER = {"p99_us", "rss_per_conn_bytes", "setup_s"}
# Throughput metrics: also reported per second of server CPU, which still compares the servers when
# the generator is the bottleneck (the server then idles part of the time).
THROUGHPUT = {"delivered_per_s", "cycles_per_s"}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, max(hard, FD_LIMIT)))  # root may raise the hard limit
    except (ValueError, PermissionError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pinned(cpu, argv, use_taskset):
    return (["taskset", "-c", str(cpu)] if use_taskset else []) + argv


def server_cpus(name, args):
    # --hub-threads N spreads the hub over CPUs 0..N-1; on 2 CPUs its send lane shares the generator's.
    if name.startswith("hub") and args.hub_threads > 1:
        return f"0-{min(args.hub_threads, os.cpu_count()) - 1}"
    return "0"


def start_server(name, args):
    proc = subprocess.Popen(pinned(server_cpus(name, args), SERVERS[name](args), args.taskset),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=PEERS)
    deadline = time.monotonic() + START_TIMEOUT_S
    result = {}

    def read_first_line():
        result["line"] = proc.stdout.readline()

    reader = threading.Thread(target=read_first_line, daemon=True)
    reader.start()
    reader.join(max(0.0, deadline - time.monotonic()))
    line = result.get("line", "")
    if not line.startswith("listening on "):
        proc.kill()
        raise RuntimeError(f"{name} did not print 'listening on': {line!r}")
    return proc, int(line.strip().rsplit(":", 1)[1])


def run_one(name, label, scenario, extra, args):
    proc, port = start_server(name, args)
    try:
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        peak = [rss_bytes(proc.pid)]
        done = threading.Event()

        def sample():
            while not done.wait(0.1):
                try:
                    peak[0] = max(peak[0], rss_bytes(proc.pid))
                except OSError:
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cmd = pinned(1, [args.loadgen, "--port", str(port), "--scenario", scenario, "--server-pid", str(proc.pid),
                         "--io-uring", "on" if args.loadgen_io_uring else "off"]
                     + extra, args.taskset)
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
            lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
            row = json.loads(lines[-1]) if lines else {"error": f"no output; stderr: {out.stderr.strip()[:300]}"}
        except subprocess.TimeoutExpired:
            row = {"error": f"generator did not finish within {RUN_TIMEOUT_S} s"}
        done.set()
        wall = time.monotonic() - t0
        row["server_cpu"] = round((cpu_seconds(proc.pid) - cpu0) / wall, 3)
        row["server_peak_rss_bytes"] = peak[0]
        row["server"], row["label"] = name, label
        row["p99_us"] = row.get("latency_us", {}).get("p99", 0)
        for metric in THROUGHPUT:
            if row.get(metric) and row["server_cpu"] > 0:
                row[metric + "_per_server_cpu_s"] = round(row[metric] / row["server_cpu"])
        problems = []
        if row.get("error"):
            problems.append(row["error"])
        if row.get("duplicates", 0) or row.get("undelivered", 0):
            problems.append(f"duplicates={row.get('duplicates')} undelivered={row.get('undelivered')}")
        if row.get("generator_cpu", 0) > GENERATOR_CPU_LIMIT:
            problems.append(f"generator CPU {row['generator_cpu']:.2f} > {GENERATOR_CPU_LIMIT}: generator-bound")
        row["problems"] = problems
        return row
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def connections_needed(scenario, extra):
    defaults = {"broadcast": 10_000, "idle": 10_000, "late-join-storm": 5_000}
    count = int(extra[extra.index("--subscribers") + 1]) if "--subscribers" in extra else defaults.get(scenario, 1_000)
    return count + 100


def headline(row, metric):
    if "skipped" in row:
        return "skipped"
    if metric == "p99_us":
        lat = row.get("latency_us", {})
        return f"{lat.get('p50', 0)}/{lat.get('p99', 0)}/{lat.get('p999', 0)} us"
    value = row.get(metric, 0)
    if metric == "rss_per_conn_bytes":
        return f"{value / 1024:.1f} KiB"
    if metric == "setup_s":
        return f"{value:.3f} s"
    return f"{value:,.0f}/s"


def metric_value(row, metric):
    return row.get("p99_us" if metric == "p99_us" else metric) or 0


def median_run(runs, metric):
    """The run whose headline is the median (the lower middle one for an even count)."""
    done = [r for r in runs if "skipped" not in r]
    if not done:
        return runs[0]
    ordered = sorted(done, key=lambda r: metric_value(r, metric))
    middle = dict(ordered[(len(ordered) - 1) // 2])
    if len(runs) > 1:
        middle["repeats"] = [metric_value(r, metric) for r in done]
        middle["problems"] = [p for r in done for p in r["problems"]]
    return middle


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds, tiny sizes (CI)")
    parser.add_argument("--servers", default="hub,ws,uws,fastapi", help="comma list of: " + ",".join(SERVERS))
    parser.add_argument("--scenarios", default="", help="comma list of labels (default: all)")
    parser.add_argument("--hub", default=str(ROOT / "build/native-release/native/server/progress-hub"))
    parser.add_argument("--hub-baseline", default="",
                        help="a second hub binary, run as server hub-baseline (a build from before a change)")
    parser.add_argument("--loadgen", default=str(ROOT / "build/native-release/bench/progress-loadgen"))
    parser.add_argument("--hub-threads", type=int, default=1,
                        help="the hub's --threads; above 1 the hub is pinned to CPUs 0..N-1 "
                             "(the generator stays on 1)")
    parser.add_argument("--peer-full-view", action="store_true",
                        help="the Node peers send the hub's whole event (epoch, stage, message, percent, ts), "
                             "not only data: frames of the same size as the hub's")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds per scenario; the table shows each server's median run")
    parser.add_argument("--loadgen-recv", dest="loadgen_io_uring", action="store_false",
                        help="the generator reads with one recv() per socket, as before its io_uring reads")
    parser.add_argument("--json", help="also write the JSON here")
    parser.add_argument("--no-taskset", dest="taskset", action="store_false")
    args = parser.parse_args()
    if args.taskset and (shutil.which("taskset") is None or os.cpu_count() < 2):
        args.taskset = False
        print("note: no taskset or fewer than 2 CPUs; server and generator are not pinned", file=sys.stderr)
    args.hub, args.loadgen = os.path.abspath(args.hub), os.path.abspath(args.loadgen)  # servers run in peers/
    if "hub-baseline" in args.servers.split(","):
        if not args.hub_baseline:
            sys.exit("server hub-baseline needs --hub-baseline PATH")
        args.hub_baseline = os.path.abspath(args.hub_baseline)
    for path in (args.hub, args.loadgen) + ((args.hub_baseline,) if args.hub_baseline else ()):
        if not os.access(path, os.X_OK):
            sys.exit(f"not executable: {path} (build the native-release preset, or pass --hub/--loadgen)")
    fds = raise_fd_limit()
    plan = SMOKE if args.smoke else FULL
    if args.scenarios:
        wanted = set(args.scenarios.split(","))
        plan = [p for p in plan if p[0] in wanted]
    servers = args.servers.split(",")
    for s in servers:
        if s not in SERVERS:
            sys.exit(f"unknown server {s}; known: {', '.join(SERVERS)}")
    if not args.smoke:
        print(f"open-file limit {fds}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", file=sys.stderr)

    rows = []
    all_runs = []
    runs_by_label = {}
    for label, scenario, extra, metric in plan:
        runs = {server: [] for server in servers}
        for round_index in range(max(1, args.repeat)):
            for server in (servers if round_index % 2 == 0 else list(reversed(servers))):
                needed = connections_needed(scenario, extra)
                if needed > fds:
                    # Both the server and the generator hold one descriptor per connection.
                    row = {"server": server, "label": label, "skipped":
                           f"open-file limit {fds} < {needed} connections (raise it: ulimit -Hn as root)",
                           "problems": []}
                else:
                    row = run_one(server, label, scenario, extra, args)
                row["metric"] = metric
                runs[server].append(row)
                all_runs.append(row)
                flag = "  FLAGGED: " + "; ".join(row["problems"]) if row["problems"] else ""
                if "skipped" in row:
                    print(f"{label:16} {server:8} skipped: {row['skipped']}", file=sys.stderr, flush=True)
                    continue
                per_cpu = row.get(metric + "_per_server_cpu_s")
                per_cpu_text = f" ({per_cpu:,.0f} per server CPU-s)" if per_cpu else ""
                print(f"{label:16} {server:14} {headline(row, metric):>24}{per_cpu_text}  "
                      f"server_cpu={row['server_cpu']:.2f} generator_cpu={row.get('generator_cpu', 0):.2f}{flag}",
                      file=sys.stderr, flush=True)
        rows.extend(median_run(runs[server], metric) for server in servers)
        runs_by_label[label] = runs

    by = {(r["label"], r["server"]): r for r in rows}
    ratios = {}
    print()
    # A ratio column is as wide as its header ("hub/hub-send-calls"), and at least 12.
    ratio_width = {s: max(12, len("hub/" + s) + 2) for s in servers}
    print(f"{'scenario':16}" + "".join(f"{s:>30}" for s in servers) + "".join(
        f"{'hub/' + s:>{ratio_width[s]}}" for s in servers if s != "hub" and "hub" in servers))
    for label, _, _, metric in plan:
        cells = "".join(f"{headline(by[(label, s)], metric):>30}" for s in servers)
        ratio_cells = ""
        if "hub" in servers:
            for s in servers:
                if s == "hub":
                    continue
                key = "p99_us" if metric == "p99_us" else metric
                hub_v, peer_v = by[(label, "hub")].get(key) or 0, by[(label, s)].get(key) or 0
                ratio = round(hub_v / peer_v, 3) if peer_v else None
                ratios.setdefault(label, {})[f"hub/{s}"] = ratio
                ratio_cells += f"{ratio if ratio is not None else '-':>{ratio_width[s]}}"
        print(f"{label:16}{cells}{ratio_cells}")
    # Each round runs the servers back to back, so a round's ratio is taken at one machine speed; the
    # medians above can pair a fast phase of one server with a slow phase of the other.
    round_ratios = {}
    if "hub" in servers and max(1, args.repeat) > 1:
        print()
        print("hub/peer round by round (the servers ran back to back), and their median")
        for label, _, _, metric in plan:
            for s in servers:
                if s == "hub":
                    continue
                pairs = [(h, p) for h, p in zip(runs_by_label[label]["hub"], runs_by_label[label][s])
                         if "skipped" not in h and "skipped" not in p and metric_value(p, metric)]
                per_round = [round(metric_value(h, metric) / metric_value(p, metric), 3) for h, p in pairs]
                if not per_round:
                    continue
                round_ratios.setdefault(label, {})[f"hub/{s}"] = {"rounds": per_round,
                                                                  "median": statistics.median(per_round)}
                print(f"{label:16} hub/{s:8} " + " ".join(f"{r:.2f}" for r in per_round) +
                      f"  median {statistics.median(per_round):.3f}")
            # The baseline build against the same peers, so the two builds' ratios can be compared.
            if "hub-baseline" in servers:
                for s in servers:
                    if s.startswith("hub"):
                        continue
                    pairs = [(h, p) for h, p in zip(runs_by_label[label]["hub-baseline"], runs_by_label[label][s])
                             if "skipped" not in h and "skipped" not in p and metric_value(p, metric)]
                    per_round = [round(metric_value(h, metric) / metric_value(p, metric), 3) for h, p in pairs]
                    if per_round:
                        round_ratios.setdefault(label, {})[f"hub-baseline/{s}"] = {
                            "rounds": per_round, "median": statistics.median(per_round)}
                        print(f"{label:16} hub-baseline/{s:8} " + " ".join(f"{r:.2f}" for r in per_round) +
                              f"  median {statistics.median(per_round):.3f}")
    efficiency = [(label, metric) for label, _, _, metric in plan if metric in THROUGHPUT]
    if efficiency:
        print()
        print(f"{'per server CPU-s':16}" + "".join(f"{s:>30}" for s in servers))
        for label, metric in efficiency:
            key = metric + "_per_server_cpu_s"
            print(f"{label:16}" + "".join(f"{by[(label, s)].get(key, 0):>28,.0f}/s" for s in servers))
    report = {"machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()}, "pinned": args.taskset,
              "hub_threads": args.hub_threads, "peer_full_view": args.peer_full_view,
              "repeat": max(1, args.repeat),
              "medians": rows, "runs": all_runs, "ratios": ratios, "round_ratios": round_ratios,
              "note": "ratios are hub/peer of the headline metric; for p99, rss and setup time lower is better"}
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    failed = [r for r in all_runs if r["problems"] and not all("generator-bound" in p for p in r["problems"])]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
