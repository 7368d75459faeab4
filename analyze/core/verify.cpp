#include "analyze/core/verify.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "analyze/core/catalogue.h"
#include "analyze/core/quote.h"
#include "common/capabilities.h"
#include "common/syscalls.h"

namespace capaudit::analyze {

namespace {

// A container engine's or runtime's own work (classify.cpp's rule): never the program's.
bool runtime_image(const ProcessAgg& p) {
  return (p.joined && p.exe.empty()) || p.runtime;
}

bool own_credentials(const CheckAgg& c) {
  return c.cred == common::CheckedCred::own || c.cred == common::CheckedCred::derived;
}

// A check the noise catalogue calls advisory (by its call path, or by
// capability and syscall when it has no stack): not an operation to cover.
bool advisory(const RunAggregate& run, const CheckAgg& c) {
  const Catalogue& cat = builtin_catalogue();
  if (c.stack_id != 0) {
    auto it = run.stacks.find(c.stack_id);
    if (it != run.stacks.end()) return cat.match(c.cap, it->second) != nullptr;
  }
  return cat.match_fallback(c.cap, c.syscall_nr, run.header.arch) != nullptr;
}

// How the reader sees an operation's program: its path, or words for one the trace does not name.
std::string program_text(const std::string& exe) { return exe.empty() ? "(program not named by the trace)" : exe; }

std::string cap_text(int cap) {
  return common::cap_name(cap, common::CapNameStyle::upper);
}

std::string caps_text(CapMask m) {
  std::string out;
  for (int c = 0; c < 64; ++c)
    if (has_cap(m, c)) out += (out.empty() ? "" : ", ") + cap_text(c);
  return out.empty() ? "no capabilities" : out;
}

std::string end_text(int32_t status) {
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

std::string errors_text(const std::vector<int64_t>& errors) {
  if (errors.empty()) return "EPERM or EACCES";
  std::string out;
  for (int64_t e : errors) out += (out.empty() ? "" : "/") + errno_text(e);
  return out;
}

std::string problem_text(const VerifyProblem& p) {
  switch (p.kind) {
    case VerifyProblemKind::not_started:
      return "the command did not start" + (p.detail.empty() ? std::string() : " (" + visible(p.detail) + ")");
    case VerifyProblemKind::no_exit_status: return "the trace does not say how the command ended";
    case VerifyProblemKind::exit_status: {
      std::string expected;
      for (int32_t s : p.expected_status) expected += (expected.empty() ? "" : " or ") + end_text(s);
      return "the command " + (p.status ? end_text(*p.status) : std::string("ended unrecorded")) +
             "; the original run " + expected;
    }
    case VerifyProblemKind::denied_failure:
      return cap_text(p.failure.cap) + " was denied and " + p.failure.syscall + "() then failed with " +
             errors_text(p.failure.errors) + " (x" + std::to_string(p.failure.failed) + ", " +
             visible(program_text(p.failure.executable)) + ")";
    case VerifyProblemKind::more_than_granted:
      return "the program had " + caps_text(p.extra) + " beyond the set after exec: this run does not test the set";
    case VerifyProblemKind::operation_missing:
      return "operation not performed: " + cap_text(p.operation.cap) + " in " + p.operation.syscall + "() (" +
             visible(program_text(p.operation.executable)) + " did it in the original run)";
  }
  return "unknown";
}

std::string operations_text(const std::vector<VerifyOperation>& ops) {
  std::string out;
  for (const auto& op : ops) out += (out.empty() ? "" : ", ") + cap_text(op.cap) + " in " + op.syscall + "()";
  return out.empty() ? "none" : out;
}

}  // namespace

std::string errno_text(int64_t ret) {
  if (ret >= 0) return "succeeded";
  const int err = static_cast<int>(-ret);
  if (-ret < 4096) {
    if (const char* name = strerrorname_np(err)) return name;
  }
  return "error " + std::to_string(-ret);
}

const char* to_string(VerifyProblemKind k) {
  switch (k) {
    case VerifyProblemKind::not_started: return "not_started";
    case VerifyProblemKind::exit_status: return "exit_status";
    case VerifyProblemKind::denied_failure: return "denied_failure";
    case VerifyProblemKind::operation_missing: return "operation_missing";
    case VerifyProblemKind::no_exit_status: return "no_exit_status";
    case VerifyProblemKind::more_than_granted: return "more_than_granted";
  }
  return "unknown";
}

RunFacts run_facts(const RunAggregate& run, const std::vector<std::string>& incomplete) {
  RunFacts f;
  f.path = run.path;
  f.incomplete_reasons = incomplete;
  f.complete = incomplete.empty() && run.read.status == common::ReadStatus::complete;
  if (run.has_header) {
    f.kernel_release = run.header.kernel_release;
    f.hostname = run.header.hostname;
    f.boot_id = run.header.boot_id;
    f.realtime_ns = run.header.clock_realtime_ns;
  }
  if (run.trailer) {
    f.stop_reason = run.trailer->stop_reason;
    if (run.trailer->target_exit_status) {
      f.command_mode = true;
      f.exit_status = *run.trailer->target_exit_status;
    }
  }
  f.started = !run.processes.empty();
  std::map<std::pair<int, int32_t>, VerifyOperation> ops;
  std::map<std::tuple<int, int32_t, std::string>, DeniedFailure> failures;
  const std::string arch = run.has_header ? run.header.arch : std::string();
  for (const auto& p : run.processes) {
    if (runtime_image(p)) continue;
    if (p.ids_known) f.euids.insert(p.euid);
    if (p.from_exec && p.caps) f.permitted_after_exec = f.permitted_after_exec.value_or(0) | p.caps->permitted;
    for (const auto& c : p.checks) {
      if (!own_credentials(c)) continue;
      if (c.granted && advisory(run, c)) {
        f.advisory_checks += c.count;
        continue;
      }
      if (c.granted) {
        auto& op = ops[{c.cap, c.syscall_nr}];
        if (op.count == 0) {
          op.cap = c.cap;
          op.syscall_nr = c.syscall_nr;
          op.syscall = c.syscall_nr < 0 ? "(no syscall)" : common::syscall_name(c.syscall_nr, arch);
          op.executable = p.exe;
        }
        op.count += c.count;
        continue;
      }
      auto& d = f.denials[c.cap];
      if (c.outcome_untracked) {
        d.not_tracked += c.count;
        continue;
      }
      const auto out = std::find_if(p.outcomes.begin(), p.outcomes.end(),
                                    [&](const OutcomeAgg& o) { return o.syscall_nr == c.syscall_nr; });
      if (out == p.outcomes.end()) {
        d.no_outcome += c.count;
        continue;
      }
      // The outcomes are per syscall of this process image: every denied
      // check in that syscall shares them.
      d.failed += out->counts.failed;
      d.succeeded_anyway += out->counts.succeeded_anyway;
      d.interrupted += out->counts.interrupted;
      d.other_error += out->counts.other_error;
      const uint64_t lost = out->counts.failed + out->counts.other_error;
      if (lost == 0) continue;
      auto& df = failures[{c.cap, c.syscall_nr, p.exe}];
      df.cap = c.cap;
      df.syscall_nr = c.syscall_nr;
      df.syscall = c.syscall_nr < 0 ? "(no syscall)" : common::syscall_name(c.syscall_nr, arch);
      df.executable = p.exe;
      df.failed += lost;
      for (int64_t e : out->errors)
        if (std::find(df.errors.begin(), df.errors.end(), e) == df.errors.end()) df.errors.push_back(e);
    }
  }
  for (auto& [key, op] : ops) f.operations.push_back(std::move(op));
  for (auto& [key, df] : failures) {
    // Outcomes are counted once per syscall, not once per denied check in it.
    f.failures.push_back(std::move(df));
  }
  return f;
}

std::vector<VerifyOperation> operations_to_cover(const std::vector<RunFacts>& originals, CapMask granted) {
  std::map<std::pair<int, int32_t>, VerifyOperation> ops;
  for (const auto& o : originals)
    for (const auto& op : o.operations) {
      if (!has_cap(granted, op.cap)) continue;
      auto [it, fresh] = ops.emplace(std::make_pair(op.cap, op.syscall_nr), op);
      if (!fresh) it->second.count += op.count;
    }
  std::vector<VerifyOperation> out;
  for (auto& [key, op] : ops) out.push_back(std::move(op));
  return out;
}

RunJudgement judge_run(std::string label, CapMask granted, RunFacts rerun, const std::vector<RunFacts>& originals,
                       const std::vector<VerifyOperation>& operations) {
  RunJudgement j;
  j.label = std::move(label);
  j.granted = granted;
  if (!rerun.started) {
    VerifyProblem p;
    p.kind = VerifyProblemKind::not_started;
    p.detail = rerun.stop_reason.rfind("error: ", 0) == 0 ? rerun.stop_reason.substr(7) : rerun.stop_reason;
    j.problems.push_back(p);
  }
  if (rerun.permitted_after_exec && (*rerun.permitted_after_exec & ~granted) != 0) {
    VerifyProblem p;
    p.kind = VerifyProblemKind::more_than_granted;
    p.extra = *rerun.permitted_after_exec & ~granted;
    j.problems.push_back(p);
  }
  for (const auto& df : rerun.failures) {
    VerifyProblem p;
    p.kind = VerifyProblemKind::denied_failure;
    p.failure = df;
    j.problems.push_back(p);
  }
  std::vector<int32_t> expected;
  for (const auto& o : originals)
    if (o.exit_status && std::find(expected.begin(), expected.end(), *o.exit_status) == expected.end())
      expected.push_back(*o.exit_status);
  if (!expected.empty()) {
    if (!rerun.exit_status) {
      VerifyProblem p;
      p.kind = VerifyProblemKind::no_exit_status;
      j.problems.push_back(p);
    } else if (std::find(expected.begin(), expected.end(), *rerun.exit_status) == expected.end()) {
      VerifyProblem p;
      p.kind = VerifyProblemKind::exit_status;
      p.expected_status = expected;
      p.status = rerun.exit_status;
      j.problems.push_back(p);
    }
  }
  for (const auto& op : operations) {
    const bool done = std::any_of(rerun.operations.begin(), rerun.operations.end(), [&](const VerifyOperation& r) {
      return r.cap == op.cap && r.syscall_nr == op.syscall_nr;
    });
    if (done) continue;
    VerifyProblem p;
    p.kind = VerifyProblemKind::operation_missing;
    p.operation = op;
    j.problems.push_back(p);
  }
  j.facts = std::move(rerun);
  return j;
}

bool VerifyResult::passed() const {
  if (original_failed || rerun.broke()) return false;
  return std::all_of(minimize.begin(), minimize.end(), [](const CapEvidence& e) { return e.shown_needed(); });
}

std::string render_verify_text(const VerifyResult& r) {
  std::ostringstream o;
  const std::string runtime = r.runtime.empty() || r.runtime == "host" ? "" : " under " + r.runtime;
  if (r.original_failed) {
    o << "Verify: NOT VERIFIED: the recorded run itself failed, so its recommendation proves nothing\n"
      << "  (capaudit-analyze report says why; record a run that works, then verify)\n";
    return o.str();
  }
  const bool minimized_ok =
      std::all_of(r.minimize.begin(), r.minimize.end(), [](const CapEvidence& e) { return e.shown_needed(); });
  if (!r.rerun.broke()) {
    o << "Verify: PASSED: " << caps_text(r.granted) << " for " << r.account << runtime << " works\n";
  } else {
    o << "Verify: FAILED: " << caps_text(r.granted) << " for " << r.account << runtime
      << ": the re-run did not work as the original\n";
  }
  if (r.granted != r.recommended)
    o << "  (the set given with --caps; the traces recommend " << caps_text(r.recommended) << ")\n";
  for (const auto& p : r.rerun.problems) o << "  " << problem_text(p) << "\n";
  // The missing capabilities, named once each.
  CapMask missing = 0;
  for (const auto& p : r.rerun.problems)
    if (p.kind == VerifyProblemKind::denied_failure) missing |= cap_bit(p.failure.cap);
  if (missing) o << "  Missing: " << caps_text(missing) << "\n";
  const auto& f = r.rerun.facts;
  std::string euids;
  for (uint32_t id : f.euids) euids += (euids.empty() ? "" : ", ") + std::to_string(id);
  o << "  Re-run: " << (euids.empty() ? std::string() : "ran as euid " + euids + "; ")
    << (f.exit_status ? "the command " + end_text(*f.exit_status) : std::string("no exit status")) << "; "
    << r.operations.size() << " operation(s) of the original to cover, "
    << (r.operations.size() - static_cast<size_t>(std::count_if(r.rerun.problems.begin(), r.rerun.problems.end(),
                                                                [](const VerifyProblem& p) {
                                                                  return p.kind == VerifyProblemKind::operation_missing;
                                                                })))
    << " performed; " << f.failures.size() << " denied operation(s) failed\n";
  o << "  Operations: " << operations_text(r.operations) << "\n";
  uint64_t harmless = 0;
  for (const auto& [cap, d] : f.denials) harmless += d.succeeded_anyway;
  if (harmless) {
    o << "  Denied but harmless (the syscall succeeded anyway):";
    for (const auto& [cap, d] : f.denials)
      if (d.succeeded_anyway) o << " " << cap_text(cap) << " x" << d.succeeded_anyway;
    o << "\n";
  }
  if (!r.minimize.empty()) {
    o << "\nMinimize: each capability left out once\n";
    for (const auto& e : r.minimize) {
      o << "  " << e.name << std::string(e.name.size() < 24 ? 24 - e.name.size() : 1, ' ');
      if (e.shown_needed()) {
        o << "needed: without it\n";
        for (const auto& p : e.without.problems) o << "      - " << problem_text(p) << "\n";
        continue;
      }
      o << "NOT SHOWN TO BE NEEDED: without it the command "
        << (e.without.facts.exit_status ? end_text(*e.without.facts.exit_status) : std::string("ended unrecorded"))
        << " like the original and no denied operation failed";
      auto d = e.without.facts.denials.find(e.cap);
      if (d == e.without.facts.denials.end() || d->second.total() == 0) {
        o << "; it was not even checked";
      } else {
        o << "; its " << d->second.total() << " denied check(s): " << d->second.succeeded_anyway
          << " syscall(s) succeeded anyway";
        if (d->second.interrupted) o << ", " << d->second.interrupted << " interrupted";
        if (d->second.no_outcome + d->second.not_tracked)
          o << ", " << (d->second.no_outcome + d->second.not_tracked) << " without a recorded outcome";
      }
      o << " (trace: " << visible(e.without.facts.path) << ")\n";
    }
    if (!minimized_ok)
      o << "  A capability not shown to be needed stays in the set until a run shows what it is for\n"
           "  (a code path this run did not take) or you remove it knowingly.\n";
  }
  o << "\nProven: the command, re-run as " << r.account << runtime << " with exactly " << caps_text(r.granted) << ", "
    << (r.rerun.broke() ? "did not work the same" : "worked the same") << " on kernel "
    << (f.kernel_release.empty() ? std::string("?") : visible(f.kernel_release)) << " (" << visible(f.hostname)
    << ").\n"
    << "Not proven: code paths neither run took (error handling, other inputs), other kernels or\n"
       "sysctl values, and what the command does after the recording ends.\n";
  if (!r.complete) o << "INCOMPLETE INPUT: a trace lost events or was damaged; the verdict covers what was recorded\n";
  return o.str();
}

std::string render_verify_json(const VerifyResult& r) {
  using Json = nlohmann::ordered_json;
  auto caps = [](CapMask m) {
    Json a = Json::array();
    for (int c = 0; c < 64; ++c)
      if (has_cap(m, c)) a.push_back(cap_text(c));
    return a;
  };
  auto utf8 = [](const std::string& s) { return utf8_or_replacement(s); };
  auto problems = [&](const RunJudgement& j) {
    Json a = Json::array();
    for (const auto& p : j.problems) {
      Json e{{"kind", to_string(p.kind)}, {"text", utf8(problem_text(p))}};
      if (p.kind == VerifyProblemKind::denied_failure) {
        e["capability"] = cap_text(p.failure.cap);
        e["syscall"] = p.failure.syscall;
        Json errs = Json::array();
        for (int64_t x : p.failure.errors) errs.push_back(errno_text(x));
        e["errors"] = errs;
      }
      a.push_back(e);
    }
    return a;
  };
  const auto& f = r.rerun.facts;
  Json j;
  j["verify_schema_version"] = "1.0";
  j["passed"] = r.passed();
  j["rerun_passed"] = !r.original_failed && !r.rerun.broke();
  j["runtime"] = r.runtime.empty() ? "host" : r.runtime;
  j["granted"] = caps(r.granted);
  j["recommended"] = caps(r.recommended);
  j["account"] = utf8(r.account);
  j["started_realtime_ns"] = f.realtime_ns;
  j["kernel_release"] = utf8(f.kernel_release);
  j["hostname"] = utf8(f.hostname);
  j["boot_id"] = utf8(f.boot_id);
  j["command"] = utf8(r.command_line);
  j["complete"] = r.complete;
  j["original_failed"] = r.original_failed;
  Json ops = Json::array();
  for (const auto& op : r.operations) ops.push_back({{"capability", cap_text(op.cap)}, {"syscall", op.syscall}});
  j["operations"] = ops;
  j["problems"] = problems(r.rerun);
  Json mins = Json::array();
  for (const auto& e : r.minimize)
    mins.push_back({{"capability", e.name}, {"shown_needed", e.shown_needed()}, {"breaks", problems(e.without)}});
  j["minimize"] = mins;
  return j.dump(2) + "\n";
}

}  // namespace capaudit::analyze
