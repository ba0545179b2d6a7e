#!/usr/bin/env bash
# A three-host test network on one machine, made of Linux network namespaces:
#
#   public      10.213.0.1   open to all (chain RPC, revocation relay, keeper)
#   patient     10.213.0.2   firewalled: drops every inbound connection it did not open
#   specialist  10.213.0.3   firewalled the same way
#
# The bridge lives inside `public`; patient and specialist hang on it by veth
# pairs. No namespace has a link to the machine's own network or a default
# route, so test traffic cannot leave the lab. patient and specialist each
# load an nftables ruleset (table inet hwlab): their input chain accepts
# loopback and conntrack's established/related packets and drops the rest,
# TCP and UDP (QUIC) alike, counting the drops in the named counter
# "dropped". That is a phone behind a stateful firewall or carrier NAT:
# replies to connections it opened come in; nothing else does.
#
#   scripts/netlab.sh up                 create the lab (idempotent); prints the hosts' addresses
#   scripts/netlab.sh down               remove it: stop what still runs in it, delete the namespaces
#   scripts/netlab.sh exec HOST CMD...   run CMD inside HOST's namespace
#   scripts/netlab.sh addr HOST          print HOST's address
#   scripts/netlab.sh ns HOST            print HOST's namespace name
#   scripts/netlab.sh dropped HOST       print how many inbound packets HOST's firewall has dropped
#   scripts/netlab.sh list               list the labs that exist on this machine (any id)
#
# Environment:
#   NETLAB_ID   run id (1-16 of [a-z0-9], default "dev"). Every name the lab
#               creates is hwlab-ID-HOST, so labs with different ids run side
#               by side; each is isolated, so they reuse the same addresses.
#
# Needs root, iproute2 and nftables (apt-get install nftables). The kernel
# needs no netem. If `up` fails half-way it removes what it made.
set -euo pipefail

ID=${NETLAB_ID:-dev}
HOSTS=(public patient specialist)
SUBNET=10.213.0
declare -A ADDR=([public]=$SUBNET.1 [patient]=$SUBNET.2 [specialist]=$SUBNET.3)

die() { echo "netlab: $*" >&2; exit 1; }
usage() {
	echo "usage: $0 up|down|list|exec HOST CMD...|addr HOST|ns HOST|dropped HOST   (env NETLAB_ID=RUNID)" >&2
	exit 2
}

[[ $ID =~ ^[a-z0-9]{1,16}$ ]] || die "NETLAB_ID \"$ID\" must be 1-16 characters of [a-z0-9]"
PREFIX=hwlab-$ID
ns() { echo "$PREFIX-$1"; }

host_arg() {
	[ -n "${1:-}" ] || usage
	[ -n "${ADDR[$1]:-}" ] || die "unknown host \"$1\" (public, patient, specialist)"
}

need_tools() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces and nftables)"
	command -v ip >/dev/null || die "needs ip (apt-get install iproute2)"
	command -v nft >/dev/null || die "needs nft (apt-get install nftables)"
}

ns_exists() { [ -e "/run/netns/$1" ]; }

# The firewall of patient and specialist. `flush ruleset` first makes loading
# it again a no-op (the namespace holds no other rules), and nft -f applies
# the whole file atomically.
firewall() {
	cat <<-'EOF'
		flush ruleset
		table inet hwlab {
			counter dropped {
			}
			chain input {
				type filter hook input priority filter; policy drop;
				ct state established,related accept
				iif "lo" accept
				counter name "dropped" drop
			}
		}
	EOF
}

# no_ipv6 NS IFACE: turn IPv6 off on IFACE (or "default") inside NS, so
# that libp2p has no link-local addresses to announce. Writes /proc/sys
# directly (no procps needed); a kernel without IPv6 has nothing to turn off.
no_ipv6() {
	ip netns exec "$1" sh -c "f=/proc/sys/net/ipv6/conf/$2/disable_ipv6; [ ! -e \$f ] || echo 1 >\$f"
}

up() {
	need_tools
	# Whatever stops `up` half-way (a failing command, Ctrl-C) removes the lab.
	trap 'echo "netlab: up failed; removing the lab" >&2; down >/dev/null 2>&1 || true' EXIT
	trap 'exit 130' INT TERM
	local h n pub
	pub=$(ns public)
	for h in "${HOSTS[@]}"; do
		n=$(ns "$h")
		ns_exists "$n" || ip netns add "$n"
		ip -n "$n" link set lo up
		no_ipv6 "$n" default
	done

	# public: the bridge, carrying public's own address.
	ip -n "$pub" link show br0 >/dev/null 2>&1 || ip -n "$pub" link add br0 type bridge
	no_ipv6 "$pub" br0
	ip -n "$pub" addr replace "${ADDR[public]}/24" dev br0
	ip -n "$pub" link set br0 up

	# patient and specialist: eth0, its peer v-HOST enslaved to public's bridge.
	for h in patient specialist; do
		n=$(ns "$h")
		if ! ip -n "$n" link show eth0 >/dev/null 2>&1; then
			ip -n "$pub" link del "v-$h" 2>/dev/null || true
			ip link add name eth0 netns "$n" type veth peer name "v-$h" netns "$pub"
		fi
		no_ipv6 "$n" eth0
		no_ipv6 "$pub" "v-$h"
		ip -n "$pub" link set "v-$h" master br0 up
		ip -n "$n" addr replace "${ADDR[$h]}/24" dev eth0
		ip -n "$n" link set eth0 up
		firewall | ip netns exec "$n" nft -f -
	done
	trap - EXIT INT TERM
	for h in "${HOSTS[@]}"; do
		echo "$h $(ns "$h") ${ADDR[$h]}"
	done
}

# stop_pids NS: end what still runs inside NS (a namespace lives on while a
# process holds it): SIGTERM, up to 2 s of grace, then SIGKILL.
stop_pids() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null || true)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	for _ in $(seq 20); do
		pids=$(ip netns pids "$1" 2>/dev/null || true)
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
}

down() {
	need_tools
	local h n
	for h in "${HOSTS[@]}"; do
		n=$(ns "$h")
		ns_exists "$n" || continue
		stop_pids "$n"
		ip netns del "$n"
	done
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
up) up ;;
down) down ;;
list)
	ip netns list | awk '{print $1}' | sed -n 's/^hwlab-\([a-z0-9]*\)-public$/\1/p'
	;;
addr)
	host_arg "${1:-}"
	echo "${ADDR[$1]}"
	;;
ns)
	host_arg "${1:-}"
	ns "$1"
	;;
dropped)
	# The packet count of the firewall's named counter "dropped" (patient
	# and specialist; public has no firewall).
	host_arg "${1:-}"
	[ "$1" != public ] || die "public has no firewall"
	ns_exists "$(ns "$1")" || die "no lab \"$ID\" (run: NETLAB_ID=$ID $0 up)"
	ip netns exec "$(ns "$1")" nft list counter inet hwlab dropped |
		awk '$1 == "packets" { print $2; found = 1 } END { exit !found }' ||
		die "no drop counter in $1"
	;;
exec)
	host_arg "${1:-}"
	h=$1
	shift
	[ $# -gt 0 ] || usage
	ns_exists "$(ns "$h")" || die "no lab \"$ID\" (run: NETLAB_ID=$ID $0 up)"
	exec ip netns exec "$(ns "$h")" "$@"
	;;
*) usage ;;
esac
