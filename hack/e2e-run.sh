#!/usr/bin/env bash
# e2e-run.sh [--selftest] [--lifecycle=V] [--boot|--boot-only]
#            [--boot-deadline=EPOCH] [HOSTS.yaml...]
# — kign's end-to-end test (`make e2e`).
#
# For each inventory (default: examples/seed/hosts.yaml; any inventory of 3
# or more masters): real Ignition applies every host's config from kign gen
# (pointed at a test mirror, the air-gapped path), systemd boots each root
# in its own network namespace, and the control plane must come up, hold the
# VIP and survive an apiserver and an etcd fault. See e2e/README.md.
#
# --selftest also runs the harness's own tests on the first inventory: a
# config with one hostPath mount removed, and one naming an image the
# registry does not hold, must each fail the run.
# --lifecycle=VERSION also runs the lifecycle test on the first inventory:
# a cluster made on VERSION (the minor before the inventory's) is upgraded
# by reprovisioning its masters one at a time, a master is added and one
# removed with kign hosts remove.
# --boot also runs the QEMU boot lane on the first inventory's first host
# (e2e/bootlane_test.go): PXE through iPXE into the test OS, the install to
# a virtual disk and its first boot, then a boot with only the pointer
# config in fw_cfg; --boot-only runs nothing else (`make e2e-boot`).
# With --boot the test OS base (hack/e2e-testos.sh) is built in the
# background from the start. --boot-deadline=EPOCH (seconds since 1970)
# starts the boot lane only if 840 s remain before EPOCH (its slowest
# measured time, 734 s, and about 15%), with go test's timeout set to the
# time left; otherwise it is reported as SKIP and the run's status is that
# of the rest (.ci/run sets it to its start + 86 min, so that a slow CI
# machine ends inside CI's 90).
#
# Needs root (network namespaces, mounts, systemd-nspawn), gcc and
# libblkid-dev (Ignition), keepalived. Tools are built on first use into
# ${KIGN_TOOLS:-$HOME/.cache/kign-tools} (hack/e2e-tools.sh; cold about 16
# minutes for one Kubernetes minor and the rest, 7 for another minor, warm a
# few seconds); the later inventories' are built while the first lane runs.
#
# Environment: KIGN (a kign binary; default: built to bin/kign),
# E2E_TIMEOUT (go test -timeout per inventory, default 60m), E2E_KEEP=1
# (keep each run's work folder under /var/tmp).
set -euo pipefail
cd "$(dirname "$0")/.."

selftest=0
boot=0
boot_deadline=
lifecycle=
hosts=()
for a in "$@"; do
	case $a in
	--selftest) selftest=1 ;;
	--lifecycle=*) lifecycle=${a#--lifecycle=} ;;
	--boot) boot=1 ;;
	--boot-only) boot=2 ;;
	--boot-deadline=*) boot_deadline=${a#--boot-deadline=} ;;
	-h | --help)
		sed -n '2,/^set -e/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) hosts+=("$a") ;;
	esac
done
[[ ${#hosts[@]} -gt 0 ]] || hosts=(examples/seed/hosts.yaml)
if [[ -n $boot_deadline && ! $boot_deadline =~ ^[0-9]+$ ]]; then
	echo "e2e: --boot-deadline=$boot_deadline: want seconds since 1970 (date +%s)" >&2
	exit 2
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "e2e: needs root (network namespaces, mounts, systemd-nspawn)" >&2
	exit 1
fi
for i in "${!hosts[@]}"; do
	h=${hosts[$i]}
	[[ -f $h ]] || { echo "e2e: no inventory $h" >&2; exit 2; }
	hosts[$i]=$(cd "$(dirname "$h")" && pwd)/$(basename "$h")
done

start=$SECONDS
# The test OS base (debootstrap, 70 to 90 s cold) is built in the
# background while the nspawn lanes run; the boot lane waits for it. On
# exit it is waited for, not killed: debootstrap's own children would
# outlive a kill and leave a half-made folder behind.
testos_pid=
testos_log=
if ((boot == 1)); then
	testos_log=$(mktemp /tmp/kign-e2e-testos.XXXXXX)
	hack/e2e-testos.sh >/dev/null 2>"$testos_log" &
	testos_pid=$!
fi
# The later inventories' tools, built in the background (below): stopped
# on exit, their process group with them.
prebuild_pid=
prebuild_log=
trap '[[ -z $prebuild_pid ]] || { kill -- "-$prebuild_pid" 2>/dev/null || true; wait "$prebuild_pid" 2>/dev/null || true; }
	[[ -z $testos_pid ]] || wait "$testos_pid" 2>/dev/null || true
	rm -f "$testos_log" "$prebuild_log"' EXIT
kign=${KIGN:-}
if [[ -z $kign ]]; then
	go build -o bin/kign ./cmd/kign
	kign=bin/kign
fi
kign=$(cd "$(dirname "$kign")" && pwd)/$(basename "$kign")

echo "e2e: vet and unit tests of the harness (e2e/, its own module)"
(cd e2e && test -z "$(gofmt -l .)" && go vet ./... && go test -count=1 ./...)

timeout=${E2E_TIMEOUT:-60m}
keep=false
[[ ${E2E_KEEP:-0} == 1 ]] && keep=true
summary=()
status=0
run() { # run TEST INVENTORY [ARG...]
	local t0=$SECONDS log
	log=$(mktemp /tmp/kign-e2e-log.XXXXXX)
	echo "e2e: $1 on $2"
	if (cd e2e && go test -count=1 -v -timeout "$timeout" -run "^$1\$" . \
		-args -hosts="$2" -kign="$kign" -keep="$keep" "${@:3}") 2>&1 | tee "$log"; then
		summary+=("PASS $1 $2 ($((SECONDS - t0)) s)")
	else
		summary+=("FAIL $1 $2 ($((SECONDS - t0)) s)")
		status=1
	fi
	while IFS= read -r l; do summary+=("    $l"); done < <(grep -E '^e2e: (control plane ready in|all nodes Ready in|pod network:|service and DNS|host reboot|VIP failover in|planned stop: [0-9]|false failovers:|etcd member loss tolerated|snapshot and restore:|reprovision:|power cycle:|upgrade:|add:|remove:|PXE boot to systemd|pointer boot to systemd)' "$log" || true)
	rm -f "$log"
}
# wait_background PID LOG WHAT: waits for a step started in the background,
# says how long it waited and whether the step worked (where it did not,
# the lane that needs it builds it again), prints its log and returns its
# status.
wait_background() {
	local t0=$SECONDS rc=0
	wait "$1" || rc=$?
	if ((rc == 0)); then
		echo "e2e: (background) $3 ready, waited $((SECONDS - t0)) s:"
	else
		echo "e2e: (background) $3 failed (status $rc); the lane that needs it builds it again:"
	fi
	sed 's/^/e2e: (background) /' "$2"
	return $rc
}
# tools_for INVENTORY: the tools its lane's first step gets (TestE2ETools).
tools_for() {
	(cd e2e && go test -count=1 -v -timeout "$timeout" -run '^TestE2ETools$' . -args -hosts="$1" -kign="$kign")
}
# The later inventories' tools (another Kubernetes minor: about 7 min of
# both cores cold) are built in the background while the first inventory's
# lane runs, once the first's are built (no two builders share a tool
# folder), at the lowest CPU priority: a lane leaves about a core idle, and
# where a lane task wants the same CPU a nice 19 task gets about 1.4% of it
# (CFS weights 15 against 1024, kernel/sched/core.c sched_prio_to_weight;
# measured: the seed lane took 61 s longer, its timing checks held). A later lane
# waits for it; its own first step then finds the tools, or builds what the
# background step could not. It runs in its own process group (set -m),
# stopped as one if the run ends first.
if ((boot != 2 && ${#hosts[@]} > 1)); then
	echo "e2e: tools for ${hosts[0]}"
	tools_for "${hosts[0]}" || echo "e2e: tools for ${hosts[0]} failed; its lane gets them again"
	prebuild_log=$(mktemp /tmp/kign-e2e-tools.XXXXXX)
	set -m
	(
		renice -n 19 -p $BASHPID >/dev/null && ionice -c 2 -n 7 -p $BASHPID
		for h in "${hosts[@]:1}"; do tools_for "$h" || exit 1; done
	) >"$prebuild_log" 2>&1 &
	prebuild_pid=$!
	set +m
	echo "e2e: (background) tools for ${hosts[*]:1} at nice 19, while the first lane runs"
fi
# The slowest scenarios (three VIP failovers, the snapshot restore) run on
# the first inventory only; the others make one failover.
slow=
for h in "${hosts[@]}"; do
	((boot == 2)) && break
	if [[ -n $slow && -n $prebuild_pid ]]; then
		pid=$prebuild_pid prebuild_pid=
		wait_background "$pid" "$prebuild_log" "the later inventories' tools" || true
	fi
	run TestE2E "$h" $slow
	slow=-slow-done
done
if ((selftest && boot != 2)); then
	run TestHarnessCatchesUnmountedPath "${hosts[0]}"
	run TestHarnessCatchesMissingImage "${hosts[0]}"
fi
if [[ -n $lifecycle && $boot != 2 ]]; then
	run TestE2ELifecycle "${hosts[0]}" -upgrade-from="$lifecycle"
fi
# boot_lane_fits: whether the boot lane can end before --boot-deadline
# (the budget grows by the base's build when the background one failed);
# if so, go test's timeout becomes the time left.
boot_budget=840
boot_lane_fits() {
	[[ -z $boot_deadline ]] && return 0
	local left=$((boot_deadline - $(date +%s)))
	if ((left < boot_budget)); then
		echo "e2e: WARNING: boot lane skipped: $left s left before the deadline $(date -u -d "@$boot_deadline" +%H:%M:%S) UTC, it needs $boot_budget"
		return 1
	fi
	timeout=${left}s
}
if ((boot)); then
	if [[ -n $testos_pid ]]; then
		pid=$testos_pid testos_pid=
		wait_background "$pid" "$testos_log" "test OS base (hack/e2e-testos.sh)" || boot_budget=$((boot_budget + 120))
	fi
	if boot_lane_fits; then
		run TestE2EBoot "${hosts[0]}"
	else
		summary+=("SKIP TestE2EBoot ${hosts[0]} (the deadline)")
	fi
fi

echo
echo "e2e: summary ($((SECONDS - start)) s in all)"
printf '%s\n' "${summary[@]}"
exit $status
