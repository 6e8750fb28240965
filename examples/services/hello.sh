#!/bin/sh
# SPDX-License-Identifier: MIT
# An example service process (docs/services.md): a node's control module
# starts it in a sandbox of its own when a user activates it, with the
# user's parameters in ANODE_PARAMS and its socket to the node on fd 3
# (ANODE_SERVICE_FD); what it writes on its standard error goes to the
# node's log. This one says hello with its parameters, then waits until the
# user stops it (SIGTERM). Installed as /usr/lib/anode/services/hello;
# deploy it in a policy:
#   service hello program /usr/lib/anode/services/hello
say() { echo "hello[$ANODE_USER]: $*" >&2; }
trap 'say "stopped"; exit 0' TERM
say "hello from uid $(id -u), parameters: ${ANODE_PARAMS:-none}"
while :; do sleep 1; done
