#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian 12 packages anode needs to build, run and test, if any
# is missing. Run as root (or with sudo available). Idempotent and quiet
# when everything is there already.
set -euo pipefail

packages=(
  meson ninja-build pkg-config gcc clang llvm   # build; clang -target bpf compiles code objects
  libdpdk-dev                                   # librte_bpf: eBPF validator and JIT in user space
  libbpf-dev linux-libc-dev                     # the kernel path: loading TC programs (libbpf), linux/bpf.h for kernel sections
  libxdp-dev                                    # AF_XDP: libxdp's ring accessors (xdp/xsk.h)
  libsodium-dev                                 # SHA-256 code object names, Ed25519 signatures
  libsystemd-dev                                # sd_notify: Type=notify readiness for anoded@.service
  libmicrohttpd-dev                             # metrics-listen: /metrics over HTTP for Prometheus
  libseccomp-dev libcap-dev                     # router mode: the node child's system call allow-list and capabilities
  bubblewrap                                    # service processes: the per-user sandbox (namespaces, no_new_privs, seccomp)
  libclang-rt-14-dev                            # sanitizer and libFuzzer runtimes for clang
  python3                                       # /usr/bin/python3 crafts bad packets in tests
  libnetfilter-queue-dev libmnl-dev             # router mode: NFQUEUE (the matching engine)
  iptables iproute2                             # NFQUEUE rules; namespaces, veth, tc for labs
  traceroute iperf3 iputils-ping                # real tools the router-mode tests compare with
  tshark                                        # decodes lab traffic with tools/wireshark/anode.lua
  sox                                           # concast: the audio mixer is checked against `sox -m`
  python3-numpy python3-matplotlib              # concast: counting audible senders, the figure under bench/
  help2man                                      # manual pages from --help (man/meson.build)
  debhelper lintian fakeroot                    # the Debian package and its test (tests/pkg)
  prometheus curl                               # promtool checks `anode stats --prometheus`; a real Prometheus scrapes metrics-listen (tests/lab)
  frr                                           # OSPF in namespace labs (lab up --routing ospf; tests/lab/test_ospf.sh)
  mininet                                       # anode routers in Mininet networks (tools/mininet; tests/lab/test_mininet.sh)
  libcurl4-openssl-dev                          # signalling: the sandboxed module fetcher (HTTP, HTTPS)
  nginx-light openssl                           # signalling tests: a real web server serves modules (HTTP and HTTPS)
  gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-tools
                                                # proactive services (issue 21): GStreamer's RTSP server and client
  ffmpeg                                        # proactive services (issue 21): an RTP stream, decoding checks
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
