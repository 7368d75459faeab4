# capaudit trace format, version 1.
#
# EVOLUTION RULES (read before editing; docs/trace-format.md has the long form)
# 1. Append only: a new field takes the next free ordinal (@N) of its struct, a
#    new enumerant the next free number, a new union variant the next free
#    ordinal. Never renumber, retype, rename-with-new-meaning or delete; a field
#    that is no longer written stays declared (write nothing into it).
# 2. Readers tolerate what they do not know: unknown fields are ignored by
#    Cap'n Proto, unknown enum values map to `unknown`, unknown Frame variants
#    are skipped. So adding things bumps formatMinor only.
# 3. formatMajor (and the preamble's container version) is bumped only when an
#    old reader must refuse the file because it would misread it.
# 4. Committed samples/ traces stay readable forever; never regenerate one.
#
# Layout reminder: the file is a 16-byte preamble, then zstd frames; each frame
# holds one message whose root is Frame (see docs/trace-format.md).
@0xe99e07a492dd59de;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("capaudit::schema");

struct Frame {
  union {
    header @0 :Header;
    processes @1 :ProcessSnapshot;
    batch @2 :EventBatch;
    trailer @3 :Trailer;
  }
}

enum Hook {
  unknown @0;
  tpBtf @1;
  fexit @2;
  kprobe @3;
}

enum TargetMode {
  unknown @0;
  command @1;
  pid @2;
  cgroup @3;
}

enum OpKind {
  unknown @0;
  bind @1;
  socket @2;
  ptraceAttach @3;
  perfEventOpen @4;
  bpf @5;
  ioUringSetup @6;
  userfaultfd @7;
  unshareUserns @8;
  mmapLow @9;
  link @10;
  setPipeSize @11;
  mqOpen @12;
  mlock @13;
  schedSetscheduler @14;
  setrlimit @15;
  syslog @16;
  openSensitive @17;
  capCheck @18;      # 1.5: the context of a capability check (OperationFact.cap, args, userWords, state)
  setpriority @19;   # 1.8: setpriority(), seen at its exit (--facts sys_exit)
}

struct KeyValue {
  key @0 :Text;
  value @1 :Text;
}

struct Rlimit {
  resource @0 :Int32;
  name @1 :Text;
  soft @2 :UInt64;   # UINT64_MAX = RLIM_INFINITY
  hard @3 :UInt64;
}

struct HookAttempt {
  hook @0 :Hook;
  used @1 :Bool;
  reason @2 :Text;
}

struct CapSets {
  effective @0 :UInt64;
  permitted @1 :UInt64;
  inheritable @2 :UInt64;
  bounding @3 :UInt64;
  ambient @4 :UInt64;
}

struct FileCaps {
  version @0 :UInt32;
  permitted @1 :UInt64;
  inheritable @2 :UInt64;
  effective @3 :Bool;
  rootid @4 :UInt32;
}

# The header is a set of feature sections, each printed by `capaudit-analyze info`.
struct Header {
  formatMajor @0 :UInt32;
  formatMinor @1 :UInt32;
  recorder @2 :RecorderSection;
  host @3 :HostSection;
  clock @4 :ClockSection;
  sysctls @5 :SysctlSection;
  hook @6 :HookSection;
  sampling @7 :SamplingSection;
  split @8 :SplitSection;  # 1.6: absent unless the recording was split into numbered files
}

# One recording written as numbered files (--split-size/--split-time), each a
# whole trace (header, batches, trailer); read together they are one run (1.6).
struct SplitSection {
  runId @0 :Text;    # the same in every piece of one recording
  piece @1 :UInt32;  # 1, 2, 3, ... in recording order
}

struct RecorderSection {
  version @0 :Text;
  argv @1 :List(Text);
  targetMode @2 :TargetMode;
  target @3 :Text;
  containers @4 :List(ContainerName);  # 1.6: the engine's names of the containers under the target cgroup
}

# 1.6: a container the recorder found under the traced cgroup, named by its
# engine (`podman inspect`, else `docker inspect`) while still privileged.
struct ContainerName {
  id @0 :Text;       # full id, as in the cgroup path (libpod-ID, docker-ID.scope, ...)
  name @1 :Text;     # "" when no engine knew the id
  engine @2 :Text;   # "podman", "docker" or ""
  cgroup @3 :Text;   # its cgroup path as the trace's exec events show it
}

struct HostSection {
  hostname @0 :Text;
  kernelRelease @1 :Text;
  kernelVersion @2 :Text;
  arch @3 :Text;
  bootId @4 :Text;
  lockdown @5 :Text;
  lsms @6 :List(Text);
  initUsernsInum @7 :UInt64;
  kernelConfig @8 :KernelConfig;  # 1.9: build-configuration symbols the rules read; absent before 1.9
}

# 1.9: the running kernel's build configuration, as far as the analyzer's
# rules read it (a short list of Kconfig symbols, record/host/context.cpp),
# from the kernel's own config file. No file read (source "") = unknown.
struct KernelConfig {
  source @0 :Text;              # the file read: /proc/config.gz or /boot/config-RELEASE; "" = none readable
  symbols @1 :List(KeyValue);   # CONFIG_NAME -> "y", "m", the text after '=' (quotes kept), "n" for
                                # "# CONFIG_NAME is not set", "absent" when the file does not name it
  missing @2 :Text;             # source "": why no file was read
}

# One pair of readings taken together: maps event times (BOOTTIME) to wall time.
struct ClockSection {
  boottimeNs @0 :UInt64;
  realtimeNs @1 :Int64;
}

struct SysctlSection {
  global @0 :List(KeyValue);
  netns @1 :List(KeyValue);
  targetNetnsInum @2 :UInt64;
  targetRlimits @3 :List(Rlimit);
}

struct HookSection {
  hook @0 :Hook;
  attempts @1 :List(HookAttempt);
  optsAvailable @2 :Bool;
  factsSource @3 :FactsSource;         # 1.2: where bind/socket facts come from
  outcomeTracking @4 :OutcomeTracking; # 1.2: when denied-syscall outcomes are tracked
  factsReason @5 :Text;                # 1.2: why the facts come from there
  credChanges @6 :Bool;                # 1.2: every credential change is recorded (CapsetEvent credChange)
  outcomeMechanism @7 :OutcomeMechanism; # 1.5: how denied-syscall outcomes are taken
  outcomeReason @8 :Text;              # 1.5: what starts it (which denials may), and why
  outcomeWindowNs @9 :UInt64;          # 1.6: inWindows: the quiet time (no further denial) that closes a window
  linkFacts @10 :Bool;                 # 1.9: link operation facts (may_linkat()) were recorded
  linkFactsReason @11 :Text;           # 1.9: how (fentry/kprobe on may_linkat), or why not
}

# How the return value of a syscall with a denied check is taken (1.5).
enum OutcomeMechanism {
  sysExit @0;   # the syscall-exit tracepoint: while attached, every syscall of every task on the
                # host takes the kernel's slow path (every trace before 1.5)
  none @1;      # outcomes off
}

# Where bind()/socket() operation facts come from (1.2).
enum FactsSource {
  sysExit @0;      # the syscall-exit tracepoint: every attempt, with its return value
  cgroupHooks @1;  # cgroup/bind4, bind6, sock_create on the root cgroup: no return value,
                   # and sockets the kernel refused before the hook (e.g. ping_group_range) are not seen
  none @2;
}

# When the return value of a syscall with a denied check is recorded (1.2).
enum OutcomeTracking {
  fromStart @0;        # the syscall-exit tracepoint is attached for the whole recording
  fromFirstDenial @1;  # attached once the first denied check arrives; see Trailer.outcomesFromNs
  off @2;
  inWindows @3;        # 1.6: attached on a denial, detached after HookSection.outcomeWindowNs without
                       # another; each window is in EventBatch.outcomeWindows
}

# One stretch of time with the syscall-exit tracepoint attached (1.6). A denied
# check inside [startNs, endNs) has its syscall's return value recorded; one
# outside every window has not. Written when the window opens (endNs 0) and
# again, complete, when it closes: a trace cut short still says it was open.
struct OutcomeWindow {
  startNs @0 :UInt64;        # tracepoint attached (BOOTTIME)
  endNs @1 :UInt64;          # detached; 0: still open when this record was written
  triggerTimeNs @2 :UInt64;  # the denied check that opened it (its own outcome is before startNs: not recorded)
  triggerPid @3 :UInt32;
  triggerTid @4 :UInt32;
  triggerCap @5 :Int32;
  triggerSyscall @6 :Int32;
  closedBy @7 :WindowEnd;
  denials @8 :UInt64;        # non-advisory denied checks the recorder saw inside it
}

enum WindowEnd {
  open @0;       # not closed (yet) when written
  quiet @1;      # no further denial for outcomeWindowNs
  recordingEnd @2;
}

struct SamplingSection {
  stacksPerKey @0 :UInt32;
  userStacks @1 :Bool;
  ringbufBytes @2 :UInt64;
  maxTasks @3 :UInt32;
  maxStacks @4 :UInt32;
  userStackDepth @5 :UInt32;  # 1.6: most user-space frames one stack may hold (0: none asked for)
  # 1.7: past stacksPerKey, a check whose call path is new to its key still
  # takes a stack, up to pathsPerKey distinct paths per key (0: off, every
  # trace before 1.7). A path is the pathFrames frames above the capability
  # hook; the first pathFreeChecks checks of a key past the budget are
  # compared, then the 2^k-th only.
  pathsPerKey @6 :UInt32;
  pathFrames @7 :UInt32;
  pathFreeChecks @8 :UInt32;
}

struct ProcessInfo {
  pid @0 :UInt32;
  ppid @1 :UInt32;
  startTimeNs @2 :UInt64;
  exe @3 :Text;
  argv @4 :List(Text);
  uid @5 :UInt32;
  gid @6 :UInt32;
  euid @7 :UInt32;
  egid @8 :UInt32;
  caps @9 :CapSets;
  fileCaps @10 :FileCaps;   # absent pointer = no file capabilities
  cgroup @11 :Text;
}

struct ProcessSnapshot {
  processes @0 :List(ProcessInfo);
}

# Capability checks, struct-of-lists. Hot loops repeat the same pid/tid/cap, so
# every column uses this rule:
#   length 0      -> every event has the default value (0, false; syscallNr -1)
#   length 1      -> every event has that one value
#   length count  -> one value per event
#   anything else -> corrupt
# Times are zigzag-encoded signed deltas (ring buffers from several CPUs can be
# slightly out of order): time[0] = timeBaseNs + d[0], time[i] = time[i-1] + d[i].
struct CapCheckColumns {
  count @0 :UInt32;
  timeBaseNs @1 :UInt64;
  timeDeltas @2 :List(UInt64);
  pid @3 :List(UInt32);
  tid @4 :List(UInt32);
  cap @5 :List(Int32);
  granted @6 :List(Bool);
  syscallNr @7 :List(Int32);
  opts @8 :List(UInt32);
  targetUsernsInum @9 :List(UInt64);
  stackId @10 :List(UInt32);

  # Since format 1.1: jittery time deltas as frame-of-reference byte planes,
  # which zstd compresses far better than mostly-zero 8-byte words. When
  # timeDeltaPlanes is non-empty, timeDeltas must be empty and
  #   d[i] = timeDeltaMin + u[i],  u[i] = sum over k < timeDeltaWidth of
  #          timeDeltaPlanes[k * count + i] << (8 * k)
  # (plane k holds byte k of every value). time[0] = timeBaseNs + d[0] as before.
  timeDeltaMin @11 :Int64;
  timeDeltaWidth @12 :UInt8;
  timeDeltaPlanes @13 :Data;

  # Since format 1.4: 0 (or no column) for a check whose time is its own;
  # for a repeat of the task's previous check whose clock the recorder did
  # not read, the check happened in [time, time + timeSpreadNs].
  timeSpreadNs @14 :List(UInt64);

  # Since format 1.5: whose credentials the check was made with, from the
  # hook's own `cred` argument compared with the task's real_cred:
  #   0 own      the task's own credentials (cred == task->real_cred)
  #   1 derived  another struct cred with the task's uid, user namespace and
  #              permitted set: built from the task's own, as access()/
  #              faccessat() does (access_override_creds)
  #   2 foreign  another struct cred whose uid, user namespace or permitted
  #              set differ from the task's: someone else's, e.g. the
  #              overlayfs mounter's (override_creds(ofs->creator_cred))
  # checkedEuid: that cred's euid (meaningful for 1 and 2).
  checkedCred @15 :List(UInt8);
  checkedEuid @16 :List(UInt32);

  # Since format 1.6: the check's user-space call path (UserStack.id); 0 = none.
  userStackId @17 :List(UInt32);
}

struct ForkEvent {
  timeNs @0 :UInt64;
  parentPid @1 :UInt32;
  parentTid @2 :UInt32;
  childPid @3 :UInt32;
  childTid @4 :UInt32;
  isThread @5 :Bool;
  childStartTimeNs @6 :UInt64;
}

struct ExecEvent {
  timeNs @0 :UInt64;
  pid @1 :UInt32;
  tid @2 :UInt32;
  oldTid @3 :UInt32;
  startTimeNs @4 :UInt64;
  filename @5 :Text;
  argv @6 :List(Text);
  argvTruncated @7 :Bool;
  uid @8 :UInt32;
  gid @9 :UInt32;
  euid @10 :UInt32;
  egid @11 :UInt32;
  caps @12 :CapSets;
  fileCaps @13 :FileCaps;   # absent pointer = no file capabilities
  cgroupId @14 :UInt64;
  cgroup @15 :Text;
  usernsInum @16 :UInt64;
  netnsInum @17 :UInt64;
}

struct ExitEvent {
  timeNs @0 :UInt64;
  pid @1 :UInt32;
  tid @2 :UInt32;
  exitCode @3 :Int32;
  groupDead @4 :Bool;
}

struct SyscallOutcome {
  timeNs @0 :UInt64;
  pid @1 :UInt32;
  tid @2 :UInt32;
  syscallNr @3 :Int32;
  ret @4 :Int64;
}

struct CapsetEvent {
  timeNs @0 :UInt64;
  pid @1 :UInt32;
  tid @2 :UInt32;
  effective @3 :UInt64;
  permitted @4 :UInt64;
  inheritable @5 :UInt64;
  source @6 :CapsetSource;  # 1.2
  ambient @7 :UInt64;       # 1.2, credChange only
  hasIds @8 :Bool;          # 1.2, credChange only: the ids below are set
  uid @9 :UInt32;
  euid @10 :UInt32;
  gid @11 :UInt32;
  egid @12 :UInt32;
}

enum CapsetSource {
  capsetSyscall @0;  # masks a successful capset() installed, seen at its syscall exit (1.0, 1.1)
  credChange @1;     # the thread's credentials differ from the last ones seen: noticed at its next
                     # capability check, fork or exit, so after the change and before any later check
}

struct OperationFact {
  timeNs @0 :UInt64;
  pid @1 :UInt32;
  tid @2 :UInt32;
  kind @3 :OpKind;
  syscallNr @4 :Int32;
  a0 @5 :Int64;
  a1 @6 :Int64;
  a2 @7 :Int64;
  a3 @8 :Int64;
  uid @9 :UInt32;
  gid @10 :UInt32;
  hasRet @11 :Bool;
  ret @12 :Int64;
  # 1.5: taken from the kernel at the check (capCheck) or at the operation
  # (bind); see docs/trace-format.md for what each holds.
  cap @13 :Int32;            # capCheck: the capability checked
  granted @14 :Bool;         # capCheck: the verdict
  stackId @15 :UInt32;       # capCheck: the check's call path (KernelStack.id)
  args @16 :List(Int64);     # capCheck: the syscall's six argument registers
  userWords @17 :List(Int64);  # capCheck: 8-byte words read at the syscall's pointer argument (empty: none)
  state @18 :List(Int64);    # kernel state slots (StateSlot); INT64_MIN = not recorded
}

struct KernelStack {
  id @0 :UInt32;
  frames @1 :List(Text);   # innermost first
}

# 1.6: a file user-space frames point into. A batch's mappedFiles is the
# dictionary of the files its userStacks name (each batch carries its own, so
# a batch reads alone); frames refer to it by position + 1.
struct MappedFile {
  buildId @0 :Data;  # the ELF build ID (NT_GNU_BUILD_ID) bytes; empty: not known
  path @1 :Text;     # the file mapped there when the recorder looked; empty: not known
}

# 1.6: a user-space call path, stored once per trace like KernelStack, as
# columns over its frames (innermost first, as deep as the kernel walked).
# Every column has length 0 (every frame the default) or one per frame.
struct UserStack {
  id @0 :UInt32;
  ip @1 :List(UInt64);          # the raw address; 0: the kernel gave only file and offset
  file @2 :List(UInt32);        # position + 1 in the batch's mappedFiles; 0: file not known
  fileOffset @3 :List(UInt64);  # offset in that file, meaningful where hasOffset
  hasOffset @4 :List(Bool);
  leaf @5 :UserLeaf;            # 1.7: the word at the stack pointer at syscall entry; absent: not read
}

# 1.7: the 8-byte word at the user stack pointer of the registers the syscall
# was entered with, read with the user stack. Where the syscall wrapper is a
# leaf (pushes nothing before `syscall`: libc's), it is the return address
# into the wrapper's caller, the frame a frame-pointer walk skips. Where the
# wrapper pushed something it is anything: the analyzer decides whether it
# is a frame (docs/trace-format.md, "User stacks"), the trace holds the fact.
struct UserLeaf {
  ip @0 :UInt64;          # the word read
  file @1 :UInt32;        # position + 1 in the batch's mappedFiles; 0: in no executable file mapping the recorder could name
  fileOffset @2 :UInt64;  # offset of ip in that file, meaningful where hasOffset
  hasOffset @3 :Bool;
  codeBefore @4 :UInt64;  # the 8 bytes of the task's memory that end at ip (little-endian: ip-1 is the top byte)
  hasCode @5 :Bool;       # codeBefore was read
}

# One batch of events. Capability checks (the hot path) are columnar; the
# other kinds are rare and variable-sized, so plain struct lists are clearer.
struct EventBatch {
  seq @0 :UInt64;   # 0, 1, 2, ... in file order
  capChecks @1 :CapCheckColumns;
  forks @2 :List(ForkEvent);
  execs @3 :List(ExecEvent);
  exits @4 :List(ExitEvent);
  outcomes @5 :List(SyscallOutcome);
  capsets @6 :List(CapsetEvent);
  operations @7 :List(OperationFact);
  stacks @8 :List(KernelStack);
  userStacks @9 :List(UserStack);      # 1.6
  mappedFiles @10 :List(MappedFile);   # 1.6: the files userStacks name
  outcomeWindows @11 :List(OutcomeWindow);  # 1.6: opened or closed while this batch was filled
}

struct EventCounts {
  capChecks @0 :UInt64;
  forks @1 :UInt64;
  execs @2 :UInt64;
  exits @3 :UInt64;
  outcomes @4 :UInt64;
  capsets @5 :UInt64;
  operations @6 :UInt64;
  stacks @7 :UInt64;
  userStacks @8 :UInt64;  # 1.6
}

struct Losses {
  ringbufDrops @0 :UInt64;
  taskMapFull @1 :UInt64;
  stackMapFull @2 :UInt64;
  stacksUnsampled @3 :UInt64;
  untracedProcesses @4 :UInt64;
  outcomesMissed @5 :UInt64;
  stringsTruncated @6 :UInt64;
  decodeErrors @7 :UInt64;
  hookMisses @8 :UInt64;  # 1.3: runs of our programs the kernel skipped because one was already running on that CPU
  userStackFail @9 :UInt64;  # 1.6: sampled checks whose user-space stack walk failed (no user stack stored)
  pathsFull @10 :UInt64;      # 1.7: checks on a path new to their key, not stacked: the key held pathsPerKey paths
  pathsUnchecked @11 :UInt64; # 1.7: checks past the budget not compared by path (at least this many)
}

struct Trailer {
  cleanShutdown @0 :Bool;
  endTimeNs @1 :UInt64;
  stopReason @2 :Text;
  hasTargetExitStatus @3 :Bool;
  targetExitStatus @4 :Int32;
  counts @5 :EventCounts;
  losses @6 :Losses;
  batches @7 :UInt64;
  outcomesFromNs @8 :UInt64;  # 1.2: with fromFirstDenial, when tracking began (0: never)
  maxSizeReached @9 :Bool;    # 1.5: --max-size ended the recording: the target ran on unrecorded
  outcomeWindows @10 :UInt64;    # 1.6: inWindows: how many windows opened
  outcomeWindowsNs @11 :UInt64;  # 1.6: their total length: the time every task on the host ran the slow syscall path
  continued @12 :Bool;           # 1.6: split: the recording goes on in the next piece (counts are this piece's;
                                 # losses and outcome-window totals are the recording's so far)
}
