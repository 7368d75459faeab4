#!/usr/bin/env python3
"""Compares the kernel matrix's recordings and prints kernel x scenario x hook.

Input: RESULTS/<kernel>/<scenario>.<hook>.{json,rc,log} where .json is the
output of capaudit-trace-summary for the trace (absent if no trace was made).
The reference for every scenario is the native run with hook "auto". A row
fails when the hook outcome differs from the expectation file, when a
recording that should have worked did not, when its capabilities (granted and
denied) differ from the reference, or when an expected opts bit is missing.
Exit status 0 only if every row passed.
"""
import argparse
import json
import os
import sys


def read_table(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if line:
                rows.append(line)
    return rows


def load_run(results, kernel, scenario, hook):
    base = os.path.join(results, kernel, f"{scenario}.{hook}")
    run = {"rc": None, "log": "", "summary": None}
    try:
        with open(base + ".rc") as f:
            run["rc"] = int(f.read().strip() or "-1")
    except (OSError, ValueError):
        pass
    try:
        with open(base + ".log", errors="replace") as f:
            run["log"] = f.read()
    except OSError:
        pass
    try:
        with open(base + ".json") as f:
            run["summary"] = json.load(f)
    except (OSError, ValueError):
        pass
    run["recommended"] = None
    try:
        with open(base + ".report.json") as f:
            report = json.load(f)
        run["recommended"] = sorted(c.lower() for c in report.get("recommended", []))
    except (OSError, ValueError, AttributeError):
        pass
    return run


def cap_sets(summary):
    """(capabilities granted at least once, capabilities denied at least once)."""
    caps = summary.get("caps", {})
    granted = sorted(c for c, v in caps.items() if v.get("granted", 0) > 0)
    denied = sorted(c for c, v in caps.items() if v.get("denied", 0) > 0)
    return granted, denied


def kernel_has_opts(results, kernel):
    """Whether cap_capable() has an `opts` parameter per the kernel's BTF, as
    the run's guest.env records it (None if unknown)."""
    try:
        with open(os.path.join(results, kernel, "guest.env")) as f:
            for line in f:
                if line.startswith("cap_capable_btf="):
                    proto = line.split("=", 1)[1]
                    return None if "not in BTF" in proto or not proto.strip() else " opts:" in proto
    except OSError:
        pass
    return None


def frame_function(frame):
    """"security_capable+0x3b [mod]" -> "security_capable"."""
    return frame.split("+", 1)[0].split(" ", 1)[0]


def blind_caps(reference_summary, functions):
    """Capabilities whose every recorded native call path passes through one
    of FUNCTIONS: callers where the guest kernel inlined cap_capable(), so a
    hook on the function cannot see those checks. Returns {cap: caller}."""
    out = {}
    for cap, v in reference_summary.get("caps", {}).items():
        paths = v.get("paths", [])
        callers = []
        for path in paths:
            hit = [f for f in map(frame_function, path) if f in functions]
            if not hit:
                break
            callers.append(hit[0])
        else:
            if paths:
                out[cap] = sorted(set(callers))[0]
    return out


def without(caps, drop):
    return [c for c in caps if c not in drop]


def refusal_message(run, hook):
    """The recorder's own words about HOOK: from the trace's hook attempts, else its log."""
    s = run["summary"]
    if s:
        for a in s.get("hook_attempts", []):
            if a.get("hook") == hook and not a.get("used"):
                return a.get("reason", "")
    for line in run["log"].splitlines():
        if hook in line:
            return line.strip()
    return ""


def fmt_list(caps):
    if caps is None:
        return "(no report)"
    return ",".join(c.removeprefix("cap_") for c in caps) or "-"


def fmt_caps(granted, denied):
    text = ",".join(c.removeprefix("cap_") for c in granted) or "-"
    if denied:
        text += " denied:" + ",".join(c.removeprefix("cap_") for c in denied)
    return text


def check_counts(summary, reference, scenario, count_rules):
    """Problems for COUNT_RULES of SCENARIO: (granted, denied) of the
    capability must equal the native run's, so a check is neither lost nor
    recorded twice (e.g. a rebuilt one, docs/kernels.md "Blind spots")."""
    problems, seen = [], []
    for rule_scenario, cap in count_rules:
        if rule_scenario != scenario:
            continue
        def counts(s):
            v = s.get("caps", {}).get(cap, {})
            return v.get("granted", 0), v.get("denied", 0)
        got, want = counts(summary), counts(reference)
        if got != want:
            problems.append(f"{cap} {got[0]} granted/{got[1]} denied, native {want[0]}/{want[1]}")
        else:
            seen.append(f"{cap} x{sum(got)}")
    return problems, seen


def evaluate(results, kernels, scenarios, expect, opts_rules, inlined=(), count_rules=()):
    """Returns (rows, failures); each row is a list of table cells.
    INLINED: (kernels, hooks, functions) triples, see the expectation file.
    COUNT_RULES: (scenario, capability) pairs whose counts must be native's."""
    rows, failures = [], 0
    # The recorder exits with its command's status, so a scenario whose
    # operation fails on purpose (a denied check) has the same non-zero
    # status everywhere.
    reference, reference_summary, ref_rc, ref_recommended = {}, {}, {}, {}
    for scenario in scenarios:
        ref = load_run(results, "native", scenario, "auto")
        if ref["summary"] and ref["summary"].get("status") == "complete":
            reference[scenario] = cap_sets(ref["summary"])
            reference_summary[scenario] = ref["summary"]
            ref_rc[scenario] = ref["rc"]
            ref_recommended[scenario] = ref["recommended"]
    for kernel in kernels:
        for hook, outcome, subset in expect.get(kernel, []):
            for scenario in scenarios:
                if subset and scenario not in subset:
                    continue
                run = load_run(results, kernel, scenario, hook)
                s = run["summary"]
                used = s.get("hook") if s else None
                problems, caps_cell, note = [], "", ""
                if outcome == "refused":
                    if s and used == hook and run["rc"] == 0:
                        problems.append(f"{hook} was expected to be refused but recorded")
                    msg = refusal_message(run, hook)
                    if not msg:
                        problems.append("no message says why the hook was not used")
                    if used and used != hook:
                        note = f"fell back to {used}: {msg}"
                    else:
                        note = f"refused: {msg}"
                    if s and used and used != hook:
                        # A fallback recording must still see the same capabilities.
                        caps_cell = fmt_caps(*cap_sets(s))
                else:
                    if run["rc"] != ref_rc.get(scenario, 0):
                        problems.append(f"recorder exit {run['rc']}, native {ref_rc.get(scenario, 0)}")
                    if not s:
                        problems.append("no readable trace")
                    else:
                        if s.get("status") != "complete":
                            problems.append(f"trace {s.get('status')}: {s.get('message')}")
                        if used != outcome:
                            problems.append(f"trace says hook {used}, expected {outcome}")
                        if s.get("ringbuf_drops"):
                            problems.append(f"{s['ringbuf_drops']} ring-buffer drops")
                        if s.get("hook_misses"):
                            problems.append(f"{s['hook_misses']} hook runs skipped (recursion)")
                        granted, denied = cap_sets(s)
                        caps_cell = fmt_caps(granted, denied)
                        if run["recommended"] is not None:
                            caps_cell = "req:" + fmt_list(run["recommended"]) + " | " + caps_cell
                        if scenario not in reference:
                            problems.append("no native reference")
                        else:
                            functions = set()
                            for ks, hs, fs in inlined:
                                if kernel in ks and used in hs:
                                    functions |= fs
                            blind = blind_caps(reference_summary[scenario], functions)
                            ref_granted, ref_denied = reference[scenario]
                            if ((without(granted, blind), without(denied, blind)) !=
                                    (without(ref_granted, blind), without(ref_denied, blind))):
                                problems.append("differs from native " + fmt_caps(ref_granted, ref_denied))
                            elif (ref_recommended[scenario] is not None and
                                  without(run["recommended"] or [], blind) !=
                                  without(ref_recommended[scenario], blind)):
                                problems.append(f"analyzer recommends {fmt_list(run['recommended'])}, "
                                                f"native {fmt_list(ref_recommended[scenario])}")
                            elif bool(s.get("outcomes")) != bool(reference_summary[scenario].get("outcomes")):
                                problems.append(f"{s.get('outcomes')} syscall outcomes, native "
                                                f"{reference_summary[scenario].get('outcomes')}")
                            elif (set(s.get("operations", [])) !=
                                  set(reference_summary[scenario].get("operations", []))):
                                problems.append(f"bind/socket facts {sorted(s.get('operations', []))}, native "
                                                f"{sorted(reference_summary[scenario].get('operations', []))}")
                            elif (bool(s.get("check_contexts")) !=
                                  bool(reference_summary[scenario].get("check_contexts"))):
                                problems.append(f"{s.get('check_contexts', 0)} check contexts, native "
                                                f"{reference_summary[scenario].get('check_contexts', 0)}")
                            elif blind:
                                note = "unseen (cap_capable inlined): " + ", ".join(
                                    f"{c.removeprefix('cap_')} via {f}" for c, f in sorted(blind.items()))
                            count_problems, counted = check_counts(s, reference_summary[scenario], scenario,
                                                                   count_rules)
                            problems += count_problems
                            if counted and not count_problems:
                                note = "; ".join(x for x in [note] + counted if x)
                        # opts must follow the kernel's BTF (cap_capable's 4th
                        # parameter), read independently of the recorder.
                        btf_opts = kernel_has_opts(results, kernel)
                        want_opts = used in ("fexit", "kprobe") and btf_opts is not False
                        if bool(s.get("opts_available")) != want_opts:
                            problems.append(f"opts_available={s.get('opts_available')} with {used}, "
                                            f"BTF {'has' if btf_opts else 'lacks'} opts")
                        if s.get("opts_available"):
                            for rule_scenario, cap, bit in opts_rules:
                                if rule_scenario != scenario:
                                    continue
                                seen = s.get("caps", {}).get(cap, {}).get("opts", [])
                                if not any(o & bit for o in seen):
                                    problems.append(f"{cap} opts {seen} lack bit {bit}")
                                else:
                                    note = "; ".join(x for x in (note, f"{cap} opts={seen}") if x)
                        attempts = [a for a in s.get("hook_attempts", []) if not a.get("used")]
                        if hook == "auto" and attempts:
                            # The fallback proof: what the recorder said about the hooks it skipped.
                            note = "; ".join(x for x in [note] + [a["reason"] for a in attempts] if x)
                status = "FAIL" if problems else "ok"
                failures += bool(problems)
                rows.append([kernel, scenario, hook, used or "-", caps_cell or "-", status,
                             "; ".join(problems) if problems else note])
    return rows, failures


def print_table(rows, out=sys.stdout):
    header = ["kernel", "scenario", "hook", "used", "capabilities", "result", "detail"]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(6)]
    for r in [header] + rows:
        cells = [str(c).ljust(w) for c, w in zip(r[:6], widths)]
        print("  ".join(cells) + "  " + str(r[6])[:160], file=out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", required=True)
    p.add_argument("--scenarios", required=True)
    p.add_argument("--expect", required=True)
    p.add_argument("kernels", nargs="+", help="kernel names as in the expectation file")
    a = p.parse_args()
    scenarios = [r[0] for r in read_table(a.scenarios)]
    expect, opts_rules, inlined, count_rules = {}, [], [], []
    for r in read_table(a.expect):
        if r[0] == "count":
            count_rules.append((r[1], r[2]))
        elif r[0] == "inlined":
            inlined.append((set(r[1].split(",")), set(r[2].split(",")), set(r[3].split(","))))
        elif r[0] == "opts":
            opts_rules.append((r[1], r[2], int(r[3], 0)))
        else:
            subset = set(r[3].split(",")) if len(r) > 3 else None
            expect.setdefault(r[0], []).append((r[1], r[2], subset))
    missing = [k for k in a.kernels if k not in expect]
    if missing:
        print(f"no expectations for kernel(s) {missing}", file=sys.stderr)
        return 1
    rows, failures = evaluate(a.results, a.kernels, scenarios, expect, opts_rules, inlined, count_rules)
    print_table(rows)
    print(f"\n{len(rows)} runs, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
