#!/usr/bin/env bash
# install_prefix: cmake --install into a temporary prefix, then use what was
# installed the way a user would. Usage: install_test.sh BUILD_DIR CMAKE
set -euo pipefail
build=$1
cmake=${2:-cmake}
prefix=$(mktemp -d /tmp/capaudit-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$prefix" >"$prefix.log" 2>&1 || { cat "$prefix.log"; rm -f "$prefix.log"; fail "cmake --install failed"; }
rm -f "$prefix.log"

tools=(capaudit-analyze)
[[ -x $build/record/capaudit-record ]] && tools+=(capaudit-record capaudit)
version=$(sed -n 's/^project(capaudit VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
[[ -n $version ]] || fail "no project version in CMakeLists.txt"

for t in "${tools[@]}"; do
  bin=$prefix/bin/$t
  [[ -x $bin ]] || fail "$bin not installed"
  out=$("$bin" --version) || fail "$t --version exited $?"
  [[ $out == "$t $version" ]] || fail "$t --version printed '$out', want '$t $version'"
  "$bin" --help | grep -q '^Usage: ' || fail "$t --help has no Usage line"
  page=$prefix/share/man/man1/$t.1
  [[ -f $page ]] || fail "$page not installed"
  text=$(MANWIDTH=100 man -l "$page" 2>&1) || fail "man -l $page failed: $text"
  grep -q "$t" <<<"$text" || fail "$t.1 does not name the tool"
  grep -q -- '--version' <<<"$text" || fail "$t.1 has no options"
  grep -q -- "$version" <<<"$text" || fail "$t.1 has no version"
  [[ -f $prefix/share/bash-completion/completions/$t ]] || fail "no bash completion for $t"
  bash -c "source '$prefix/share/bash-completion/completions/$t' && complete -p $t" >/dev/null ||
    fail "the bash completion does not register $t"
done

# The analyzer's page carries every sub-command's options.
text=$(MANWIDTH=100 man -l "$prefix/share/man/man1/capaudit-analyze.1")
for opt in --against --kind --declared --exit-code --deploy-as --granted; do
  grep -q -- "$opt" <<<"$text" || fail "capaudit-analyze.1 lacks $opt"
done

# The installed analyzer reads an installed example trace.
doc=$prefix/share/doc/capaudit
[[ -f $doc/README.md && -f $doc/configs.md ]] || fail "documentation not installed in $doc"
sample=$doc/examples/real-ping/trace.cap
[[ -f $sample ]] || fail "$sample not installed"
out=$("$prefix/bin/capaudit-analyze" report --exit-code --config systemd "$sample") || fail "report on $sample exited $?"
grep -q '^Verdict: grant CAP_NET_RAW$' <<<"$out" || fail "report on $sample does not grant CAP_NET_RAW"
grep -q '^CapabilityBoundingSet=' <<<"$out" || fail "report on $sample has no systemd config"

# Bash completion completes sub-commands and option values.
comp=$(bash -c "source '$prefix/share/bash-completion/completions/capaudit-analyze'
  COMP_WORDS=(capaudit-analyze rep); COMP_CWORD=1; _capaudit_analyze; echo \"\${COMPREPLY[*]}\"")
[[ $comp == report ]] || fail "completion of 'capaudit-analyze rep' gave '$comp'"
echo "install_test: ${tools[*]} installed and working under $prefix"
