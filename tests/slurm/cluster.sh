#!/usr/bin/env bash
# A one-node Slurm cluster on this machine for the tests: munged, slurmctld and slurmd with a
# generated slurm.conf in DIR, all run by the current user (root in CI).
#
#   tests/slurm/cluster.sh start DIR   # waits (at most 60 s) until sinfo shows the node idle
#   tests/slurm/cluster.sh stop DIR    # kills every daemon that start recorded, by pid
#   tests/slurm/cluster.sh env DIR     # prints the SLURM_CONF line that clients need
#
# Ports are picked free at start, so several clusters (several checkouts) can run side by side.
# Nothing points at anything but 127.0.0.1.
set -euo pipefail
action=${1:?usage: cluster.sh start|stop|env DIR}
dir=${2:?usage: cluster.sh start|stop|env DIR}

stop() {
  [ -d "$dir" ] || return 0
  for daemon in slurmd slurmctld munged; do
    pid_file="$dir/$daemon.pid"
    [ -s "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

fail() {
  echo "cluster.sh: $*" >&2
  for log in "$dir"/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -20 "$log" >&2; }; done
  stop
  exit 1
}

start() {
  stop  # a cluster left by an earlier run of the same DIR
  rm -rf "$dir"
  for tool in munged slurmctld slurmd sinfo python3; do
    if ! command -v "$tool" >/dev/null; then
      echo "cluster.sh: $tool not found (scripts/install_deps.sh installs Slurm)" >&2
      # Without a slurm.conf the Slurm tests report themselves skipped; under CI they fail.
      [ "${CI:-}" = true ] && exit 1
      exit 0
    fi
  done
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 700 "$dir/munge"
  # munged refuses keys and folders that others can write to; a fresh key per cluster.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" \
    || fail "munged did not start"

  local user cpus memory
  user=$(id -un)
  cpus=$(nproc)
  memory=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
  cat >"$dir/slurm.conf" <<CONF
ClusterName=ctmqtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: processes are tracked by their parent pids.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobRequeue=1
ReturnToService=2
# Short timers: a test cluster, where waiting is the only cost.
SchedulerParameters=sched_interval=1,bf_interval=1
MessageTimeout=10
KillWait=10
MinJobAge=300
InactiveLimit=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  # -D: stay in the foreground (backgrounded here, so that we know their pids); -i: ignore
  # state of an earlier cluster; -N: the node's name, whatever the host is called.
  slurmctld -D -i -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 &
  echo $! >"$dir/slurmctld.pid"
  slurmd -D -N localhost -f "$SLURM_CONF" >"$dir/slurmd.out" 2>&1 &
  echo $! >"$dir/slurmd.pid"

  local state=""
  for _ in $(seq 600); do
    state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    for daemon in slurmctld slurmd; do
      kill -0 "$(cat "$dir/$daemon.pid")" 2>/dev/null || fail "$daemon exited while starting"
    done
    sleep 0.1
  done
  [ "$state" = idle ] || fail "the node is not idle after 60 s (sinfo says '${state:-nothing}')"
  echo "cluster.sh: one-node Slurm up in $dir ($cpus CPUs); export SLURM_CONF=$SLURM_CONF"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  env) echo "SLURM_CONF=$dir/slurm.conf" ;;
  *) echo "usage: cluster.sh start|stop|env DIR" >&2; exit 2 ;;
esac
