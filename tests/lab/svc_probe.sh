#!/bin/sh
# SPDX-License-Identifier: MIT
# A service process for the services test (test_services.sh): it reports,
# on its standard error (the node's log), what its sandbox looks like from
# inside, then reads parameter records from its socket to the node (fd 3)
# and reports each. Behaviours chosen by ANODE_PARAMS: crash=1 ends with
# SIGSEGV at once; fork=1 forks until it cannot; mem=1 allocates past its
# memory limit.
say() { echo "probe[$ANODE_USER/$ANODE_SERVICE]: $*" >&2; }
say "uid=$(id -u) gid=$(id -g) pid=$$"
say "$(grep -E '^(NoNewPrivs|Seccomp|CapEff):' /proc/self/status | tr -s '\t ' ' ' | tr '\n' ' ')"
say "params=$ANODE_PARAMS fd=$ANODE_SERVICE_FD"
say "files: $(ls / | tr '\n' ' ')"
if unshare -U true 2>/dev/null; then say "unshare: allowed"; else say "unshare: refused"; fi
if echo x >/usr/anode-probe 2>/dev/null; then say "write /usr: allowed"; else say "write /usr: refused"; fi
case " $ANODE_PARAMS " in
*" crash=1 "*) say "crashing"; kill -SEGV $$ ;;
*" fork=1 "*)
	# In Python: a shell gives up at the first fork that fails.
	say "forking"
	n=$(/usr/bin/python3 -c '
import os, time
n = 0
try:
    while n < 1000:
        if os.fork() == 0:
            os.close(1)  # the shell reads our output until every holder closes it
            time.sleep(30)
            os._exit(0)
        n += 1
except OSError:
    pass
print(n)')
	say "forks: $n" ;;
esac
say "ready"
while :; do
	rec=$(dd bs=2048 count=1 <&3 2>/dev/null) || break
	[ -n "$rec" ] || break
	say "got: $rec"
done
say "node socket closed"
