#!/usr/bin/env python3
"""Proves check_rules.py fails on each kind of wrong answer a rule scenario can give."""
import copy
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_rules  # noqa: E402

RULES = """# comment
yama | kernel.yama.ptrace_scope=1 | w ptrace | CAP_SYS_PTRACE | yama_ptrace | ptrace_scope: recorded 1 | kernel.yama.ptrace_scope=0 | yama_ptrace_access_check
"""
CONF = """[rule yama_ptrace]
check = yama_ptrace_access_check
capability = CAP_SYS_PTRACE
"""
# Stands in for capaudit-analyze: TRACE.json as recorded, TRACE.lifted.json with --sysctl.
FAKE_ANALYZER = """#!/usr/bin/env python3
import sys
trace = sys.argv[-1]
print(open(trace + (".lifted.json" if "--sysctl" in sys.argv else ".json")).read())
"""
GOOD = {"caps": [{"name": "CAP_SYS_PTRACE", "category": "conditional", "recommended": True, "reason": "r",
                  "rules": [{"rule": "yama_ptrace", "operation": "ptrace attach to pid 5",
                             "inputs": ["kernel.yama.ptrace_scope: recorded 1"], "needed_recorded": True,
                             "check_observed": True, "remedy": "make it a child",
                             "frame": "yama_ptrace_access_check"}], "call_paths": []}]}
LIFTED = {"caps": [{"name": "CAP_SYS_PTRACE", "category": "not_needed", "recommended": False, "reason": "r",
                    "rules": [], "call_paths": []}]}


class CheckRulesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name
        for name, text in (("rules", RULES), ("conf", CONF), ("analyze", FAKE_ANALYZER)):
            with open(os.path.join(self.root, name), "w") as f:
                f.write(text)
        os.chmod(os.path.join(self.root, "analyze"), 0o755)
        self.scenario = check_rules.read_rules(os.path.join(self.root, "rules"))[0]
        self.frames = check_rules.rule_frames_of(os.path.join(self.root, "conf"))

    def tearDown(self):
        self.dir.cleanup()

    def put(self, recorded=GOOD, lifted=LIFTED, rc="0", log=""):
        d = os.path.join(self.root, "6.1", "rules")
        os.makedirs(d, exist_ok=True)
        base = os.path.join(d, "yama")
        for suffix, text in ((".rc", rc), (".log", log), (".trace", "x"),
                             (".trace.json", json.dumps(recorded)), (".trace.lifted.json", json.dumps(lifted))):
            with open(base + suffix, "w") as f:
                f.write(text)

    def check(self):
        return check_rules.check(self.root, "6.1", self.scenario, os.path.join(self.root, "analyze"), self.frames)

    def test_parses_the_line(self):
        self.assertEqual(self.scenario["cap"], "cap_sys_ptrace")
        self.assertEqual(self.scenario["lift"], ["kernel.yama.ptrace_scope=0"])
        self.assertEqual(self.frames["yama_ptrace"], {"yama_ptrace_access_check"})

    def test_a_good_scenario_passes(self):
        self.put()
        problems, detail = self.check()
        self.assertEqual(problems, [])
        self.assertIn("not_needed under kernel.yama.ptrace_scope=0", detail)

    def test_required_instead_of_conditional_fails(self):
        bad = copy.deepcopy(GOOD)
        bad["caps"][0]["category"] = "required"
        self.put(recorded=bad)
        self.assertTrue(any("is required" in p for p in self.check()[0]))

    def test_rule_that_did_not_fire_fails(self):
        bad = copy.deepcopy(GOOD)
        bad["caps"][0]["rules"] = []
        self.put(recorded=bad)
        self.assertTrue(any("did not fire" in p for p in self.check()[0]))

    def test_another_deciding_frame_fails(self):
        bad = copy.deepcopy(GOOD)
        bad["caps"][0]["rules"][0]["frame"] = "__do_sys_ptrace"
        self.put(recorded=bad)
        self.assertTrue(any("decided in __do_sys_ptrace" in p for p in self.check()[0]))

    def test_another_recorded_value_fails(self):
        bad = copy.deepcopy(GOOD)
        bad["caps"][0]["rules"][0]["inputs"] = ["kernel.yama.ptrace_scope: recorded 2"]
        self.put(recorded=bad)
        self.assertTrue(any("recorded value" in p for p in self.check()[0]))

    def test_not_needed_at_the_recorded_value_fails(self):
        bad = copy.deepcopy(GOOD)
        bad["caps"][0]["rules"][0]["needed_recorded"] = False
        self.put(recorded=bad)
        self.assertTrue(any("needed_recorded False" in p for p in self.check()[0]))

    def test_still_needed_under_the_lifting_values_fails(self):
        self.put(lifted=GOOD)
        self.assertTrue(any("under kernel.yama.ptrace_scope=0: conditional" in p for p in self.check()[0]))

    def test_a_kernel_without_the_sysctl_fails_and_says_why(self):
        self.put(rc="nosysctl", log="no /proc/sys/kernel/yama/ptrace_scope on 6.1.0\n")
        self.assertEqual(self.check()[0], ["cannot run here: no /proc/sys/kernel/yama/ptrace_scope on 6.1.0"])

    def test_a_failed_recording_fails(self):
        self.put(rc="1", log="capaudit-record: boom\n")
        self.assertTrue(self.check()[0][0].startswith("recorder exit 1"))

    def test_a_scenario_that_never_ran_fails(self):
        self.assertEqual(self.check()[0], ["not run"])

    # FRAME "predicted": recorded with the gate open, the stricter LIFT predicts it.
    def predicted_scenario(self):
        s = dict(self.scenario, frame="predicted", recorded="recorded 0, target 1")
        return s

    def test_a_good_prediction_passes(self):
        strict = copy.deepcopy(GOOD)
        strict["caps"][0].update(predicted=True)
        strict["caps"][0]["rules"][0].update(needed_recorded=False, needed_target=True, check_observed=False,
                                             inputs=["kernel.yama.ptrace_scope: recorded 0, target 1"])
        self.put(recorded={"caps": []}, lifted=strict)
        problems, detail = check_rules.check(self.root, "6.1", self.predicted_scenario(),
                                             os.path.join(self.root, "analyze"), self.frames)
        self.assertEqual(problems, [])
        self.assertIn("predicted:", detail)

    def test_a_prediction_that_is_not_predicted_or_needed_as_recorded_fails(self):
        # the checks' own conditional finding (GOOD) is no prediction, and it is needed as recorded
        self.put(recorded=GOOD, lifted=GOOD)
        problems, _ = check_rules.check(self.root, "6.1", self.predicted_scenario(),
                                        os.path.join(self.root, "analyze"), self.frames)
        self.assertTrue(any("recommended as recorded" in p for p in problems), problems)
        self.assertTrue(any("predicted None" in p for p in problems), problems)
        self.assertTrue(any("a check was observed" in p for p in problems), problems)

    # FRAME "not_predicted": the stricter LIFT must not predict it.
    def not_predicted_scenario(self):
        return dict(self.scenario, frame="not_predicted", recorded="-")

    def check_not_predicted(self):
        return check_rules.check(self.root, "6.1", self.not_predicted_scenario(), os.path.join(self.root, "analyze"),
                                 self.frames)[0]

    def test_nothing_predicted_passes(self):
        self.put(recorded={"caps": []}, lifted={"caps": []})
        self.assertEqual(self.check_not_predicted(), [])

    def test_a_prediction_where_none_is_due_fails(self):
        strict = copy.deepcopy(GOOD)
        strict["caps"][0].update(predicted=True)
        strict["caps"][0]["rules"][0].update(needed_recorded=False, needed_target=True, check_observed=False)
        self.put(recorded={"caps": []}, lifted=strict)
        problems = self.check_not_predicted()
        self.assertTrue(any("predicted True" in p for p in problems), problems)
        self.assertTrue(any("says needed" in p for p in problems), problems)

    def test_nothing_predicted_because_facts_were_missing_fails(self):
        missing = {"caps": [], "notes": ["No link facts were recorded in run1 (run1: unavailable: ...): ..."]}
        self.put(recorded={"caps": []}, lifted=missing)
        self.assertTrue(any("facts missing" in p for p in self.check_not_predicted()))


if __name__ == "__main__":
    unittest.main()
