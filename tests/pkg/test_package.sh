#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian package, as a user gets it (issue 11): build it from this tree
# with dpkg-buildpackage, check it with lintian (no errors), install it into
# a fresh root (an overlay of this machine's / in a mount namespace of its
# own, so that the host is left as it was), and there: the system user and
# /etc/anode exist, `anoded -n` takes the shipped example, systemd-analyze
# verifies the unit, the manual pages are where man looks, a lab of overlay
# nodes runs from the installed binaries and code objects (ping and a
# concast merge), `anode code build` compiles against the installed headers,
# and a program builds and links with `pkg-config --cflags --libs libanode`.
#   tests/pkg/test_package.sh [SRC_DIR]      (root; exit 77 when it cannot run)
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (mount namespace, chroot)"
  exit 77
fi
for t in dpkg-buildpackage lintian unshare chroot; do
  command -v $t >/dev/null || { echo "SKIP: $t is not installed (scripts/deps.sh installs it)"; exit 77; }
done
W=$(mktemp -d /tmp/anode-pkg.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }

# The tree as it is (committed or not), without build directories.
mkdir -p "$W/src/anode"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z -co --exclude-standard) | (cd "$src" && tar --null -T - -cf -) | tar -C "$W/src/anode" -xf -
else
  tar -C "$src" --exclude='./build*' --exclude='./obj-*' -cf - . | tar -C "$W/src/anode" -xf -
fi
# The unit tests ran in the test suite already.
(cd "$W/src/anode" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$W/build.log" 2>&1) ||
  { tail -30 "$W/build.log"; fail "dpkg-buildpackage failed"; }
debs=$(cd "$W/src" && ls anode_*.deb libanode0_*.deb libanode-dev_*.deb)
[ "$(wc -w <<<"$debs")" = 3 ] || fail "expected anode, libanode0 and libanode-dev, got: $debs"
ok "dpkg-buildpackage built anode, libanode0, libanode-dev"
lintian --tag-display-limit 0 "$W"/src/anode_*.changes >"$W/lintian.txt" 2>&1 || true
! grep '^E: ' "$W/lintian.txt" || fail "lintian found errors"
ok "lintian: no errors ($(grep -c '^W: ' "$W/lintian.txt" || true) warnings)"
grep '^W: ' "$W/lintian.txt" || true

mkdir -p "$W/debs" "$W/layer" "$W/root"
cp "$W"/src/*.deb "$W/debs/"
cat >"$W/debs/check.sh" <<'EOF'
#!/bin/bash
# Run inside the fresh root, with nothing of the build tree in sight.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
n=$1
ok() { n=$((n + 1)); echo "ok $n - $*"; }
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
dpkg -i /debs/anode_*.deb /debs/libanode0_*.deb /debs/libanode-dev_*.deb >/tmp/dpkg.log 2>&1 ||
  { cat /tmp/dpkg.log; fail "dpkg -i failed"; }
ok "the three packages install"
getent passwd anode >/dev/null || fail "no system user anode"
[ -d /etc/anode ] || fail "no /etc/anode"
ok "the system user anode and /etc/anode exist"
anoded -n -f /usr/share/doc/anode/examples/anoded.conf >/tmp/conf.out || fail "anoded -n refused the example"
grep -q '^concast-flows 64$' /tmp/conf.out || fail "anoded -n printed no defaults"
ok "anoded -n takes the shipped example configuration"
anoded -n -f /etc/anode/anoded.conf.example >/dev/null || fail "anoded -n refused the template"
dpkg-query -W -f='${Conffiles}' anode | grep -q '/etc/anode/anoded.conf.example' || fail "the template is not a conffile"
ok "the commented template /etc/anode/anoded.conf.example is a conffile anoded takes"
systemd-analyze verify /lib/systemd/system/anoded@.service >/tmp/verify.log 2>&1 ||
  { cat /tmp/verify.log; fail "systemd-analyze verify"; }
grep -q '^ExecReload=' /lib/systemd/system/anoded@.service || fail "no ExecReload"
ok "systemd-analyze verify passes on anoded@.service"
for p in anoded.8 anode.8 anoded.conf.5 anode-policy.5 anode-code.7; do
  man -w "${p%.*}" >/dev/null 2>&1 || [ -f "/usr/share/man/man${p##*.}/$p.gz" ] || fail "no manual page $p"
done
ok "the manual pages are installed"
[ -f /usr/lib/x86_64-linux-gnu/wireshark/plugins/anode.lua ] || fail "no dissector where Wireshark looks"
ok "the dissector is in Wireshark's global Lua plugin folder"

export ANODE_RUN_DIR=/tmp/lab
anode lab up /usr/share/doc/anode/examples/line3.topo >/tmp/lab.log 2>&1 || { cat /tmp/lab.log; fail "lab up"; }
out=$(anode -n a ping c -c 3 -i 0.1) || fail "ping: $out"
grep -q '3 received' <<<"$out" || fail "ping: $out"
ok "a lab of installed anoded nodes: ping a -> c with the installed code objects"
anode -n c concast listen 198.18.0.1 7 /usr/lib/anode/count.ao --json --seconds 3 >/tmp/listen.out &
lp=$!
for _ in $(seq 50); do anode -n c concast flows 2>/dev/null | grep -q ready && break; sleep 0.1; done
anode -n a concast join 198.18.0.1 c 7 --tags 5 --interval 50 >/dev/null
wait $lp
[ "$(grep -c '"len":12' /tmp/listen.out)" = 5 ] || fail "concast: $(cat /tmp/listen.out)"
ok "...and a concast flow a -> c with the installed merge specification"
anode lab down /usr/share/doc/anode/examples/line3.topo >/dev/null

mkdir -p /tmp/code && cd /tmp/code
cat >fwd.c <<'C'
#include <anode/node.h>
AN_ACCEPT int64_t fwd(struct an_ctx *ctx) { return an_forward(); }
C
anode code build fwd.c -o fwd.ao >/tmp/build.out 2>&1 || { cat /tmp/build.out; fail "anode code build"; }
ok "anode code build compiles against the installed headers"
cat >app.c <<'C'
#include <stdio.h>
#include <anode/anode.h>
int main(void)
{
	struct an_flow f;
	struct an_addr a;
	if (an_flow_parse("198.18.0.1", "10.0.0.1:3322", 7, &f) || an_addr_parse("10.0.0.2:3322", &a))
		return 1;
	char buf[64];
	printf("%s app %u\n", an_addr_format(&a, buf, sizeof(buf)), f.app_id);
	return an_link_open("/nonexistent") == NULL ? 0 : 1;
}
C
cc app.c $(pkg-config --cflags --libs libanode) -o app || fail "build against libanode.pc"
[ "$(./app)" = "10.0.0.2:3322 app 7" ] || fail "the program did not run: $(./app)"
ok "a program builds and links with pkg-config --cflags --libs libanode, and runs"

# Removal and purge, as on a host where an administrator enabled a node:
# systemd is faked (a systemctl that records what it is asked, and the
# directory by which scripts know systemd runs).
# A container's policy-rc.d (exit 101: no service actions) would make
# deb-systemd-invoke skip the stop, as it should there; a host has none.
# This root is a throw-away overlay: removing it here leaves the host's.
rm -f /usr/sbin/policy-rc.d
mkdir -p /run/systemd/system /etc/systemd/system/multi-user.target.wants /usr/local/sbin
ln -s /lib/systemd/system/anoded@.service /etc/systemd/system/multi-user.target.wants/anoded@n1.service
printf '#!/bin/sh\necho "$*" >>/tmp/systemctl.log\n' >/usr/local/sbin/systemctl
chmod 755 /usr/local/sbin/systemctl
echo 'name n1' >/etc/anode/n1.conf
PATH=/usr/local/sbin:$PATH dpkg -r libanode-dev anode >/tmp/remove.log 2>&1 || { cat /tmp/remove.log; fail "dpkg -r"; }
grep -q "^stop anoded@\*.service$" /tmp/systemctl.log || fail "prerm did not stop the instances: $(cat /tmp/systemctl.log)"
[ ! -e /etc/systemd/system/multi-user.target.wants/anoded@n1.service ] || fail "the instance's wants link stayed"
grep -q "^daemon-reload$" /tmp/systemctl.log || fail "postrm did not reload systemd: $(cat /tmp/systemctl.log)"
[ ! -e /usr/sbin/anoded ] && [ -f /etc/anode/anoded.conf.example ] || fail "remove: anoded stayed, or the conffile went"
ok "dpkg -r stops every anoded@ instance, removes their wants links, keeps the conffile"
PATH=/usr/local/sbin:$PATH dpkg -P anode >/tmp/purge.log 2>&1 || { cat /tmp/purge.log; fail "dpkg -P"; }
[ ! -e /etc/anode/anoded.conf.example ] || fail "purge kept the conffile"
[ -f /etc/anode/n1.conf ] || fail "purge removed the administrator's configuration"
ok "dpkg -P removes the conffile, keeps the administrator's n1.conf"
echo "$n"
EOF
chmod +x "$W/debs/check.sh"
host_had=$(ls /usr/sbin/anoded 2>/dev/null || true)
n=$(unshare --mount --fork -- bash -c '
set -e
W=$1
mount --make-rprivate /
mount -t tmpfs tmpfs "$W/layer"
mkdir -p "$W/layer/upper" "$W/layer/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$W/layer/upper,workdir=$W/layer/work" "$W/root"
mount -t proc proc "$W/root/proc"
mount --rbind /sys "$W/root/sys"
mount --rbind /dev "$W/root/dev"
mount -t tmpfs tmpfs "$W/root/run"
mount -t tmpfs tmpfs "$W/root/tmp"
mkdir -p "$W/root/debs"
mount --bind "$W/debs" "$W/root/debs"
chroot "$W/root" env -i HOME=/root TERM=dumb /debs/check.sh "$2" >&2 && echo done
' bash "$W" "$n" 2>&1 | tee "$W/check.log" | tail -1) || true
grep '^ok\|^FAIL' "$W/check.log" || true
[ "$n" = done ] || { cat "$W/check.log" >&2; fail "the checks in the fresh root failed"; }
n=$(grep -c '^ok' "$W/check.log")
n=$((n + 2))
[ "$(ls /usr/sbin/anoded 2>/dev/null || true)" = "$host_had" ] || fail "the host was changed"
echo "ok $((n + 1)) - the host is as it was"
echo "$((n + 1)) checks passed"
