#!/usr/bin/env python3
"""Score optlint findings against the held-out issue-18 ground truth.

usage: python score.py FINDINGS_DIR [--unjudged-out FILE] [--verbose]

FINDINGS_DIR holds <name>.json files (optlint --output-format json), one per tree
under trees/<name>.  Truth: truth.tsv (next to this script).  Explicit verdicts for
findings: baseline-verdicts.tsv and extra-verdicts.tsv (columns: repo, file, row,
code, verdict, cross, reason; verdict is right / wrong / debatable:<kind>).

Matching: a finding matches a truth row when the repo and file are the same and the
row is within +-2 of the truth line, or when it lies within +-2 of the row's
other_file location (findings may be reported at either end of a cross-module
decision).  A code outside the static catalog (OPT000-OPT009) reported on a
.yaml/.yml/.json file, on a file under a configs/config/conf folder, or on a file that
the truth lists as a config file, counts as CONFIG.  OPT001 and CONFIG are interchangeable for a match (the decay may be
reported at the Python end or at the config key); everything else must match exactly.

Verdict of a finding: explicit verdict files first (same repo, file, row, code);
else from the truth row it matches (compatible code on an expected-rule row: right;
on a silent row: wrong; on a debatable row: debatable) -- only for OPT001, OPT002 and
CONFIG; else unjudged (listed so a human can add it to extra-verdicts.tsv).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG = {f"OPT00{i}" for i in range(10)}  # static catalog incl. OPT009 unused-noqa
CONFIG_EXT = (".yaml", ".yml", ".json")
DECAY_FAMILY = {"OPT001", "CONFIG"}
TOL = 2


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r and not (r.get(next(iter(r))) or "").startswith("#")]


def norm_path(filename: str, repo: str) -> str:
    f = filename.replace("\\", "/")
    marker = f"/trees/{repo}/"
    if marker in f:
        return f.split(marker, 1)[1]
    if f.startswith(f"trees/{repo}/"):
        return f[len(f"trees/{repo}/"):]
    while f.startswith("./"):
        f = f[2:]
    return f


def parse_loc(s: str):
    if not s:
        return None
    f, _, line = s.rpartition(":")
    try:
        return f, int(line)
    except ValueError:
        return None


def compatible(code: str, expected: str) -> bool:
    if code == expected:
        return True
    if code in DECAY_FAMILY and expected in DECAY_FAMILY:
        return True
    return False


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("findings_dir")
    ap.add_argument("--unjudged-out", help="write unjudged findings here as TSV (verdict column empty)")
    ap.add_argument("--verbose", action="store_true", help="print every judged finding and every missed row")
    a = ap.parse_args(argv)

    truth = read_tsv(os.path.join(HERE, "truth.tsv"))
    config_files = {(r["repo"], r["file"]) for r in truth if r["kind"].startswith("config-")}
    verdicts = {}
    for name in ("baseline-verdicts.tsv", "extra-verdicts.tsv"):
        for r in read_tsv(os.path.join(HERE, name)):
            verdicts[(r["repo"], r["file"], int(r["row"]), r["code"])] = r

    repos = sorted({r["repo"] for r in truth})
    findings = []  # dicts: repo, file, row, code, eff, message
    missing = []
    for repo in repos:
        p = os.path.join(a.findings_dir, f"{repo}.json")
        if not os.path.exists(p):
            missing.append(repo)
            continue
        try:
            data = json.load(open(p, encoding="utf-8"))
        except json.JSONDecodeError as e:
            print(f"!! {p}: not JSON ({e})", file=sys.stderr)
            missing.append(repo)
            continue
        for f in data:
            code = f["code"]
            file = norm_path(f["filename"], repo)
            eff = code
            if code not in CATALOG and (file.endswith(CONFIG_EXT) or (repo, file) in config_files
                                        or re.search(r"(^|/)(configs?|conf)(/|$)", os.path.dirname(file))):
                eff = "CONFIG"
            findings.append(dict(repo=repo, file=file, row=int(f["location"]["row"]), code=code, eff=eff,
                                 message=f.get("message", "")))

    by_file = defaultdict(list)
    for t in truth:
        by_file[(t["repo"], t["file"])].append(("self", t))
        o = parse_loc(t["other_file"])
        if o:
            by_file[(t["repo"], o[0])].append(("other", t, o[1]))

    def matches(fd, own_only=False):
        out = []
        for ent in by_file.get((fd["repo"], fd["file"]), []):
            if ent[0] == "self":
                if abs(fd["row"] - int(ent[1]["line"])) <= TOL:
                    out.append(ent[1])
            elif not own_only and abs(fd["row"] - ent[2]) <= TOL:
                out.append(ent[1])
        return out

    # ---- judge findings
    judged = []  # (finding, verdict, cross, source)
    unjudged = []
    for fd in findings:
        key = (fd["repo"], fd["file"], fd["row"], fd["code"])
        # rows at the finding's own place decide first; the other ends only when none
        ms = matches(fd, own_only=True) or matches(fd)
        cross = "yes" if any(m["cross"] == "yes" for m in ms) else ("no" if ms else None)
        if key in verdicts:
            v = verdicts[key]
            judged.append((fd, v["verdict"], v.get("cross") or cross or "no", "verdict-file"))
            continue
        if fd["eff"] in ("OPT001", "OPT002", "CONFIG") and ms:
            exp = [m["expected"] for m in ms]
            if any(e not in ("silent",) and not e.startswith("debatable") and compatible(fd["eff"], e) for e in exp):
                verdict = "right"
            elif any(e.startswith("debatable") for e in exp):
                verdict = next(e for e in exp if e.startswith("debatable"))
            elif all(e == "silent" for e in exp):
                verdict = "wrong"
            else:
                verdict = None  # matched a rule row with a different rule
            if verdict:
                judged.append((fd, verdict, cross, "truth:" + ",".join(m["id"] for m in ms)))
                continue
        unjudged.append(fd)

    # ---- precision per rule
    print(f"findings: {len(findings)} in {len(repos) - len(missing)} trees"
          + (f" (no findings file for: {', '.join(missing)})" if missing else ""))
    print("\nPRECISION per rule (right/(right+wrong)); debatable counted apart")
    stats = defaultdict(Counter)
    for fd, v, cross, _ in judged:
        for c in (cross, "all"):
            k = "debatable" if v.startswith("debatable") else v
            stats[(fd["eff"], c)][k] += 1
    for fd in unjudged:
        stats[(fd["eff"], "all")]["unjudged"] += 1
    print(f"{'rule':8} {'cross':5} {'right':>5} {'wrong':>5} {'debat':>5} {'unjdg':>5}  precision")
    for (code, c) in sorted(stats, key=lambda k: (k[0], {"no": 0, "yes": 1, "all": 2}[k[1]])):
        s = stats[(code, c)]
        den = s["right"] + s["wrong"]
        prec = f"{s['right'] / den:.3f}" if den else "n/a"
        print(f"{code:8} {c:5} {s['right']:5} {s['wrong']:5} {s['debatable']:5} {s['unjudged']:5}  {prec}")

    # ---- recall over truth rows with an expected rule
    print("\nRECALL over truth rows whose expected is a rule (found/expected)")
    rec = defaultdict(Counter)
    missed_rows = []
    silent_hit = defaultdict(list)
    deb_hit = Counter()
    for t in truth:
        e = t["expected"]
        if e == "silent":
            hits = [fd for fd in findings if fd["eff"] in ("OPT001", "OPT002", "CONFIG")
                    and fd["repo"] == t["repo"] and fd["file"] == t["file"] and abs(fd["row"] - int(t["line"])) <= TOL]
            if hits:
                silent_hit[t["cross"]].append((t, hits))
            continue
        if e.startswith("debatable"):
            hits = [fd for fd in findings if t in matches(fd)]
            if hits:
                deb_hit[t["cross"]] += 1
            continue
        found = any(compatible(fd["eff"], e) and t in matches(fd) for fd in findings)
        for c in (t["cross"], "all"):
            rec[(e, c)]["expected"] += 1
            rec[(e, c)]["found"] += found
        if not found:
            missed_rows.append(t)
    print(f"{'rule':8} {'cross':5} {'found':>5}/{'exp':<5} recall")
    for (code, c) in sorted(rec, key=lambda k: (k[0], {"no": 0, "yes": 1, "all": 2}[k[1]])):
        r = rec[(code, c)]
        print(f"{code:8} {c:5} {r['found']:5}/{r['expected']:<5} {r['found'] / r['expected']:.3f}")
    tot = Counter()
    for (code, c), r in rec.items():
        if c != "all":
            tot[c + "_f"] += r["found"]; tot[c + "_e"] += r["expected"]
    for c in ("no", "yes"):
        if tot[c + "_e"]:
            print(f"{'ALL':8} {c:5} {tot[c + '_f']:5}/{tot[c + '_e']:<5} {tot[c + '_f'] / tot[c + '_e']:.3f}")

    n_sil = Counter(t["cross"] for t in truth if t["expected"] == "silent")
    print("\nSILENT rows wrongly reported (a finding OPT001/OPT002/CONFIG within +-2 of the row)")
    for c in ("no", "yes"):
        print(f"  cross={c}: {len(silent_hit[c])}/{n_sil[c]}")
        for t, hits in silent_hit[c]:
            print(f"    {t['id']:8} {t['file']}:{t['line']}  <- " + ", ".join(f"{h['code']}@{h['row']}" for h in hits))
    n_deb = Counter(t["cross"] for t in truth if t["expected"].startswith("debatable"))
    print(f"DEBATABLE rows with a finding: cross=no {deb_hit['no']}/{n_deb['no']}, cross=yes {deb_hit['yes']}/{n_deb['yes']}")

    if a.verbose:
        print("\nMISSED rule rows:")
        for t in missed_rows:
            print(f"  {t['id']:8} {t['expected']:7} cross={t['cross']:3} {t['repo']}/{t['file']}:{t['line']}")
        print("\nJUDGED findings:")
        for fd, v, cross, src in judged:
            print(f"  {v:28} {fd['code']:7} {fd['repo']}/{fd['file']}:{fd['row']} [{src}]")

    print(f"\nUNJUDGED findings: {len(unjudged)}" + (" (add verdicts to extra-verdicts.tsv)" if unjudged else ""))
    for fd in unjudged[:200]:
        print(f"  {fd['code']:7} {fd['repo']}/{fd['file']}:{fd['row']}  {fd['message'][:100]}")
    if a.unjudged_out:
        with open(a.unjudged_out, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, delimiter="\t", lineterminator="\n")
            w.writerow(["repo", "file", "row", "code", "verdict", "cross", "reason", "message"])
            for fd in unjudged:
                w.writerow([fd["repo"], fd["file"], fd["row"], fd["code"], "", "", "", re.sub(r"\s+", " ", fd["message"])])
    return 0


if __name__ == "__main__":
    sys.exit(main())
