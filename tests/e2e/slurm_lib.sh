#!/usr/bin/env bash
# A two-node Slurm on localhost for tests of the Slurm executor: munge,
# slurmctld and two slurmd (nodes pb-n1 and pb-n2, each with this machine's
# CPUs, on ports of their own) with a minimal config, state in a directory of
# its own (not /etc/slurm, not the repository). Root only (slurmd must run as
# root).
#
# Sourced:  source tests/e2e/slurm_lib.sh; slurm_start; ...; slurm_stop
# Run:      bash tests/e2e/slurm_lib.sh start|stop|status|env
#
# After slurm_start, SLURM_CONF is exported (clients read it),
# SLURM_PARTITION names the partition and SLURM_NODES its nodes. Both calls are idempotent: starting a
# running cluster checks it and returns, stopping a stopped one does nothing.
# The facts behind the config (Debian 12, Slurm 22.05) are in issue 10.

SLURM_DIR=${PERFBISECT_SLURM_DIR:-${TMPDIR:-/tmp}/perfbisect-slurm}
SLURM_PARTITION=${PERFBISECT_SLURM_PARTITION:-debug}
SLURM_CONF=$SLURM_DIR/slurm.conf
SLURM_NODES="pb-n1 pb-n2"
export SLURM_CONF SLURM_PARTITION SLURM_NODES

_slurm_say() { echo "slurm_lib: $*" >&2; }

# The pid in FILE when that process is alive.
_slurm_pid_alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

slurm_install() {
  if command -v slurmctld > /dev/null && command -v slurmd > /dev/null &&
     command -v munged > /dev/null && command -v srun > /dev/null; then
    return 0
  fi
  _slurm_say "installing slurm-wlm and munge"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge > "$SLURM_DIR.apt.log" 2>&1 ||
    { _slurm_say "apt-get install slurm-wlm munge failed: $(tail -3 "$SLURM_DIR.apt.log")"; return 1; }
}

# munged as the munge user, with its socket directory owned by munge. A
# munged already running (the system's) is used as it is.
_slurm_start_munge() {
  if munge -n < /dev/null 2> /dev/null | unmunge > /dev/null 2>&1; then
    return 0
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  su -s /bin/sh munge -c /usr/sbin/munged ||
    { _slurm_say "munged did not start"; return 1; }
  touch "$SLURM_DIR/munged.ours"  # slurm_stop stops it again
  local i
  for i in $(seq 1 50); do
    munge -n < /dev/null 2> /dev/null | unmunge > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  _slurm_say "munged started but credentials do not round-trip"
  return 1
}

_slurm_write_conf() {
  local host cpus port1
  host=$(hostname -s)
  cpus=$(nproc --all)
  port1=${PERFBISECT_SLURMD_PORT:-6818}
  mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/log"
  cat > "$SLURM_CONF" <<CONF
# Written by tests/e2e/slurm_lib.sh: two nodes, both this machine (one
# slurmd each, started with -N; %n is the node's name).
ClusterName=perfbisect-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=${PERFBISECT_SLURMCTLD_PORT:-6817}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool/%n
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.%n.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
# Finished jobs, one line each (JobName=…): what ran, without slurmdbd.
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_DIR/log/jobcomp.log
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=2
MinJobAge=60
SlurmdTimeout=60
InactiveLimit=0
NodeName=pb-n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=$port1 CPUs=$cpus State=UNKNOWN
NodeName=pb-n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((port1 + 1)) CPUs=$cpus State=UNKNOWN
PartitionName=$SLURM_PARTITION Nodes=pb-n1,pb-n2 Default=YES MaxTime=INFINITE State=UP
CONF
  local node
  for node in $SLURM_NODES; do mkdir -p "$SLURM_DIR/spool/$node"; done
}

# The nodes' states as sinfo prints them (idle, mixed, alloc, down*, …), one
# word per node, or "".
_slurm_node_state() {
  sinfo -h -N -o '%t' -p "$SLURM_PARTITION" 2> /dev/null | tr '\n' ' ' | sed 's/ $//'
}

slurm_running() {
  local node
  _slurm_pid_alive "$SLURM_DIR/slurmctld.pid" || return 1
  for node in $SLURM_NODES; do
    _slurm_pid_alive "$SLURM_DIR/slurmd.$node.pid" || return 1
  done
}

# Starts (or checks) the cluster and waits until its node takes jobs (60 s at most).
slurm_start() {
  mkdir -p "$SLURM_DIR"
  slurm_install || return 1
  _slurm_start_munge || return 1
  if ! slurm_running; then
    _slurm_stop_daemons > /dev/null 2>&1 || true   # half a cluster: start over
    _slurm_write_conf
    slurmctld -f "$SLURM_CONF" ||
      { _slurm_say "slurmctld did not start: $(tail -3 "$SLURM_DIR/log/slurmctld.log" 2>/dev/null)"; return 1; }
    local node
    for node in $SLURM_NODES; do
      slurmd -f "$SLURM_CONF" -N "$node" ||
        { _slurm_say "slurmd $node did not start: $(tail -3 "$SLURM_DIR/log/slurmd.$node.log" 2>/dev/null)"; return 1; }
    done
  fi
  local i state="" ready word
  for i in $(seq 1 120); do
    state=$(_slurm_node_state)
    ready=0
    for word in $state; do
      case "$word" in
        idle|mix|mixed|alloc|allocated|comp|completing) ready=$((ready + 1)) ;;
        down|drain|drained|fail|down\*) scontrol update NodeName=pb-n1,pb-n2 State=RESUME > /dev/null 2>&1 || true ;;
      esac
    done
    [ "$ready" -eq 2 ] && return 0
    sleep 0.5
  done
  _slurm_say "the nodes are not idle after 60 s (states '$state'); logs in $SLURM_DIR/log"
  return 1
}

# Cancels every job, stops slurmd and slurmctld, and munged when slurm_start
# started it (a munged that was already running stays: others may need it).
# Waits until they are gone.
slurm_stop() {
  _slurm_stop_daemons
  if [ -f "$SLURM_DIR/munged.ours" ]; then
    local pid i
    pid=$(cat /run/munge/munged.pid 2> /dev/null || true)
    if [ -n "$pid" ] && kill -TERM "$pid" 2> /dev/null; then
      for i in $(seq 1 50); do
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
      done
    fi
    rm -f "$SLURM_DIR/munged.ours"
  fi
  return 0
}

_slurm_stop_daemons() {
  [ -f "$SLURM_CONF" ] || return 0
  if _slurm_pid_alive "$SLURM_DIR/slurmctld.pid"; then
    scancel --full --quiet -p "$SLURM_PARTITION" 2> /dev/null || true
  fi
  local name pid i
  for name in slurmd.pb-n1 slurmd.pb-n2 slurmd slurmctld; do
    _slurm_pid_alive "$SLURM_DIR/$name.pid" || continue
    pid=$(cat "$SLURM_DIR/$name.pid")
    kill -TERM "$pid" 2> /dev/null || true
    for i in $(seq 1 100); do
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2> /dev/null; then
      _slurm_say "$name ($pid) did not stop on SIGTERM; killing it"
      kill -KILL "$pid" 2> /dev/null || true
    fi
    rm -f "$SLURM_DIR/$name.pid"
  done
  return 0
}

slurm_status() {
  if slurm_running; then
    echo "running: SLURM_CONF=$SLURM_CONF partition $SLURM_PARTITION, nodes $SLURM_NODES: $(_slurm_node_state)"
  else
    echo "stopped ($SLURM_DIR)"
    return 1
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    start) slurm_start && slurm_status ;;
    stop) slurm_stop ;;
    status) slurm_status ;;
    env) echo "export SLURM_CONF=$SLURM_CONF SLURM_PARTITION=$SLURM_PARTITION SLURM_NODES=\"$SLURM_NODES\"" ;;
    *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
  esac
fi
