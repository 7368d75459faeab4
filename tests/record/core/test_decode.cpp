// The ring-buffer decoder against hand-built records: every kind round-trips
// and malformed records are rejected instead of read out of bounds.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "bpf/capaudit.h"
#include "record/drain/event_decode.h"

namespace capaudit::record {
namespace {

template <typename T>
std::vector<uint8_t> bytes_of(const T& v, size_t size = sizeof(T)) {
  std::vector<uint8_t> out(size);
  std::memcpy(out.data(), &v, size);
  return out;
}

capaudit_event_hdr hdr(uint32_t type, uint32_t size) { return {type, 100, 101, size, 5555}; }

TEST(Decode, CapCheckWithoutStack) {
  capaudit_cap_event e{};
  const size_t small = offsetof(capaudit_cap_event, stack);
  e.hdr = hdr(CAPAUDIT_EV_CAP, small);
  e.cap = 10;
  e.syscall_nr = 49;
  e.flags = CAPAUDIT_CAP_GRANTED;
  e.target_userns_inum = 4026531837u;
  auto b = bytes_of(e, small);
  auto d = decode_event(b);
  ASSERT_TRUE(d);
  auto& c = std::get<DecodedCheck>(*d);
  EXPECT_EQ(c.check.pid, 100u);
  EXPECT_EQ(c.check.tid, 101u);
  EXPECT_EQ(c.check.time_ns, 5555u);
  EXPECT_EQ(c.check.cap, 10);
  EXPECT_EQ(c.check.syscall_nr, 49);
  EXPECT_TRUE(c.check.granted);
  EXPECT_EQ(c.check.target_userns_inum, 4026531837u);
  EXPECT_TRUE(c.stack.empty());
}

// Checks without a stack leave the kernel up to CAPAUDIT_BATCH_CHECKS per
// ring-buffer record, back to back.
TEST(Decode, ABatchRecordSplitsIntoItsEvents) {
  static_assert(offsetof(capaudit_cap_event, stack) == CAPAUDIT_CAP_SMALL_SIZE);
  std::vector<uint8_t> record;
  for (int i = 0; i < 3; ++i) {
    capaudit_cap_event e{};
    e.hdr = hdr(CAPAUDIT_EV_CAP, CAPAUDIT_CAP_SMALL_SIZE);
    e.hdr.time_ns = 1000 + i;
    e.cap = 7;
    auto b = bytes_of(e, CAPAUDIT_CAP_SMALL_SIZE);
    record.insert(record.end(), b.begin(), b.end());
  }
  std::vector<uint64_t> times;
  EXPECT_TRUE(for_each_event(record, [&](std::span<const uint8_t> ev) {
    auto d = decode_event(ev);
    ASSERT_TRUE(d);
    times.push_back(std::get<DecodedCheck>(*d).check.time_ns);
  }));
  EXPECT_EQ(times, (std::vector<uint64_t>{1000, 1001, 1002}));
}

TEST(Decode, ABatchRecordThatDoesNotSplitStopsAtTheDamage) {
  capaudit_cap_event e{};
  e.hdr = hdr(CAPAUDIT_EV_CAP, CAPAUDIT_CAP_SMALL_SIZE);
  auto good = bytes_of(e, CAPAUDIT_CAP_SMALL_SIZE);
  for (uint32_t bad_size : {0u, 8u, uint32_t{CAPAUDIT_CAP_SMALL_SIZE + 1}}) {
    std::vector<uint8_t> record = good;
    e.hdr.size = bad_size;  // too small to be an event, or past the record's end
    auto bad = bytes_of(e, CAPAUDIT_CAP_SMALL_SIZE);
    record.insert(record.end(), bad.begin(), bad.end());
    int seen = 0;
    EXPECT_FALSE(for_each_event(record, [&](std::span<const uint8_t>) { ++seen; })) << bad_size;
    EXPECT_EQ(seen, 1) << bad_size;
  }
  std::vector<uint8_t> short_tail = good;
  short_tail.resize(good.size() + 4);  // a few bytes, not a header
  int seen = 0;
  EXPECT_FALSE(for_each_event(short_tail, [&](std::span<const uint8_t>) { ++seen; }));
  EXPECT_EQ(seen, 1);
}

// A record as the kernel side writes it when it skips the clock for repeats:
// an untimed check has time 0, except the last of a record, which carries
// the time the batch was sent.
std::vector<uint8_t> batch_of(const std::vector<std::pair<uint64_t, bool>>& checks) {
  std::vector<uint8_t> record;
  for (auto [time, untimed] : checks) {
    capaudit_cap_event e{};
    e.hdr = hdr(CAPAUDIT_EV_CAP, CAPAUDIT_CAP_SMALL_SIZE);
    e.hdr.time_ns = time;
    e.cap = 7;
    e.flags = CAPAUDIT_CAP_GRANTED | (untimed ? CAPAUDIT_CAP_UNTIMED : 0);
    auto b = bytes_of(e, CAPAUDIT_CAP_SMALL_SIZE);
    record.insert(record.end(), b.begin(), b.end());
  }
  return record;
}

using Bounds = std::vector<std::pair<uint64_t, uint64_t>>;  // time, spread per check handed out

Bounds bounds_of(const std::vector<uint8_t>& record, uint64_t* errors) {
  Bounds got;
  *errors = decode_record(record, [&](DecodedEvent& d) {
    const auto& c = std::get<DecodedCheck>(d).check;
    got.emplace_back(c.time_ns, c.time_spread_ns);
  });
  return got;
}

TEST(Decode, AnUntimedRepeatLiesBetweenTheChecksAroundItThatCarryATime) {
  uint64_t errors = 0;
  // timed, two repeats, timed, two repeats ending the batch (the last carries the send time)
  auto got = bounds_of(batch_of({{1000, false}, {0, true}, {0, true}, {1500, false}, {0, true}, {1900, true}}), &errors);
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(got, (Bounds{{1000, 0}, {1000, 500}, {1000, 500}, {1500, 0}, {1500, 400}, {1500, 400}}));
}

TEST(Decode, AnUntimedCheckWithoutBothBoundsIsADecodeError) {
  uint64_t errors = 0;
  // No timed check before it.
  EXPECT_EQ(bounds_of(batch_of({{0, true}, {1200, false}}), &errors), (Bounds{{1200, 0}}));
  EXPECT_EQ(errors, 1u);
  // Nothing after it carries a time.
  EXPECT_EQ(bounds_of(batch_of({{1000, false}, {0, true}, {0, true}}), &errors), (Bounds{{1000, 0}}));
  EXPECT_EQ(errors, 2u);
  // A later time before the earlier one.
  EXPECT_EQ(bounds_of(batch_of({{1000, false}, {0, true}, {900, true}}), &errors), (Bounds{{1000, 0}}));
  EXPECT_EQ(errors, 2u);
  // A record that does not split counts once more.
  auto cut = batch_of({{1000, false}, {1100, true}});
  cut.resize(cut.size() - 4);
  EXPECT_EQ(bounds_of(cut, &errors), (Bounds{{1000, 0}}));
  EXPECT_EQ(errors, 1u);
}

TEST(Decode, CapCheckWithStackAndDenied) {
  capaudit_cap_event e{};
  e.hdr = hdr(CAPAUDIT_EV_CAP, sizeof(e));
  e.cap = 21;
  e.flags = CAPAUDIT_CAP_HAS_OPTS;
  e.opts = 2;
  e.stack_bytes = 3 * 8;
  e.stack[0] = 0xffffffff81000010;
  e.stack[1] = 0xffffffff81000020;
  e.stack[2] = 0xffffffff81000030;
  std::vector<uint64_t> aligned((sizeof(e) + 7) / 8);
  std::memcpy(aligned.data(), &e, sizeof(e));
  auto d = decode_event({reinterpret_cast<const uint8_t*>(aligned.data()), sizeof(e)});
  ASSERT_TRUE(d);
  auto& c = std::get<DecodedCheck>(*d);
  EXPECT_FALSE(c.check.granted);
  EXPECT_EQ(c.check.opts, 2u);
  ASSERT_EQ(c.stack.size(), 3u);
  EXPECT_EQ(c.stack[2], 0xffffffff81000030);
}

// CAPAUDIT_CAP_HAS_CTX: the check's context becomes a cap_check fact with
// the check's identity, the argument registers, the user words the kernel
// read and every state slot; a record cut before the context is damage.
TEST(Decode, CapCheckContextBecomesACapCheckFact) {
  capaudit_cap_event e{};
  e.hdr = hdr(CAPAUDIT_EV_CAP, sizeof(e));
  e.hdr.time_ns = 77;
  e.cap = 14;
  e.syscall_nr = 149;
  e.flags = CAPAUDIT_CAP_GRANTED | CAPAUDIT_CAP_HAS_CTX;
  e.stack_bytes = 8;
  e.stack[0] = 0xffffffff81000010;
  for (int i = 0; i < 6; ++i) e.ctx.args[i] = 100 + i;
  e.ctx.user[0] = 5;
  e.ctx.user_words = 2;
  for (int i = 0; i < CAPAUDIT_CTX_STATE; ++i) e.ctx.state[i] = CAPAUDIT_STATE_UNSET;
  e.ctx.state[static_cast<int>(common::StateSlot::memlock_soft)] = 8 << 20;
  e.ctx.euid = 1000;
  e.ctx.egid = 50;
  std::vector<uint64_t> aligned((sizeof(e) + 7) / 8);
  std::memcpy(aligned.data(), &e, sizeof(e));
  auto d = decode_event({reinterpret_cast<const uint8_t*>(aligned.data()), sizeof(e)});
  ASSERT_TRUE(d);
  auto& c = std::get<DecodedCheck>(*d);
  ASSERT_TRUE(c.context);
  const auto& f = *c.context;
  EXPECT_EQ(f.kind, common::OpKind::cap_check);
  EXPECT_EQ(f.time_ns, 77u);
  EXPECT_EQ(f.cap, 14);
  EXPECT_TRUE(f.granted);
  EXPECT_EQ(f.syscall_nr, 149);
  EXPECT_EQ(f.uid, 1000u);
  EXPECT_EQ(f.gid, 50u);
  EXPECT_EQ(f.args, (std::vector<int64_t>{100, 101, 102, 103, 104, 105}));
  EXPECT_EQ(f.user_words, (std::vector<int64_t>{5, 0}));
  EXPECT_EQ(f.state_at(common::StateSlot::memlock_soft), std::optional<int64_t>(8 << 20));
  EXPECT_EQ(f.state_at(common::StateSlot::locked_vm), std::nullopt);

  // without the flag there is no context, whatever the bytes say
  e.flags = CAPAUDIT_CAP_GRANTED;
  std::memcpy(aligned.data(), &e, sizeof(e));
  auto plain = decode_event({reinterpret_cast<const uint8_t*>(aligned.data()), sizeof(e)});
  ASSERT_TRUE(plain);
  EXPECT_FALSE(std::get<DecodedCheck>(*plain).context);

  // the flag on a record that ends before its context: a decode error
  e.flags = CAPAUDIT_CAP_GRANTED | CAPAUDIT_CAP_HAS_CTX;
  e.hdr.size = offsetof(capaudit_cap_event, ctx);
  std::memcpy(aligned.data(), &e, sizeof(e));
  EXPECT_FALSE(decode_event({reinterpret_cast<const uint8_t*>(aligned.data()), offsetof(capaudit_cap_event, ctx)}));
  // user_words past the array are bounded
  e.hdr.size = sizeof(e);
  e.ctx.user_words = 1000;
  std::memcpy(aligned.data(), &e, sizeof(e));
  auto big = decode_event({reinterpret_cast<const uint8_t*>(aligned.data()), sizeof(e)});
  ASSERT_TRUE(big);
  EXPECT_EQ(std::get<DecodedCheck>(*big).context->user_words.size(), size_t{CAPAUDIT_CTX_USER_WORDS});
}

TEST(Decode, BindFactCarriesItsNamespacesPortStart) {
  capaudit_op_event op{};
  op.hdr = hdr(CAPAUDIT_EV_OP, sizeof(op));
  op.kind = CAPAUDIT_OP_BIND;
  op.a1 = 80;
  op.port_start = 0;
  auto f = std::get<common::OperationFact>(*decode_event(bytes_of(op)));
  EXPECT_EQ(f.state_at(common::StateSlot::port_start), std::optional<int64_t>(0));
  op.port_start = CAPAUDIT_STATE_UNSET;
  f = std::get<common::OperationFact>(*decode_event(bytes_of(op)));
  EXPECT_TRUE(f.state.empty());
}

TEST(Decode, SynthesizedFlagIsKeptApartFromTheVerdict) {
  capaudit_cap_event e{};
  const size_t small = offsetof(capaudit_cap_event, stack);
  e.hdr = hdr(CAPAUDIT_EV_CAP, small);
  e.cap = 8;
  e.flags = CAPAUDIT_CAP_HAS_OPTS | CAPAUDIT_CAP_SYNTHESIZED;
  auto b = bytes_of(e, small);
  auto d = decode_event(b);
  ASSERT_TRUE(d);
  auto& c = std::get<DecodedCheck>(*d);
  EXPECT_TRUE(c.synthesized);
  EXPECT_FALSE(c.check.granted);
  EXPECT_EQ(c.check.opts, 0u);
  e.flags = CAPAUDIT_CAP_GRANTED;
  b = bytes_of(e, small);
  d = decode_event(b);
  ASSERT_TRUE(d);
  EXPECT_FALSE(std::get<DecodedCheck>(*d).synthesized);
  EXPECT_TRUE(std::get<DecodedCheck>(*d).check.granted);
}

TEST(Decode, BorrowedCredentialsAreKeptWithTheirEuid) {
  capaudit_cap_event e{};
  const size_t small = offsetof(capaudit_cap_event, stack);
  e.hdr = hdr(CAPAUDIT_EV_CAP, small);
  e.cap = 1;
  struct Case {
    uint32_t flags;
    common::CheckedCred expect;
  } cases[] = {{0, common::CheckedCred::own},
               {CAPAUDIT_CAP_CRED_OVERRIDE, common::CheckedCred::derived},
               {CAPAUDIT_CAP_CRED_OVERRIDE | CAPAUDIT_CAP_CRED_FOREIGN, common::CheckedCred::foreign}};
  for (const auto& k : cases) {
    e.flags = CAPAUDIT_CAP_GRANTED | k.flags;
    e.checked_euid = k.flags ? 1000 : 0;
    auto b = bytes_of(e, small);
    auto d = decode_event(b);
    ASSERT_TRUE(d);
    const auto& c = std::get<DecodedCheck>(*d).check;
    EXPECT_EQ(c.checked_cred, k.expect) << k.flags;
    EXPECT_EQ(c.checked_euid, k.flags ? 1000u : 0u);
    EXPECT_TRUE(c.granted);
  }
}

TEST(Decode, StackLongerThanTheRecordIsRejected) {
  capaudit_cap_event e{};
  const size_t small = offsetof(capaudit_cap_event, stack);
  e.hdr = hdr(CAPAUDIT_EV_CAP, small);
  e.stack_bytes = 8 * 8;  // claims frames the record does not carry
  auto b = bytes_of(e, small);
  EXPECT_FALSE(decode_event(b));
}

TEST(Decode, ExecSplitsArgvAndKeepsIdentity) {
  auto e = std::make_unique<capaudit_exec_event>();
  std::memset(e.get(), 0, sizeof(*e));
  e->hdr = hdr(CAPAUDIT_EV_EXEC, sizeof(*e));
  std::strcpy(e->filename, "/usr/bin/ping");
  const char args[] = "ping\0-c1\0" "127.0.0.1";
  std::memcpy(e->args, args, sizeof(args));
  e->args_len = sizeof(args);
  e->uid = 1000;
  e->euid = 0;
  e->cap_permitted = 1ull << 13;
  e->start_time_ns = 777;
  e->netns_inum = 4026531833u;
  auto d = decode_event(bytes_of(*e));
  ASSERT_TRUE(d);
  auto& x = std::get<common::ExecEvent>(*d);
  EXPECT_EQ(x.filename, "/usr/bin/ping");
  EXPECT_EQ(x.argv, (std::vector<std::string>{"ping", "-c1", "127.0.0.1"}));
  EXPECT_EQ(x.uid, 1000u);
  EXPECT_EQ(x.euid, 0u);
  EXPECT_EQ(x.caps.permitted, 1ull << 13);
  EXPECT_EQ(x.start_time_ns, 777u);
  EXPECT_EQ(x.netns_inum, 4026531833u);
}

TEST(Decode, ExecWithoutTerminatingNulStaysInBounds) {
  auto e = std::make_unique<capaudit_exec_event>();
  std::memset(e.get(), 'A', sizeof(*e));
  e->hdr = hdr(CAPAUDIT_EV_EXEC, sizeof(*e));
  e->args_len = 1u << 30;  // corrupt length: clamped to the buffer
  auto d = decode_event(bytes_of(*e));
  ASSERT_TRUE(d);
  auto& x = std::get<common::ExecEvent>(*d);
  EXPECT_EQ(x.filename.size(), sizeof(e->filename));
  ASSERT_EQ(x.argv.size(), 1u);
  EXPECT_EQ(x.argv[0].size(), sizeof(e->args));
}

TEST(Decode, OperationOutcomeCapsetForkExit) {
  capaudit_op_event op{};
  op.hdr = hdr(CAPAUDIT_EV_OP, sizeof(op));
  op.kind = CAPAUDIT_OP_BIND;
  op.a0 = 2;
  op.a1 = 80;
  op.ret = -13;
  op.has_ret = 1;
  auto f = std::get<common::OperationFact>(*decode_event(bytes_of(op)));
  EXPECT_EQ(f.kind, common::OpKind::bind);
  EXPECT_EQ(f.a1, 80);
  EXPECT_EQ(f.ret, -13);

  capaudit_outcome_event o{};
  o.hdr = hdr(CAPAUDIT_EV_OUTCOME, sizeof(o));
  o.syscall_nr = 49;
  o.ret = -1;
  auto so = std::get<common::SyscallOutcome>(*decode_event(bytes_of(o)));
  EXPECT_EQ(so.syscall_nr, 49);
  EXPECT_EQ(so.ret, -1);

  capaudit_capset_event cs{};
  cs.hdr = hdr(CAPAUDIT_EV_CAPSET, sizeof(cs));
  cs.cred.permitted = 0x3;
  cs.cred.euid = 65534;
  auto capset = std::get<common::CapsetEvent>(*decode_event(bytes_of(cs)));
  EXPECT_EQ(capset.permitted, 0x3u);
  EXPECT_EQ(capset.source, common::CapsetSource::cred_change);
  ASSERT_TRUE(capset.ids.has_value());
  EXPECT_EQ(capset.ids->euid, 65534u);

  capaudit_fork_event fk{};
  fk.hdr = hdr(CAPAUDIT_EV_FORK, sizeof(fk));
  fk.child_pid = 100;
  fk.child_tid = 102;
  fk.is_thread = 1;
  auto fe = std::get<common::ForkEvent>(*decode_event(bytes_of(fk)));
  EXPECT_TRUE(fe.is_thread);
  EXPECT_EQ(fe.child_tid, 102u);

  capaudit_exit_event ex{};
  ex.hdr = hdr(CAPAUDIT_EV_EXIT, sizeof(ex));
  ex.exit_code = 9;
  ex.group_dead = 1;
  auto xe = std::get<common::ExitEvent>(*decode_event(bytes_of(ex)));
  EXPECT_EQ(xe.exit_code, 9);
  EXPECT_TRUE(xe.group_dead);
}

// --facts sys_exit: an operation at its syscall's exit, with the context
// read there. A short record, or a kind the exit path never sends, is damage.
TEST(Decode, SyscallExitFactCarriesItsContext) {
  capaudit_syscall_op_event e{};
  e.hdr = hdr(CAPAUDIT_EV_SYSCALL_OP, sizeof(e));
  e.kind = CAPAUDIT_OP_OPEN_SENSITIVE;
  e.syscall_nr = 257;
  e.ret = 3;
  e.a0 = CAPAUDIT_FILE_KMSG;
  e.a1 = 0x8800;
  for (int i = 0; i < 6; ++i) e.ctx.args[i] = 10 + i;
  e.ctx.user_words = 0;
  for (int i = 0; i < CAPAUDIT_CTX_STATE; ++i) e.ctx.state[i] = CAPAUDIT_STATE_UNSET;
  e.ctx.state[static_cast<int>(common::StateSlot::locked_vm)] = 1024;
  e.ctx.euid = 1000;
  e.ctx.egid = 50;
  auto d = decode_event(bytes_of(e));
  ASSERT_TRUE(d);
  const auto& f = std::get<common::OperationFact>(*d);
  EXPECT_EQ(f.kind, common::OpKind::open_sensitive);
  EXPECT_EQ(f.pid, 100u);
  EXPECT_EQ(f.tid, 101u);
  EXPECT_EQ(f.time_ns, 5555u);
  EXPECT_EQ(f.syscall_nr, 257);
  EXPECT_EQ(f.ret, std::optional<int64_t>(3));
  EXPECT_EQ(f.a0, CAPAUDIT_FILE_KMSG);
  EXPECT_EQ(f.a1, 0x8800);
  EXPECT_EQ(f.uid, 1000u);
  EXPECT_EQ(f.gid, 50u);
  EXPECT_EQ(f.args, (std::vector<int64_t>{10, 11, 12, 13, 14, 15}));
  EXPECT_TRUE(f.user_words.empty());
  EXPECT_EQ(f.state_at(common::StateSlot::locked_vm), std::optional<int64_t>(1024));
  EXPECT_EQ(f.state_at(common::StateSlot::memlock_soft), std::nullopt);

  e.kind = CAPAUDIT_OP_SETPRIORITY;
  EXPECT_EQ(std::get<common::OperationFact>(*decode_event(bytes_of(e))).kind, common::OpKind::setpriority);
  // user_words past the array are bounded
  e.ctx.user_words = 1000;
  EXPECT_EQ(std::get<common::OperationFact>(*decode_event(bytes_of(e))).user_words.size(),
            size_t{CAPAUDIT_CTX_USER_WORDS});

  // damage: cut short, or a kind the exit path never sends
  auto b = bytes_of(e);
  EXPECT_FALSE(decode_event(std::span(b).first(sizeof(e) - 8)));
  for (uint32_t kind : {0u, uint32_t{CAPAUDIT_OP_BIND}, uint32_t{CAPAUDIT_OP_SOCKET}, 18u, 20u, 0xffffffffu}) {
    e.kind = kind;
    EXPECT_FALSE(decode_event(bytes_of(e))) << kind;
  }
}

// 1.9: a link fact (may_linkat()'s entry) carries the link slots and no
// return value (the syscall has not returned); other facts keep the seven
// slots they had. A record cut short is damage.
TEST(Decode, LinkFactCarriesTheSourceAndNoReturnValue) {
  using common::StateSlot;
  capaudit_syscall_op_event e{};
  e.hdr = hdr(CAPAUDIT_EV_SYSCALL_OP, sizeof(e));
  e.kind = CAPAUDIT_OP_LINK;
  e.syscall_nr = 86;  // link
  e.ret = 0;
  for (int i = 0; i < CAPAUDIT_CTX_STATE; ++i) e.ctx.state[i] = CAPAUDIT_STATE_UNSET;
  e.ctx.state[static_cast<int>(StateSlot::link_src_uid)] = 65534;
  e.ctx.state[static_cast<int>(StateSlot::link_src_gid)] = 65534;
  e.ctx.state[static_cast<int>(StateSlot::link_src_mode)] = 0104755;
  e.ctx.state[static_cast<int>(StateSlot::fsuid)] = 0;
  e.ctx.state[static_cast<int>(StateSlot::fsgid)] = 0;
  e.ctx.state[static_cast<int>(StateSlot::link_src_in_groups)] = 0;
  auto d = decode_event(bytes_of(e));
  ASSERT_TRUE(d);
  const auto& f = std::get<common::OperationFact>(*d);
  EXPECT_EQ(f.kind, common::OpKind::link);
  EXPECT_EQ(f.ret, std::nullopt);
  ASSERT_EQ(f.state.size(), static_cast<size_t>(StateSlot::count));
  EXPECT_EQ(f.state_at(StateSlot::link_src_mode), std::optional<int64_t>(0104755));
  EXPECT_EQ(f.state_at(StateSlot::link_src_uid), std::optional<int64_t>(65534));
  EXPECT_EQ(f.state_at(StateSlot::fsuid), std::optional<int64_t>(0));
  EXPECT_EQ(f.state_at(StateSlot::link_src_in_groups), std::optional<int64_t>(0));

  // Without the link slots (every other fact): the seven of 1.5..1.8.
  for (int i = common::kContextStateSlots; i < CAPAUDIT_CTX_STATE; ++i) e.ctx.state[i] = CAPAUDIT_STATE_UNSET;
  e.kind = CAPAUDIT_OP_SYSLOG;
  e.ret = 5;
  const auto g = std::get<common::OperationFact>(*decode_event(bytes_of(e)));
  EXPECT_EQ(g.state.size(), common::kContextStateSlots);
  EXPECT_EQ(g.ret, std::optional<int64_t>(5));

  auto b = bytes_of(e);
  EXPECT_FALSE(decode_event(std::span(b).first(sizeof(e) - 8 * 6)));  // the link slots cut off
}

TEST(Decode, ShortUnknownAndOversizedRecordsAreRejected) {
  capaudit_exit_event ex{};
  ex.hdr = hdr(CAPAUDIT_EV_EXIT, sizeof(ex));
  auto b = bytes_of(ex);
  EXPECT_FALSE(decode_event(std::span(b).first(sizeof(ex) - 1)));
  EXPECT_FALSE(decode_event(std::span(b).first(4)));
  ex.hdr.type = 99;
  EXPECT_FALSE(decode_event(bytes_of(ex)));
  ex.hdr = hdr(CAPAUDIT_EV_EXIT, sizeof(ex) + 1);  // claims more than it has
  EXPECT_FALSE(decode_event(bytes_of(ex)));
}

}  // namespace
}  // namespace capaudit::record
