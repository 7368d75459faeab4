# TEST ONLY: how a future writer might extend schema/trace.capnp v1 under the
# evolution rules (new fields, new enumerants, a new frame kind, all appended).
# Parts this test does not touch are AnyPointer, which is wire-compatible with
# any struct or list pointer. Never used by production code.
@0xdec13e678271856e;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("capaudit::schema_future");

struct Frame {
  union {
    header @0 :Header;
    processes @1 :AnyPointer;
    batch @2 :EventBatch;
    trailer @3 :AnyPointer;
    annotations @4 :List(Text);   # a frame kind v1 readers do not know
  }
}

enum Hook {
  unknown @0;
  tpBtf @1;
  fexit @2;
  kprobe @3;
  lsmCapable @4;   # unknown to v1
}

struct Header {
  formatMajor @0 :UInt32;
  formatMinor @1 :UInt32;
  recorder @2 :AnyPointer;
  host @3 :HostSection;
  clock @4 :AnyPointer;
  sysctls @5 :AnyPointer;
  hook @6 :HookSection;
  sampling @7 :AnyPointer;
  split @8 :AnyPointer;        # 1.6
  containerRuntime @9 :Text;   # unknown to v1
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
  kernelConfig @8 :AnyPointer;  # 1.9
  machineId @9 :Text;   # unknown to v1
}

struct HookAttempt {
  hook @0 :Hook;
  used @1 :Bool;
  reason @2 :Text;
  loadTimeNs @3 :UInt64;   # unknown to v1
}

struct HookSection {
  hook @0 :Hook;
  attempts @1 :List(HookAttempt);
  optsAvailable @2 :Bool;
}

enum OpKind {
  unknown @0; bind @1; socket @2; ptraceAttach @3; perfEventOpen @4; bpf @5;
  ioUringSetup @6; userfaultfd @7; unshareUserns @8; mmapLow @9; link @10;
  setPipeSize @11; mqOpen @12; mlock @13; schedSetscheduler @14; setrlimit @15;
  syslog @16; openSensitive @17;
  capCheck @18;
  setpriority @19;
  keyctl @20;   # unknown to v1
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
  cap @13 :Int32;
  granted @14 :Bool;
  stackId @15 :UInt32;
  args @16 :List(Int64);
  userWords @17 :List(Int64);
  state @18 :List(Int64);
  a4 @19 :Int64;   # unknown to v1
}

struct EventBatch {
  seq @0 :UInt64;
  capChecks @1 :AnyPointer;
  forks @2 :AnyPointer;
  execs @3 :AnyPointer;
  exits @4 :AnyPointer;
  outcomes @5 :AnyPointer;
  capsets @6 :AnyPointer;
  operations @7 :List(OperationFact);
  stacks @8 :AnyPointer;
  userStacks @9 :AnyPointer;   # 1.6
  mappedFiles @10 :AnyPointer; # 1.6
  outcomeWindows @11 :AnyPointer;  # 1.6
  mounts @12 :List(Text);   # an event kind unknown to v1
}
