#!/usr/bin/env python3
"""Proves compare.py fails on each kind of difference the matrix must catch."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402

EXPECT = {
    "native": [("auto", "tp_btf", None), ("fexit", "refused", {"setuid"})],
    "6.1": [("auto", "fexit", None), ("kprobe", "kprobe", None), ("tp_btf", "refused", {"other"})],
}
OPTS = [("setuid", "cap_setuid", 4)]
INLINED = [({"6.1"}, {"fexit", "kprobe"}, {"cap_vm_enough_memory", "security_vm_enough_memory_mm"})]


def summary(hook, caps, opts_available=None, attempts=(), status="complete"):
    if opts_available is None:
        opts_available = hook != "tp_btf"
    return {
        "status": status, "message": "", "kernel_release": "x", "hook": hook,
        "opts_available": opts_available, "ringbuf_drops": 0,
        "hook_attempts": [{"hook": h, "used": False, "reason": r} for h, r in attempts],
        "caps": caps,
    }


def cap(granted=1, denied=0, opts=(0,), paths=()):
    return {"granted": granted, "denied": denied, "syscalls": [105], "opts": list(opts), "paths": list(paths)}


VM_PATH = ["cap_capable+0x83", "security_vm_enough_memory_mm+0x36", "__mmap_region+0xd51"]
SYSADMIN_PATH = ["cap_capable+0x83", "security_capable+0x3b", "__x64_sys_sethostname+0x2a"]


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name
        native = {"cap_setuid": cap()}
        self.put("native", "setuid", "auto", summary("tp_btf", native))
        self.put("native", "setuid", "fexit", None, rc=1, log="fexit refused: EPERM (bpf trampolines)\n")
        self.put("6.1", "setuid", "auto", summary("fexit", {"cap_setuid": cap(opts=[4])},
                                                   attempts=[("tp_btf", "tracepoint absent")]))
        self.put("6.1", "setuid", "kprobe", summary("kprobe", {"cap_setuid": cap(opts=[4])}))

    def tearDown(self):
        self.dir.cleanup()

    def put_report(self, kernel, scenario, hook, recommended):
        with open(os.path.join(self.root, kernel, f"{scenario}.{hook}.report.json"), "w") as f:
            json.dump({"schema_version": "1.0", "recommended": recommended}, f)

    def put(self, kernel, scenario, hook, data, rc=0, log=""):
        d = os.path.join(self.root, kernel)
        os.makedirs(d, exist_ok=True)
        base = os.path.join(d, f"{scenario}.{hook}")
        with open(base + ".rc", "w") as f:
            f.write(f"{rc}\n")
        with open(base + ".log", "w") as f:
            f.write(log)
        if data is None:
            if os.path.exists(base + ".json"):
                os.remove(base + ".json")
        else:
            with open(base + ".json", "w") as f:
                json.dump(data, f)

    def failures(self):
        rows, failures = compare.evaluate(self.root, ["native", "6.1"], ["setuid"], EXPECT, OPTS, INLINED)
        self.assertEqual(len(rows), 4)
        return failures, {(r[0], r[2]): r for r in rows}

    def test_identical_runs_pass(self):
        failures, rows = self.failures()
        self.assertEqual(failures, 0, rows)
        self.assertIn("EPERM", rows[("native", "fexit")][6])

    def test_extra_capability_fails(self):
        self.put("6.1", "setuid", "kprobe", summary("kprobe", {"cap_setuid": cap(opts=[4]), "cap_chown": cap()}))
        failures, rows = self.failures()
        self.assertEqual(failures, 1)
        self.assertIn("differs from native", rows[("6.1", "kprobe")][6])

    def test_denied_instead_of_granted_fails(self):
        self.put("6.1", "setuid", "auto", summary("fexit", {"cap_setuid": cap(granted=0, denied=1, opts=[4])}))
        failures, _ = self.failures()
        self.assertEqual(failures, 1)

    def test_wrong_hook_fails(self):
        self.put("6.1", "setuid", "kprobe", summary("fexit", {"cap_setuid": cap(opts=[4])}))
        failures, rows = self.failures()
        self.assertEqual(failures, 1)
        self.assertIn("expected kprobe", rows[("6.1", "kprobe")][6])

    def test_refusal_without_message_fails(self):
        self.put("native", "setuid", "fexit", None, rc=1, log="error\n")
        failures, _ = self.failures()
        self.assertEqual(failures, 1)

    def test_hook_that_should_be_refused_but_records_fails(self):
        self.put("native", "setuid", "fexit", summary("fexit", {"cap_setuid": cap()}))
        failures, _ = self.failures()
        self.assertEqual(failures, 1)

    def test_missing_insetid_fails(self):
        self.put("6.1", "setuid", "kprobe", summary("kprobe", {"cap_setuid": cap(opts=[0])}))
        failures, rows = self.failures()
        self.assertEqual(failures, 1)
        self.assertIn("lack bit 4", rows[("6.1", "kprobe")][6])

    def test_opts_follow_btf_not_the_hook(self):
        with open(os.path.join(self.root, "6.1", "guest.env"), "w") as f:
            f.write("kernel_release=x\ncap_capable_btf=cred:PTR targ_ns:PTR cap:int\n")
        failures, rows = self.failures()
        self.assertEqual(failures, 2, rows)
        self.assertIn("BTF lacks opts", rows[("6.1", "kprobe")][6])
        self.put("6.1", "setuid", "auto", summary("fexit", {"cap_setuid": cap()}, opts_available=False))
        self.put("6.1", "setuid", "kprobe", summary("kprobe", {"cap_setuid": cap()}, opts_available=False))
        failures, rows = self.failures()
        self.assertEqual(failures, 0, rows)

    def test_opts_not_decoded_on_fexit_fails(self):
        self.put("6.1", "setuid", "auto", summary("fexit", {"cap_setuid": cap()}, opts_available=False))
        failures, _ = self.failures()
        self.assertEqual(failures, 1)

    def test_recorder_failure_and_missing_trace_fail(self):
        self.put("6.1", "setuid", "kprobe", None, rc=1)
        failures, rows = self.failures()
        self.assertEqual(failures, 1)
        self.assertIn("no readable trace", rows[("6.1", "kprobe")][6])
        self.assertIn("recorder exit 1, native 0", rows[("6.1", "kprobe")][6])

    def test_failing_command_must_fail_the_same_everywhere(self):
        self.put("native", "setuid", "auto", summary("tp_btf", {"cap_setuid": cap(granted=0, denied=1)}), rc=1)
        denied = {"cap_setuid": cap(granted=0, denied=1, opts=[4])}
        self.put("6.1", "setuid", "auto", summary("fexit", denied), rc=1)
        self.put("6.1", "setuid", "kprobe", summary("kprobe", denied), rc=0)
        failures, rows = self.failures()
        self.assertEqual(failures, 1, rows)
        self.assertIn("recorder exit 0, native 1", rows[("6.1", "kprobe")][6])

    def test_truncated_trace_fails(self):
        self.put("6.1", "setuid", "kprobe", summary("kprobe", {"cap_setuid": cap(opts=[4])}, status="truncated"))
        failures, _ = self.failures()
        self.assertEqual(failures, 1)

    def test_skipped_hook_runs_fail(self):
        missed = summary("kprobe", {"cap_setuid": cap(opts=[4])})
        missed["hook_misses"] = 2
        self.put("6.1", "setuid", "kprobe", missed)
        failures, rows = self.failures()
        self.assertEqual(failures, 1)
        self.assertIn("2 hook runs skipped", rows[("6.1", "kprobe")][6])

    def test_check_only_through_inlined_caller_is_excused_and_named(self):
        native = {"cap_setuid": cap(), "cap_sys_admin": cap(granted=3, paths=[VM_PATH])}
        self.put("native", "setuid", "auto", summary("tp_btf", native))
        failures, rows = self.failures()
        self.assertEqual(failures, 0, rows)
        self.assertIn("sys_admin via security_vm_enough_memory_mm", rows[("6.1", "kprobe")][6])

    def test_capability_also_reached_through_visible_caller_is_compared(self):
        native = {"cap_setuid": cap(), "cap_sys_admin": cap(granted=3, paths=[VM_PATH, SYSADMIN_PATH])}
        self.put("native", "setuid", "auto", summary("tp_btf", native))
        failures, _ = self.failures()
        self.assertEqual(failures, 2)

    def test_inlined_rule_applies_only_to_its_hooks(self):
        native = {"cap_setuid": cap(), "cap_sys_admin": cap(granted=3, paths=[VM_PATH])}
        self.put("native", "setuid", "auto", summary("tp_btf", native))
        fexit_only = [({"6.1"}, {"fexit"}, INLINED[0][2])]
        rows, failures = compare.evaluate(self.root, ["native", "6.1"], ["setuid"], EXPECT, OPTS, fexit_only)
        rows = {(r[0], r[2]): r for r in rows}
        self.assertEqual(failures, 1)
        self.assertEqual(rows[("6.1", "auto")][5], "ok")
        self.assertIn("differs from native", rows[("6.1", "kprobe")][6])

    def test_check_recorded_twice_fails_a_count_rule(self):
        rules = [("setuid", "cap_setuid")]
        rows, failures = compare.evaluate(self.root, ["native", "6.1"], ["setuid"], EXPECT, OPTS, INLINED, rules)
        self.assertEqual(failures, 0, rows)
        self.assertIn("cap_setuid x1", {(r[0], r[2]): r for r in rows}[("6.1", "kprobe")][6])
        self.put("6.1", "setuid", "kprobe", summary("kprobe", {"cap_setuid": cap(granted=2, opts=[4])}))
        rows, failures = compare.evaluate(self.root, ["native", "6.1"], ["setuid"], EXPECT, OPTS, INLINED, rules)
        self.assertEqual(failures, 1)
        self.assertIn("cap_setuid 2 granted/0 denied, native 1/0", {(r[0], r[2]): r for r in rows}[("6.1", "kprobe")][6])

    def test_missing_syscall_outcome_fails(self):
        native = summary("tp_btf", {"cap_setuid": cap(granted=0, denied=1)})
        native["outcomes"] = 1
        self.put("native", "setuid", "auto", native)
        guest = summary("kprobe", {"cap_setuid": cap(granted=0, denied=1, opts=[4])})
        guest["outcomes"] = 0
        self.put("6.1", "setuid", "kprobe", guest)
        self.put("6.1", "setuid", "auto", dict(guest, hook="fexit", outcomes=1))
        failures, rows = self.failures()
        self.assertEqual(failures, 1, rows)
        self.assertIn("syscall outcomes", rows[("6.1", "kprobe")][6])

    def test_missing_bind_fact_fails(self):
        native = summary("tp_btf", {"cap_setuid": cap()})
        native["operations"] = ["bind:2:80"]
        self.put("native", "setuid", "auto", native)
        guest = summary("kprobe", {"cap_setuid": cap(opts=[4])})
        self.put("6.1", "setuid", "kprobe", dict(guest, operations=[]))
        self.put("6.1", "setuid", "auto", dict(guest, hook="fexit", operations=["bind:2:80"]))
        failures, rows = self.failures()
        self.assertEqual(failures, 1, rows)
        self.assertIn("bind/socket facts [], native ['bind:2:80']", rows[("6.1", "kprobe")][6])

    def test_analyzer_recommendation_must_match(self):
        self.put_report("native", "setuid", "auto", ["CAP_SETUID"])
        self.put_report("6.1", "setuid", "auto", ["CAP_SETUID"])
        self.put_report("6.1", "setuid", "kprobe", [])
        failures, rows = self.failures()
        self.assertEqual(failures, 1, rows)
        self.assertIn("analyzer recommends -, native setuid", rows[("6.1", "kprobe")][6])
        self.assertTrue(rows[("6.1", "auto")][4].startswith("req:setuid"))

    def test_missing_reference_fails_every_kernel_row(self):
        self.put("native", "setuid", "auto", None, rc=1)
        failures, _ = self.failures()
        self.assertEqual(failures, 3)


if __name__ == "__main__":
    unittest.main()
