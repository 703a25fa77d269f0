#!/usr/bin/env python3
"""Reads a kernel timeline CSV (or .csv.gz) written by `marlin bench e2e --profile` under MARLINSHARP_DEBUG_TIMELINE and prints, for each
launch position of a decoder layer (averaged over the middle layers), when its CTAs entered, when their wait returned,
when their main loops and they themselves finished, all relative to the end of the launch before it (ns); then, where the
records carry them, how a GEMM cluster's tail splits between its slowest warp, its barrier and its reduction."""
import csv, gzip, sys, statistics as st

def launches(path):
    rows = list(csv.DictReader(gzip.open(path, "rt") if path.endswith(".gz") else open(path)))
    for r in rows:
        for k in ("entry", "waited", "looped", "exit", "loops_done", "cluster_synced", "reduced"):
            r[k] = int(r[k]) if r.get(k) else None
    rows.sort(key=lambda r: r["entry"])
    sig = lambda r: (r["kind"], r["epilogue"], r["warps"], r["grid_x"], r["grid_y"], r["grid_z"])
    out, cur = [], []
    for r in rows:
        if cur and sig(r) != sig(cur[0]):
            out.append(cur); cur = []
        cur.append(r)
    if cur: out.append(cur)
    return out

def name(l):
    r = l[0]
    if r["kind"] == "1":
        return {"1": "residual", "2": "normed", "3": "swiglu", "0": "plain"}[r["epilogue"]] + f" w{r['warps']} {r['grid_x']}x{r['grid_y']}"
    return ("attn_rope" if r["kind"] == "2" else "attn") + f" {r['grid_x']}x{r['grid_y']}x{r['grid_z']}"

def summarize(path):
    ls = launches(path)
    print(f"{path}: {len(ls)} launches, {sum(len(l) for l in ls)} CTAs, span {max(r['exit'] for l in ls for r in l)/1e3:.1f} us")
    per = {}
    prev_end = None
    for i, l in enumerate(ls):
        end = max(r["exit"] for r in l)
        first_entry = min(r["entry"] for r in l)
        waited = [r["waited"] for r in l if r["waited"] is not None]
        looped = [r["looped"] for r in l if r["looped"] is not None and r["kind"] == "1"]
        if prev_end is not None:
            rec = dict(
                ctas=len(l),
                early=sum(1 for r in l if r["entry"] < prev_end) / len(l),
                first_entry=first_entry - prev_end,
                wait_min=min(waited) - prev_end, wait_max=max(waited) - prev_end,
                loop_max=(max(looped) - prev_end) if looped else float("nan"),
                exit_min=min(r["exit"] for r in l) - prev_end,
                dur=end - prev_end)
            per.setdefault((i % 5, name(l)), []).append(rec)
        prev_end = end
    keys = ["ctas", "early", "first_entry", "wait_min", "wait_max", "loop_max", "exit_min", "dur"]
    print(f"{'launch':28s}" + "".join(f"{k:>12s}" for k in keys) + "   (ns after the previous launch's last exit; medians)")
    total = 0
    for (pos, n), recs in sorted(per.items(), key=lambda kv: kv[0][0]):
        if len(recs) < 4: continue
        med = {k: st.median(r[k] for r in recs) for k in keys}
        total += med["dur"]
        print(f"{n:28s}" + "".join(f"{med[k]:12.2f}" if k == "early" else f"{med[k]:12.0f}" for k in keys) + f"   x{len(recs)}")
    print(f"sum of median durations per layer: {total/1e3:.2f} us")

def gemm_tails(path):
    """Per GEMM launch of a layer, medians over its clusters (CTAs of one grid_y) of: the spread of the CTAs' last warps'
    main-loop ends, the time from the cluster's last main loop to its barrier after the partials, from there to the end of
    the last CTA's reduction (thread 0's share) and from there, through the final cluster barrier, to the cluster's last
    exit (records with loops_done only)."""
    ls = launches(path)
    per = {}
    for i, l in enumerate(ls):
        if l[0]["kind"] != "1" or l[0]["loops_done"] is None: continue
        clusters = {}
        for r in l: clusters.setdefault(r["block_y"], []).append(r)
        rec = dict(warp0_to_last=[], loop_spread=[], to_barrier=[], to_reduced=[], to_exit=[])
        for c in clusters.values():
            last_loop = max(r["loops_done"] for r in c)
            rec["warp0_to_last"].append(st.median(r["loops_done"] - r["looped"] for r in c))
            rec["loop_spread"].append(last_loop - min(r["loops_done"] for r in c))
            rec["to_barrier"].append(max(r["cluster_synced"] for r in c) - last_loop)
            if all(r["reduced"] is not None for r in c):
                rec["to_reduced"].append(max(r["reduced"] for r in c) - max(r["cluster_synced"] for r in c))
                rec["to_exit"].append(max(r["exit"] for r in c) - max(r["reduced"] for r in c))
            else:
                rec["to_exit"].append(max(r["exit"] for r in c) - max(r["cluster_synced"] for r in c))
        per.setdefault((i % 5, name(l)), []).append({k: st.median(v) if v else float("nan") for k, v in rec.items()})
    if not per: return
    keys = ["warp0_to_last", "loop_spread", "to_barrier", "to_reduced", "to_exit"]
    print(f"{'GEMM clusters':28s}" + "".join(f"{k:>14s}" for k in keys) + "   (ns; medians over clusters, then layers)")
    for (pos, n), recs in sorted(per.items(), key=lambda kv: kv[0][0]):
        if len(recs) < 4: continue
        print(f"{n:28s}" + "".join(f"{st.median(r[k] for r in recs):14.0f}" for k in keys))

for p in sys.argv[1:]:
    summarize(p); gemm_tails(p); print()
