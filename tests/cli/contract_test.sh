#!/usr/bin/env bash
# cli_contract: one table over every command of capaudit, capaudit-record and
# capaudit-analyze: --version, --help, bad usage, errors and the documented
# exit codes (README "Exit codes"). Usage: contract_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1
src=$2
A=$build/analyze/cli/capaudit-analyze
R=$build/record/capaudit-record
F=$build/front/capaudit
tmp=$(mktemp -d /tmp/capaudit-contract-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^project(capaudit VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")

sample=$src/samples/synthetic-basic/trace.cap
ping=$src/samples/real-ping/trace.cap       # needs CAP_NET_RAW; the command exited 0
bind=$src/samples/real-bind80/trace.cap     # timeout(1) ended it: exit status 124
# A truncated copy: the first half of a trace is readable and incomplete.
head -c $(($(stat -c %s "$sample") / 2)) "$sample" >"$tmp/cut.cap"
printf '[Service]\nExecStart=/bin/true\nCapabilityBoundingSet=\n' >"$tmp/none.service"
echo 'not a trace' >"$tmp/junk.cap"

failures=0
# expect CODE "command line" [text the output must contain]
expect() {
  local want=$1 cmd=$2 grep_for=${3:-}
  local out rc
  out=$(eval "$cmd" 2>&1)
  rc=$?
  if [[ $rc -ne $want ]]; then
    echo "FAIL: exit $rc, want $want: $cmd"; echo "$out" | head -5 | sed 's/^/    /'
    failures=$((failures + 1))
  elif [[ -n $grep_for ]] && ! grep -qF -- "$grep_for" <<<"$out"; then
    echo "FAIL: output lacks '$grep_for': $cmd"; echo "$out" | head -5 | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}

tools=("$A")
[[ -x $R ]] && tools+=("$R" "$F")
for t in "${tools[@]}"; do
  name=$(basename "$t")
  expect 0 "$t --version" "$name $version"
  expect 0 "$t --help" "Usage: "
  expect 0 "$t --help" "Exit"
  expect 2 "$t --no-such-option"
done

# capaudit-analyze: every sub-command.
expect 2 "$A"
expect 2 "$A frobnicate"
for cmd in info dump report config check diff verify; do
  expect 0 "$A $cmd --version" "capaudit-analyze $version"
  expect 0 "$A $cmd --help" "Exit codes"
  expect 2 "$A $cmd --no-such-option $sample"
done
for cmd in info dump report config check; do
  expect 2 "$A $cmd"                     # no trace given
done
expect 2 "$A diff $sample"               # no '--' and no new traces
expect 2 "$A verify $ping"               # neither --rerun nor --plan
expect 2 "$A verify --runtime docker --plan $ping"
expect 2 "$A dump $sample $sample"
expect 2 "$A dump -k nonsense $sample"
expect 2 "$A report -f xml $sample"
expect 2 "$A report --config k8s $sample"
expect 2 "$A report --profile nosuch $sample"
expect 2 "$A config --config k8s $sample"
expect 2 "$A check $sample"              # neither --against nor --granted
expect 2 "$A check -f yaml --granted chown $sample"
expect 2 "$A diff -f yaml $sample -- $sample"
# errors: 1
for cmd in info dump report config; do
  expect 1 "$A $cmd $tmp/missing.cap"
  expect 1 "$A $cmd $tmp/junk.cap"
done
expect 1 "$A report $tmp/junk.cap" "not a capaudit trace"
expect 1 "$A check $tmp/missing.cap --granted chown"
expect 1 "$A check $sample --against $tmp/missing.service"
expect 1 "$A diff $tmp/missing.cap -- $sample"
# done: 0
for cmd in info dump report config; do
  expect 0 "$A $cmd $sample"
done
# incomplete input: 3, whatever the command
for cmd in info dump report config; do
  expect 3 "$A $cmd $tmp/cut.cap"
done
expect 3 "$A diff $sample -- $tmp/cut.cap"
# the answer is no: 4
expect 0 "$A check $ping --granted net_raw"
expect 4 "$A check $ping --granted net_bind_service"
expect 4 "$A check $ping --against $tmp/none.service"
expect 4 "$A check -f json $ping --granted chown" '"pass": false'
expect 0 "$A check --allow-excess $ping --granted net_raw,chown"
expect 0 "$A diff $ping -- $bind"
expect 4 "$A diff --exit-code $ping -- $bind"
expect 0 "$A diff --exit-code $ping -- $ping"
expect 4 "$A verify --rerun $ping $ping" "beyond the set after exec"   # recorded as full root: tests no set
expect 4 "$A verify --rerun $bind $ping" "the command exited 124; the original run exited 0"
expect 4 "$A verify --plan $bind"        # the original run failed: nothing to verify
expect 0 "$A report --exit-code $ping" "Verdict: grant CAP_NET_RAW"
expect 0 "$A report $bind" "the command exited with status 124"
expect 4 "$A report --exit-code $bind" "THE RUN FAILED"
expect 4 "$A report --exit-code $sample" "denied: setsockopt failed"
expect 3 "$A report --exit-code $tmp/cut.cap" "Verdict: INCOMPLETE RECORDING"

if [[ -x $R ]]; then
  expect 2 "$R"                            # no target
  expect 2 "$R -o $tmp/x.cap"
  expect 2 "$R --duration nonsense -o $tmp/x.cap -- true"
  expect 2 "$R --hook nonsense -o $tmp/x.cap -- true"
  expect 2 "$F"                            # no command
  expect 2 "$F --bogus -- true"
  expect 2 "$F true" "hint: sudo capaudit -- true"   # forgot '--': say how
  expect 2 "$F --config k8s -- true"
  expect 2 "$F -f xml -- true"
  expect 1 "$F -o $sample -- true" "File exists"     # never overwritten, refused before recording
  expect 1 "$F --keep $sample -- true" "File exists"
fi

if [[ $failures -ne 0 ]]; then
  echo "cli_contract: $failures failure(s)"
  exit 1
fi
echo "cli_contract: all rows pass"
