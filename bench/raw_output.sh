# Sourced by the bench scripts: `raw_output NAME BUILD_DIR` prints the file that keeps a run's
# raw JSON lines, docs/performance/NAME-<commit>-<UTC time>.jsonl, and writes its first line:
# which binary (ctmq --version: commit, tree state, LibTorch), machine and command made it.
# docs/performance.md cites these files next to its tables.
raw_output() {
  local name=$1 build=$2
  local commit dirty
  commit=$("$build/ctmq" --version | sed -n 's/^git commit \([0-9a-f]*\).*/\1/p' | cut -c1-7)
  dirty=$("$build/ctmq" --version | grep -q '(dirty)' && echo -dirty || true)
  mkdir -p docs/performance
  local file
  file=docs/performance/$name-${commit:-unknown}$dirty-$(date -u +%Y%m%dT%H%M%SZ).jsonl
  local version
  version=$("$build/ctmq" --version | tr '\n' ';')
  printf '{"bench": "%s", "ctmq": "%s", "cpus": %s, "host_kernel": "%s", "started": "%s"}\n' \
    "$name" "$version" "$(nproc)" "$(uname -r)" "$(date -u +%FT%TZ)" > "$file"
  echo "$file"
}
