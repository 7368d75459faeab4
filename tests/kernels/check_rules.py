#!/usr/bin/env python3
"""Checks the rule scenarios the guests recorded (tests/kernels/rules).

For every kernel and scenario: the recording worked, the analyzer classifies
CAPABILITY `conditional` with RULE, the value the kernel held at the check
(RECORDED) and the deciding call-path frame (FRAME), and under LIFT the same
trace is `not_needed`. Prints kernel x scenario x result; exit 0 only if
every row passed.
"""
import argparse
import json
import os
import subprocess
import sys


def read_rules(path):
    rows = []
    with open(path) as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = [x.strip() for x in line.rstrip("\n").split(" | ")]
            if len(fields) != 8:
                raise SystemExit(f"{path}: 8 fields expected: {line!r}")
            name, sysctls, cmd, cap, rule, recorded, lift, frame = fields
            rows.append({"name": name, "sysctls": sysctls, "cmd": cmd, "cap": cap.lower(), "rule": rule,
                         "recorded": recorded, "lift": [] if lift == "-" else lift.split(), "frame": frame})
    return rows


def report(analyze, trace, lift):
    cmd = [analyze, "report", "-f", "json"]
    for kv in lift:
        cmd += ["--sysctl", kv]
    p = subprocess.run(cmd + [trace], capture_output=True, text=True)
    # A non-zero exit may still carry a report (e.g. an incomplete input).
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise RuntimeError(f"analyzer exit {p.returncode}: {p.stderr.strip()[:200]}")


def find_cap(rep, cap):
    for c in rep.get("caps", []):
        if c.get("name", "").lower() == cap:
            return c
    return None


def hit_text(h):
    return " | ".join([h.get("operation", "")] + list(h.get("inputs", [])))


def check_predicted(rec, strict, s):
    """(problems, detail) of a prediction scenario: recorded with the gate open
    (no check), not needed as recorded; under LIFT, here the stricter profile,
    conditional and predicted by RULE with RECORDED (recorded and target value)."""
    problems, detail = [], ""
    f = find_cap(rec, s["cap"])
    if f and f.get("recommended"):
        problems.append(f"{s['cap']} recommended as recorded: {f['category']}: {f['reason'][:120]}")
    g = find_cap(strict, s["cap"])
    if not g:
        return problems + [f"no {s['cap']} finding under {' '.join(s['lift'])}"], ""
    if g["category"] != "conditional" or not g.get("predicted"):
        problems.append(f"under {' '.join(s['lift'])}: {g['category']}, predicted {g.get('predicted')}: "
                        f"{g['reason'][:120]}")
    hit = next((h for h in g.get("rules", []) if h["rule"] == s["rule"]), None)
    if not hit:
        problems.append(f"rule {s['rule']} did not fire (rules: {[h['rule'] for h in g.get('rules', [])]})")
    else:
        text = hit_text(hit)
        detail = f"predicted: {text}"
        if hit.get("needed_target") is not True or hit.get("needed_recorded") is not False:
            problems.append(f"needed recorded {hit.get('needed_recorded')}, target {hit.get('needed_target')}: {text}")
        if hit.get("check_observed"):
            problems.append("a check was observed: the gate was not open")
        if s["recorded"] not in text:
            problems.append(f"value {s['recorded']!r} not in {text!r}")
        if not hit.get("remedy"):
            problems.append("no remedy")
    return problems, detail


def check_not_predicted(rec, strict, s):
    """(problems, detail) of a scenario that must not predict: recorded with the
    gate open, CAPABILITY is neither recommended as recorded nor predicted by
    RULE under LIFT, and the report does not say the facts were missing (a
    recording without them predicts nothing, which would pass vacuously)."""
    problems = []
    f = find_cap(rec, s["cap"])
    if f and f.get("recommended"):
        problems.append(f"{s['cap']} recommended as recorded: {f['category']}: {f['reason'][:120]}")
    for rep in (rec, strict):
        for n in rep.get("notes", []):
            if n.startswith("No ") and "facts were recorded" in n:
                problems.append(f"facts missing: {n[:160]}")
    g = find_cap(strict, s["cap"])
    if g and (g.get("predicted") or g.get("recommended")):
        problems.append(f"under {' '.join(s['lift'])}: {g['category']}, predicted {g.get('predicted')}: "
                        f"{g['reason'][:120]}")
    hit = next((h for h in (g or {}).get("rules", []) if h["rule"] == s["rule"]), None)
    if hit and hit.get("needed_target") is True:
        problems.append(f"rule {s['rule']} says needed under {' '.join(s['lift'])}: {hit_text(hit)}")
    return problems, f"not predicted under {' '.join(s['lift'])}"


def check(results, kernel, s, analyze, rule_frames):
    """(problems, detail) for scenario S on KERNEL."""
    base = os.path.join(results, kernel, "rules", s["name"])
    try:
        rc = open(base + ".rc").read().strip()
    except OSError:
        return ["not run"], ""
    log = open(base + ".log", errors="replace").read() if os.path.exists(base + ".log") else ""
    if rc == "nosysctl":
        return [f"cannot run here: {log.strip().splitlines()[0] if log.strip() else 'a sysctl is missing'}"], ""
    if rc != "0":
        return [f"recorder exit {rc}: {log.strip().splitlines()[-1] if log.strip() else ''}"], ""
    trace = base + ".trace"
    try:
        rec = report(analyze, trace, [])
        lifted = report(analyze, trace, s["lift"])
    except (RuntimeError, ValueError, OSError) as e:
        return [str(e)], ""
    if s["frame"] == "predicted":
        return check_predicted(rec, lifted, s)
    if s["frame"] == "not_predicted":
        return check_not_predicted(rec, lifted, s)
    problems = []
    f = find_cap(rec, s["cap"])
    if not f:
        return [f"no {s['cap']} finding"], ""
    if f["category"] != "conditional":
        problems.append(f"{s['cap']} is {f['category']}: {f['reason'][:120]}")
    hit = next((h for h in f.get("rules", []) if h["rule"] == s["rule"]), None)
    detail = ""
    if not hit:
        problems.append(f"rule {s['rule']} did not fire (rules: {[h['rule'] for h in f.get('rules', [])]}, "
                        f"paths: {[p['frames'][:4] for p in f.get('call_paths', [])][:3]})")
    else:
        text = hit_text(hit)
        detail = f"{text} @ {hit.get('frame')}"
        if hit.get("needed_recorded") is not True:
            problems.append(f"needed_recorded {hit.get('needed_recorded')}: {text}")
        if not hit.get("check_observed"):
            problems.append("check not observed")
        if s["recorded"] not in text:
            problems.append(f"recorded value {s['recorded']!r} not in {text!r}")
        frames = rule_frames.get(s["rule"])
        if frames and hit.get("frame") not in frames:
            problems.append(f"frame {hit.get('frame')} not one of {sorted(frames)}")
        if hit.get("frame") not in s["frame"].split(","):
            problems.append(f"decided in {hit.get('frame')}, expected {s['frame']}")
        if not hit.get("remedy"):
            problems.append("no remedy")
    if not f.get("recommended"):
        problems.append("not recommended")
    g = find_cap(lifted, s["cap"])
    if not g:
        problems.append(f"no {s['cap']} finding under {' '.join(s['lift'])}")
    elif g["category"] != "not_needed" or g.get("recommended"):
        problems.append(f"under {' '.join(s['lift'])}: {g['category']}: {g['reason'][:120]}")
    else:
        detail += f"; not_needed under {' '.join(s['lift'])}"
    return problems, detail


def rule_frames_of(conf):
    """{rule: set of the kernel functions its `check =` names}."""
    out, rule = {}, None
    with open(conf) as f:
        for line in f:
            line = line.strip()
            if line.startswith("[rule "):
                rule = line[6:-1].strip()
            elif line.startswith("[") or not line:
                continue
            elif rule and line.startswith("check"):
                out[rule] = {x.strip() for x in line.split("=", 1)[1].split(",")}
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", required=True)
    p.add_argument("--rules", required=True)
    p.add_argument("--analyze", required=True)
    p.add_argument("--rules-conf", required=True, help="analyze/data/sysctl_rules.conf")
    p.add_argument("kernels", nargs="+")
    a = p.parse_args()
    scenarios = read_rules(a.rules)
    frames = rule_frames_of(a.rules_conf)
    rows, failures = [], 0
    for kernel in a.kernels:
        for s in scenarios:
            problems, detail = check(a.results, kernel, s, a.analyze, frames)
            failures += bool(problems)
            rows.append([kernel, s["name"], s["rule"], "FAIL" if problems else "ok",
                         "; ".join(problems) if problems else detail])
    header = ["kernel", "scenario", "rule", "result", "detail"]
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]
    for r in [header] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4][:200])
    print(f"\n{len(rows)} rule scenarios, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
