#include "record/drain/event_decode.h"

#include <linux/types.h>

#include <cstring>
#include <string>

#include "bpf/capaudit.h"

namespace capaudit::record {
namespace {

// The BPF object is compiled by clang for the bpf target: pin the layout the
// C++ side assumes, so a drifting field shows up at build time.
static_assert(sizeof(capaudit_event_hdr) == 24);
static_assert(offsetof(capaudit_cap_event, stack) % 8 == 0);
static_assert(sizeof(capaudit_check_ctx) == 8 * (6 + CAPAUDIT_CTX_USER_WORDS + CAPAUDIT_CTX_STATE) + 16);
static_assert(sizeof(capaudit_ustack_frame) == 32);  // struct bpf_stack_build_id
static_assert(offsetof(capaudit_ustack_frame, offset_or_ip) == 24);
static_assert(sizeof(capaudit_ustack) == 8 + 8 * CAPAUDIT_MAX_USTACK_DEPTH + 32 * CAPAUDIT_MAX_USTACK_DEPTH + 48);
static_assert(sizeof(capaudit_cap_event) ==
              24 + 32 + 8 * CAPAUDIT_MAX_STACK_DEPTH + sizeof(capaudit_check_ctx) + sizeof(capaudit_ustack));
static_assert(CAPAUDIT_CTX_STATE == static_cast<int>(common::StateSlot::count));
static_assert(sizeof(capaudit_fork_event) == 24 + 24);
static_assert(sizeof(capaudit_exec_event) % 8 == 0);
static_assert(sizeof(capaudit_op_event) == 24 + 72);
static_assert(CAPAUDIT_OP_MLOCK == static_cast<int>(common::OpKind::mlock) &&
              CAPAUDIT_OP_OPEN_SENSITIVE == static_cast<int>(common::OpKind::open_sensitive) &&
              CAPAUDIT_OP_SETPRIORITY == static_cast<int>(common::OpKind::setpriority) &&
              CAPAUDIT_OP_PTRACE_ATTACH == static_cast<int>(common::OpKind::ptrace_attach) &&
              CAPAUDIT_OP_SET_PIPE_SIZE == static_cast<int>(common::OpKind::set_pipe_size) &&
              CAPAUDIT_OP_LINK == static_cast<int>(common::OpKind::link));
static_assert(sizeof(capaudit_syscall_op_event) == 24 + 32 + sizeof(capaudit_check_ctx));

template <typename T>
std::optional<T> read_as(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(T)) return std::nullopt;
  T out;
  std::memcpy(&out, bytes.data(), sizeof(T));
  return out;
}

std::string bounded_string(const char* p, size_t max) { return std::string(p, strnlen(p, max)); }

// An operation fact of KIND in syscall NR, as the record's header places it.
common::OperationFact operation_at(const capaudit_event_hdr& h, uint32_t kind, int32_t nr) {
  common::OperationFact f;
  f.time_ns = h.time_ns;
  f.pid = h.pid;
  f.tid = h.tid;
  f.kind = static_cast<common::OpKind>(kind);
  f.syscall_nr = nr;
  return f;
}

// The context the kernel side read (at a check, or at a syscall's exit) into F.
void put_context(const capaudit_check_ctx& c, common::OperationFact& f) {
  f.uid = c.euid;
  f.gid = c.egid;
  f.args.assign(std::begin(c.args), std::end(c.args));
  const size_t words = c.user_words < CAPAUDIT_CTX_USER_WORDS ? c.user_words : CAPAUDIT_CTX_USER_WORDS;
  f.user_words.assign(c.user, c.user + words);
  // The link slots only when a link fact filled them: other facts keep the
  // size they had before 1.9.
  size_t slots = common::kContextStateSlots;
  for (size_t i = slots; i < CAPAUDIT_CTX_STATE; ++i)
    if (c.state[i] != CAPAUDIT_STATE_UNSET) slots = CAPAUDIT_CTX_STATE;
  f.state.assign(c.state, c.state + slots);
}

common::ExecEvent decode_exec(const capaudit_exec_event& e) {
  common::ExecEvent x;
  x.time_ns = e.hdr.time_ns;
  x.pid = e.hdr.pid;
  x.tid = e.hdr.tid;
  x.old_tid = e.old_tid;
  x.start_time_ns = e.start_time_ns;
  x.filename = bounded_string(e.filename, sizeof(e.filename));
  size_t len = e.args_len < sizeof(e.args) ? e.args_len : sizeof(e.args);
  size_t pos = 0;
  while (pos < len) {
    size_t n = strnlen(e.args + pos, len - pos);
    x.argv.emplace_back(e.args + pos, n);
    pos += n + 1;
  }
  x.argv_truncated = e.args_truncated != 0;
  x.uid = e.uid;
  x.gid = e.gid;
  x.euid = e.euid;
  x.egid = e.egid;
  x.caps = {e.cap_effective, e.cap_permitted, e.cap_inheritable, e.cap_bounding, e.cap_ambient};
  x.cgroup_id = e.cgroup_id;
  x.userns_inum = e.userns_inum;
  x.netns_inum = e.netns_inum;
  return x;
}

}  // namespace

std::optional<size_t> event_size(std::span<const uint8_t> bytes) {
  auto hdr = read_as<capaudit_event_hdr>(bytes);
  if (!hdr || hdr->size < sizeof(capaudit_event_hdr) || hdr->size > bytes.size()) return std::nullopt;
  return hdr->size;
}

std::optional<DecodedEvent> decode_event(std::span<const uint8_t> record) {
  auto hdr = read_as<capaudit_event_hdr>(record);
  if (!hdr || hdr->size > record.size()) return std::nullopt;
  switch (hdr->type) {
    case CAPAUDIT_EV_CAP: {
      constexpr size_t fixed = offsetof(capaudit_cap_event, stack);
      if (record.size() < fixed) return std::nullopt;
      capaudit_cap_event e;
      std::memcpy(&e, record.data(), fixed);
      DecodedCheck d;
      d.check.time_ns = e.hdr.time_ns;
      d.check.pid = e.hdr.pid;
      d.check.tid = e.hdr.tid;
      d.check.cap = e.cap;
      d.check.granted = (e.flags & CAPAUDIT_CAP_GRANTED) != 0;
      d.unsampled = (e.flags & CAPAUDIT_CAP_UNSAMPLED) != 0;
      d.check.syscall_nr = e.syscall_nr;
      d.check.opts = e.opts;
      d.check.target_userns_inum = e.target_userns_inum;
      d.synthesized = (e.flags & CAPAUDIT_CAP_SYNTHESIZED) != 0;
      d.untimed = (e.flags & CAPAUDIT_CAP_UNTIMED) != 0;
      if (e.flags & CAPAUDIT_CAP_CRED_OVERRIDE) {
        d.check.checked_cred = (e.flags & CAPAUDIT_CAP_CRED_FOREIGN) ? common::CheckedCred::foreign
                                                                      : common::CheckedCred::derived;
        d.check.checked_euid = e.checked_euid;
      }
      size_t frames = e.stack_bytes / sizeof(uint64_t);
      if (frames > CAPAUDIT_MAX_STACK_DEPTH || record.size() < fixed + frames * sizeof(uint64_t))
        return std::nullopt;
      // The ring buffer hands out 8-byte aligned records and `stack` sits at an
      // 8-byte offset, so the frames can be viewed in place.
      d.stack = {reinterpret_cast<const uint64_t*>(record.data() + fixed), frames};
      if (e.flags & CAPAUDIT_CAP_HAS_CTX) {
        constexpr size_t at = offsetof(capaudit_cap_event, ctx);
        if (record.size() < at + sizeof(capaudit_check_ctx)) return std::nullopt;
        capaudit_check_ctx c;
        std::memcpy(&c, record.data() + at, sizeof(c));
        common::OperationFact f;
        f.time_ns = d.check.time_ns;
        f.pid = d.check.pid;
        f.tid = d.check.tid;
        f.kind = common::OpKind::cap_check;
        f.syscall_nr = d.check.syscall_nr;
        f.cap = d.check.cap;
        f.granted = d.check.granted;
        put_context(c, f);
        d.context = std::move(f);
      }
      if (e.flags & CAPAUDIT_CAP_HAS_USTACK) {
        constexpr size_t at = offsetof(capaudit_cap_event, ustack);
        if (record.size() < at + sizeof(capaudit_ustack)) return std::nullopt;
        // Large: read in place (the record is 8-byte aligned, ustack too).
        const auto* u = reinterpret_cast<const capaudit_ustack*>(record.data() + at);
        RawUserStack raw;
        if (u->ip_bytes < 0) {
          raw.ips_error = u->ip_bytes;
        } else {
          const size_t n = static_cast<size_t>(u->ip_bytes) / sizeof(uint64_t);
          if (n > CAPAUDIT_MAX_USTACK_DEPTH) return std::nullopt;
          raw.ips.assign(u->ip, u->ip + n);
        }
        if (u->id_bytes < 0) {
          raw.named_error = u->id_bytes;
        } else {
          const size_t n = static_cast<size_t>(u->id_bytes) / sizeof(capaudit_ustack_frame);
          if (n > CAPAUDIT_MAX_USTACK_DEPTH) return std::nullopt;
          for (size_t i = 0; i < n; ++i) {
            const auto& f = u->id[i];
            KernelNamedFrame k;
            k.status = f.status == CAPAUDIT_STACK_BUILD_ID_VALID ? KernelNamedFrame::Status::valid
                       : f.status == CAPAUDIT_STACK_BUILD_ID_IP  ? KernelNamedFrame::Status::ip
                                                                 : KernelNamedFrame::Status::empty;
            std::memcpy(k.build_id.data(), f.build_id, k.build_id.size());
            k.offset_or_ip = f.offset_or_ip;
            raw.named.push_back(k);
          }
        }
        if (u->leaf_flags & CAPAUDIT_LEAF_READ) {
          RawLeaf leaf;
          leaf.word = u->leaf_word;
          if (u->leaf_flags & CAPAUDIT_LEAF_CODE) leaf.code = u->leaf_code;
          if (u->leaf_flags & CAPAUDIT_LEAF_VMA) {
            leaf.vma = RawLeaf::Vma{u->leaf_vm_start, u->leaf_vm_end, u->leaf_vm_pgoff,
                                    (u->leaf_flags & CAPAUDIT_LEAF_VMA_EXEC) != 0, (u->leaf_flags & CAPAUDIT_LEAF_VMA_FILE) != 0};
          }
          leaf.vma_error = u->leaf_vma_err;
          raw.leaf = leaf;
        }
        d.user_stack = std::move(raw);
      }
      return d;
    }
    case CAPAUDIT_EV_FORK: {
      auto e = read_as<capaudit_fork_event>(record);
      if (!e) return std::nullopt;
      return common::ForkEvent{e->hdr.time_ns, e->hdr.pid, e->hdr.tid, e->child_pid, e->child_tid,
                               e->is_thread != 0, e->child_start_time_ns};
    }
    case CAPAUDIT_EV_EXEC: {
      if (record.size() < sizeof(capaudit_exec_event)) return std::nullopt;
      // Large: decode from the record in place rather than copying it to the stack.
      auto* e = reinterpret_cast<const capaudit_exec_event*>(record.data());
      return decode_exec(*e);
    }
    case CAPAUDIT_EV_EXIT: {
      auto e = read_as<capaudit_exit_event>(record);
      if (!e) return std::nullopt;
      return common::ExitEvent{e->hdr.time_ns, e->hdr.pid, e->hdr.tid, e->exit_code, e->group_dead != 0};
    }
    case CAPAUDIT_EV_OUTCOME: {
      auto e = read_as<capaudit_outcome_event>(record);
      if (!e) return std::nullopt;
      return common::SyscallOutcome{e->hdr.time_ns, e->hdr.pid, e->hdr.tid, e->syscall_nr, e->ret};
    }
    case CAPAUDIT_EV_CAPSET: {
      auto e = read_as<capaudit_capset_event>(record);
      if (!e) return std::nullopt;
      const auto& c = e->cred;
      common::CapsetEvent out{e->hdr.time_ns, e->hdr.pid, e->hdr.tid, c.effective, c.permitted, c.inheritable,
                              common::CapsetSource::cred_change, c.ambient,
                              common::CredIds{c.uid, c.euid, c.gid, c.egid}};
      return out;
    }
    case CAPAUDIT_EV_OP: {
      auto e = read_as<capaudit_op_event>(record);
      if (!e) return std::nullopt;
      common::OperationFact f = operation_at(e->hdr, e->kind, e->syscall_nr);
      f.a0 = e->a0;
      f.a1 = e->a1;
      f.a2 = e->a2;
      f.a3 = e->a3;
      f.uid = e->uid;
      f.gid = e->gid;
      if (e->has_ret) f.ret = e->ret;
      if (e->port_start != CAPAUDIT_STATE_UNSET) {
        f.state.assign(common::kContextStateSlots, common::kStateUnset);
        f.state[static_cast<size_t>(common::StateSlot::port_start)] = e->port_start;
      }
      return f;
    }
    case CAPAUDIT_EV_SYSCALL_OP: {
      auto e = read_as<capaudit_syscall_op_event>(record);
      if (!e) return std::nullopt;
      // Only the kinds the kernel side takes at syscall exit (bind and socket
      // come as CAPAUDIT_EV_OP, cap_check with its check).
      if (e->kind > 0xff || !common::taken_at_exit(static_cast<common::OpKind>(e->kind))) return std::nullopt;
      common::OperationFact f = operation_at(e->hdr, e->kind, e->syscall_nr);
      f.a0 = e->a0;
      f.a1 = e->a1;
      // A link fact comes from inside its syscall (may_linkat()): no return value yet.
      if (e->kind != CAPAUDIT_OP_LINK) f.ret = e->ret;
      put_context(e->ctx, f);
      return f;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace capaudit::record
