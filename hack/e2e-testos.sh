#!/usr/bin/env bash
# e2e-testos.sh — the base of the test OS the QEMU boot lane boots
# (e2e/bootlane_test.go, `make e2e-boot`): a Debian kernel, the kernel
# modules the boot chain and the node software load, busybox for the
# initramfs, and a Debian root made by debootstrap. Prints DIR on stdout.
#
#   $KIGN_TOOLS/testos-bookworm-<kernel package version>-r<REV>/
#     vmlinuz               the kernel of Debian's linux-image-amd64
#     modules/lib/modules/<kver>/  a subset of its modules, with depmod's index
#     busybox               Debian's busybox-static
#     root/                 debootstrap --variant=minbase bookworm, trimmed
#     KVER                  the kernel release
#
# The machine's own kernel and packages are never touched: the kernel and
# busybox are fetched with `apt-get download` and unpacked with dpkg-deb -x
# (the recipe in the verification notes, "Booting a real kernel").
# Cold: 94 s on 2 cores at d9b94a3 (debootstrap most of it); warm: instant.
set -euo pipefail
REV=2
tools=${KIGN_TOOLS:-$HOME/.cache/kign-tools}
mkdir -p "$tools"
tools=$(cd "$tools" && pwd)
log() { echo "e2e-testos: $*" >&2; }

need=()
for cmd in debootstrap:debootstrap depmod:kmod; do
	command -v "${cmd%%:*}" >/dev/null || need+=("${cmd#*:}")
done
if ((${#need[@]})); then
	log "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

kpkg=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ {print $2; exit}')
[[ -n $kpkg ]] || { log "no kernel package behind linux-image-amd64 (apt-get update?)"; exit 1; }
kver_pkg=$(apt-cache show "$kpkg" | awk '$1 == "Version:" {print $2; exit}')
dir=$tools/testos-bookworm-$kver_pkg-r$REV
if [[ -f $dir/done ]]; then
	echo "$dir"
	exit 0
fi
t0=$SECONDS
rm -rf "$dir" "$dir.tmp"
mkdir -p "$dir.tmp/deb"
tmp=$dir.tmp
log "kernel $kpkg $kver_pkg, busybox-static (apt-get download)"
(cd "$tmp/deb" && apt-get download -q "$kpkg" busybox-static >&2)
dpkg-deb -x "$tmp/deb/${kpkg}_"*.deb "$tmp/kernel"
dpkg-deb -x "$tmp/deb/busybox-static_"*.deb "$tmp/busybox"
kver=${kpkg#linux-image-}
cp "$tmp/kernel/boot/vmlinuz-$kver" "$tmp/vmlinuz"
cp "$tmp/busybox/bin/busybox" "$tmp/busybox.bin"

# The modules: what the boot chain needs (virtio, ext4, vfat, squashfs,
# overlay, qemu_fw_cfg) and what containerd and the kubelet load (overlay,
# bridge, br_netfilter, veth, vxlan, netfilter). Whole fs/, net/, lib/,
# crypto/ and arch/, and the few drivers a QEMU machine has.
src=$tmp/kernel/lib/modules/$kver
dst=$tmp/modules/lib/modules/$kver
mkdir -p "$dst/kernel/drivers/net" "$dst/kernel/drivers/block" "$dst/kernel/drivers/firmware"
for d in fs net lib crypto arch; do cp -a "$src/kernel/$d" "$dst/kernel/"; done
cp -a "$src/kernel/drivers/virtio" "$dst/kernel/drivers/"
cp -a "$src/kernel/drivers/block/virtio_blk.ko" "$src/kernel/drivers/block/loop.ko" "$dst/kernel/drivers/block/"
cp -a "$src/kernel/drivers/firmware/qemu_fw_cfg.ko" "$dst/kernel/drivers/firmware/"
for m in virtio_net.ko net_failover.ko veth.ko dummy.ko tun.ko vxlan; do
	cp -a "$src/kernel/drivers/net/$m" "$dst/kernel/drivers/net/"
done
cp "$src/modules.order" "$src/modules.builtin" "$src/modules.builtin.modinfo" "$dst/"
depmod -b "$tmp/modules" "$kver"
echo "$kver" >"$tmp/KVER"

# curl: kign's host scripts call it (etcd-member.sh); both OSes ship it.
log "debootstrap --variant=minbase bookworm"
mirror=$(awk '$1 == "URIs:" {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
debootstrap --variant=minbase --include=systemd-sysv,udev,kmod,iproute2,iptables,curl \
	bookworm "$tmp/root" "${mirror:-http://deb.debian.org/debian}" >"$tmp/debootstrap.log" 2>&1 ||
	{ tail -20 "$tmp/debootstrap.log" >&2; exit 1; }
# Trim what a booted test machine never reads.
rm -rf "$tmp/root"/usr/share/{doc,man,info,locale} "$tmp/root"/var/cache/apt/* "$tmp/root"/var/lib/apt/lists/*
# First boot: systemd applies the presets (as on Fedora CoreOS) when the
# machine ID is not yet set.
echo uninitialized >"$tmp/root/etc/machine-id"
rm -rf "$tmp/deb" "$tmp/kernel" "$tmp/busybox"
mv "$tmp/busybox.bin" "$tmp/busybox"
touch "$tmp/done"
mv "$tmp" "$dir"
log "ready in $((SECONDS - t0)) s: $dir ($(du -sh "$dir" | cut -f1))"
echo "$dir"
