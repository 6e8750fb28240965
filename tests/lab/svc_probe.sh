#!/bin/sh
# SPDX-License-Identifier: MIT
# A service process for the services test (test_services.sh): it reports,
# on its standard error (the node's log), what its sandbox looks like from
# inside, then reads parameter records from its socket to the node (fd 3)
# and reports each. Behaviours chosen by ANODE_PARAMS: crash=1 ends with
# SIGSEGV at once; fork=1 forks until it cannot; mem=1 allocates past its
# memory limit.
say() { echo "probe[$ANODE_USER/$ANODE_SERVICE]: $*" >&2; }
trap 'say "terminated"; exit 0' TERM
say "uid=$(id -u) gid=$(id -g) pid=$$"
say "$(grep -E '^(NoNewPrivs|Seccomp|CapEff):' /proc/self/status | tr -s '\t ' ' ' | tr '\n' ' ')"
say "params=$ANODE_PARAMS fd=$ANODE_SERVICE_FD"
say "files: $(ls / | tr '\n' ' ')"
if unshare -U true 2>/dev/null; then say "unshare: allowed"; else say "unshare: refused"; fi
if echo x >/usr/anode-probe 2>/dev/null; then say "write /usr: allowed"; else say "write /usr: refused"; fi
case " $ANODE_PARAMS " in
*" hang=1 "*)
	# Deaf to SIGTERM and to its socket: only SIGKILL ends it.
	trap '' TERM
	say "hanging"
	while :; do sleep 1; done ;;
*" crash=1 "*) say "crashing"; kill -SEGV $$ ;;
*" mem=1 "*)
	say "allocating"
	/usr/bin/python3 -c '
chunks = []
while len(chunks) < 1024:
    chunks.append(bytearray(1 << 20))  # touched: counted by the memory cgroup'
	say "allocation ended: $?" ;;
*" fork=1 "*)
	# In Python: a shell gives up at the first fork that fails.
	say "forking"
	n=$(/usr/bin/python3 -c '
import os, signal, time
kids = []
try:
    while len(kids) < 1000:
        pid = os.fork()
        if pid == 0:
            os.close(1)  # the shell reads our output until every holder closes it
            time.sleep(30)
            os._exit(0)
        kids.append(pid)
except OSError:
    pass
print(len(kids))
for pid in kids:  # then back to a well-behaved service
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)')
	say "forks: $n" ;;
esac
say "ready"
# Records from the node (docs/wire.md §5c): an 8-octet header, then for
# PARAMS the parameters' text.
while :; do
	rec=$(dd bs=2048 count=1 <&3 2>/dev/null | tail -c +9)
	[ -n "$rec" ] || break
	say "got: params $rec"
done
say "node socket closed"
