#!/bin/sh
# make check-vm: the project on a stock Debian 12 server.
#
#   1. A Debian 12 root made with mmdebstrap from Debian's packages (its
#      kernel, systemd as PID 1, iptables, nftables, python3, ...), cached
#      outside the tree in $VM_CACHE/<hash of its recipe>/ and rebuilt
#      only when absent; its disk image (mkfs.ext4 -d) is cached with it.
#   2. A second, small disk per run: the freshly built .deb, the tree's
#      tests/ and contrib/, and the plain build/ (programs and tools).
#   3. qemu-system-x86_64 boots the root read-only underneath (snapshot=on:
#      every run starts from the same server), with no network device, on
#      KVM where /dev/kvm proves usable (a first console line within
#      VM_KVM_PROBE seconds, else the guest is killed), on TCG otherwise.
#      A oneshot unit in the image mounts the second disk and runs its
#      tests/vm/guest.sh: VM_JOBS lanes, one of which installs the package
#      with `apt install ./portclass_*.deb` and runs tests/vm/t_vm_*.sh in
#      order, while the others run every tests/t_nfq_*.sh, with two warm
#      python3 serving their scripts (tests/nfq/pyfork.py).  lintian checks
#      the package meanwhile.
#      Results come back over the serial console; the guest powers off.
#      A guest that makes no progress (no first line within
#      VM_BOOT_TIMEOUT, then none within a test's bound and a minute) is
#      killed and fails the run instead of hanging CI; so is one still
#      running after VM_TIMEOUT.
#
# usage: tests/vm/run.sh DEB BUILD      (exit 0 ok, 1 failed, 77 skipped)
#        tests/vm/run.sh --check         (0 when it can run, else 77 and why)
#        tests/vm/run.sh --prepare       (only make the cached image)
# env:   VM_CACHE (/var/cache/portclass-vm), VM_TIMEOUT (2400 s for the
#        whole run), VM_BOOT_TIMEOUT (300 s to the guest's first line),
#        VM_SMP (2), VM_MEM (1024), VM_JOBS (2: tests at once),
#        VM_TEST_TIMEOUT (240 s per guest test), VM_TESTS (a regex: only
#        the tests whose file name matches run in the guest; default all),
#        VM_ACCEL (tcg or kvm: no probe), VM_KVM_PROBE (20 s),
#        VM_PROFILE=1 (the guest prints the CPU time its tests' programs
#        took, by program, from process accounting),
#        VM_APPEND (more of the guest kernel's command line),
#        VM_KEEP=1 (keep the work directory)
set -u
cd "$(dirname "$0")/../.." || exit 1

DEB=${1:?usage: run.sh DEB BUILD | --check}
: "${VM_CACHE:=/var/cache/portclass-vm}"
: "${VM_TIMEOUT:=2400}"
: "${VM_BOOT_TIMEOUT:=300}"
: "${VM_SMP:=2}"
: "${VM_MEM:=1024}"
: "${VM_TESTS:=}"
: "${VM_JOBS:=2}"
: "${VM_TEST_TIMEOUT:=240}"

skip() { echo "check-vm: skip: $*"; exit 77; }
die() { echo "check-vm: FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (mmdebstrap, mkfs.ext4 -d of a root file system)"
for t in qemu-system-x86_64 mmdebstrap mkfs.ext4 timeout sha256sum; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not installed (./setup installs it)"
done
[ "$DEB" = --check ] && exit 0
PREPARE=""
[ "$DEB" = --prepare ] && PREPARE=1
if [ -z "$PREPARE" ]; then
	BUILD=${2:?usage: run.sh DEB BUILD}
	[ -s "$DEB" ] || die "$DEB not built"
	[ -x "$BUILD/portclass-nfq" ] || die "$BUILD/portclass-nfq not built"
fi

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)

# The server: Debian's packages, nothing of the project's.  Everything that
# shapes the cached image is in RECIPE, so changing any of it rebuilds.
SUITE=bookworm
PKGS="linux-image-amd64 systemd systemd-sysv dbus iptables nftables iproute2 \
kmod procps python3 python3-scapy netcat-openbsd tcpdump \
libpcap0.8 libnetfilter-queue1 libmnl0 libseccomp2 strace"
BOOT_UNIT='[Unit]
Description=portclass VM test run
After=multi-user.target
ConditionPathExists=/dev/vdb

[Service]
Type=oneshot
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
ExecStart=/bin/sh -c "mkdir -p /mnt/pc && mount -o ro /dev/vdb /mnt/pc && exec /bin/sh /mnt/pc/tests/vm/guest.sh"
ExecStopPost=/bin/systemctl --no-block poweroff

[Install]
WantedBy=multi-user.target'
# shellcheck disable=SC2016
INITRAMFS_HOOK='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks" &&
echo MODULES=list >"$1/etc/initramfs-tools/conf.d/pc-vm" &&
printf "%s\n" "#!/bin/sh" "[ \"\$1\" = prereqs ] && exit 0" ". /usr/share/initramfs-tools/hook-functions" "manual_add_modules virtio_pci virtio_blk ext4 crc32c_generic" >"$1/etc/initramfs-tools/hooks/pc-vm" &&
chmod 755 "$1/etc/initramfs-tools/hooks/pc-vm"'
RECIPE="suite=$SUITE
variant=apt
packages=$PKGS
initramfs=$INITRAMFS_HOOK
size=3G
unit=$BOOT_UNIT
v=1"
KEY=$(printf '%s' "$RECIPE" | sha256sum | cut -c1-16)
CACHE=$VM_CACHE/$KEY
IMG=$CACHE/root.img

if [ ! -s "$IMG" ]; then
	mkdir -p "$VM_CACHE"
	tmp=$(mktemp -d "$VM_CACHE/build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "check-vm: building the Debian $SUITE root in $CACHE (once)"
	t=$(now)
	if [ -n "${VM_ROOT:-}" ]; then
		# Development aid: a root made earlier by hand.
		cp -a "$VM_ROOT" "$tmp/root" || die "cp $VM_ROOT"
	else
		# initramfs-tools builds a small initrd (MODULES=list) with just
		# what mounts the root, instead of most of the kernel's modules:
		# quicker to make, to load and to boot.
		# shellcheck disable=SC2086
		mmdebstrap --variant=apt --include="$(echo $PKGS | tr ' ' ',')" \
			--dpkgopt=force-unsafe-io \
			--setup-hook="$INITRAMFS_HOOK" \
			"$SUITE" "$tmp/root" >"$tmp/mmdebstrap.log" 2>&1 ||
			{ tail -n 30 "$tmp/mmdebstrap.log"; die "mmdebstrap failed"; }
	fi
	echo "check-vm: mmdebstrap: $(secs "$t" "$(now)") s"
	r=$tmp/root
	# mmdebstrap leaves its dpkg options in the root: the package under test
	# is installed with Debian's defaults (man pages and all).
	rm -f "$r/etc/dpkg/dpkg.cfg.d/99mmdebstrap"
	echo '/dev/vda / ext4 defaults 0 1' >"$r/etc/fstab"
	echo portclass-vm >"$r/etc/hostname"
	# The serial console carries the results: no login prompt on it.
	ln -sf /dev/null "$r/etc/systemd/system/serial-getty@ttyS0.service"
	printf '%s\n' "$BOOT_UNIT" >"$r/etc/systemd/system/pc-vm.service"
	ln -sf /etc/systemd/system/pc-vm.service \
		"$r/etc/systemd/system/multi-user.target.wants/pc-vm.service"
	ls "$r"/boot/vmlinuz-* "$r"/boot/initrd.img-* >/dev/null 2>&1 ||
		die "no kernel or initrd in the root"
	t=$(now)
	truncate -s 3G "$tmp/root.img"
	mkfs.ext4 -q -L pc-root -d "$r" "$tmp/root.img" || die "mkfs.ext4 -d"
	cp "$r"/boot/vmlinuz-* "$tmp/vmlinuz"
	cp "$r"/boot/initrd.img-* "$tmp/initrd.img"
	printf '%s\n' "$RECIPE" >"$tmp/recipe"
	echo "check-vm: root image: $(secs "$t" "$(now)") s"
	rm -rf "$r"
	rm -rf "$CACHE"
	mv "$tmp" "$CACHE" || die "cannot move the image to $CACHE"
	trap - EXIT
fi

[ -z "$PREPARE" ] || { echo "check-vm: $IMG ready"; exit 0; }

# The run's own disk: what the guest tests, fresh from this tree.
W=$(mktemp -d /tmp/pc-vm.XXXXXX)
LINT=""
if [ -n "${VM_KEEP:-}" ]; then
	trap '[ -z "$LINT" ] || wait "$LINT"' EXIT
else
	trap '[ -z "$LINT" ] || wait "$LINT"; rm -rf "$W"' EXIT
fi
t=$(now)
P=$W/payload
mkdir -p "$P/build"
cp -a tests contrib "$P/"
cp "$DEB" "$P/"
# The plain programs and tools only: no objects.
for f in "$BUILD"/portclass "$BUILD"/portclass-replay "$BUILD"/portclass-nfq; do
	cp "$f" "$P/build/"
done
[ -d "$BUILD/tools" ] && cp -a "$BUILD/tools" "$P/build/"
printf '%s\n' "$VM_TESTS" >"$P/vm-tests"
printf 'VM_JOBS=%s\nVM_TEST_TIMEOUT=%s\nVM_PROFILE=%s\n' "$VM_JOBS" "$VM_TEST_TIMEOUT" \
	"${VM_PROFILE:-}" >"$P/vm-env"
truncate -s 256M "$W/payload.img"
mkfs.ext4 -q -L pc-payload -d "$P" "$W/payload.img" || die "mkfs.ext4 -d payload"
echo "check-vm: payload image: $(secs "$t" "$(now)") s"

# The package as Debian's checker sees it: no errors.  lintian runs beside
# the guest; its verdict is read once the guest is done.
if command -v lintian >/dev/null 2>&1; then
	(
		t=$(now)
		lintian --fail-on error "$DEB" >"$W/lintian.out" 2>&1
		echo "$? $(secs "$t" "$(now)")" >"$W/lintian.rc"
	) &
	LINT=$!
fi

# qemu: KVM where /dev/kvm is there and proves usable (a first console
# line within VM_KVM_PROBE seconds: a KVM guest has been seen to hang in
# early boot), else TCG.  VM_ACCEL=tcg|kvm forces one.
qemu_start() {
	: >"$W/serial.log"
	if [ "$1" = kvm ]; then
		set -- -accel kvm -cpu host
	else
		set -- -accel tcg -cpu max
	fi
	timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 "$@" \
		-m "$VM_MEM" -smp "$VM_SMP" -display none -monitor none -no-reboot \
		-serial "file:$W/serial.log" -nic none \
		-kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 systemd.show_status=0 loglevel=3 panic=-1 ${VM_APPEND:-}" \
		-drive "file=$IMG,format=raw,if=virtio,snapshot=on" \
		-drive "file=$W/payload.img,format=raw,if=virtio,readonly=on" \
		>"$W/qemu.log" 2>&1 &
	QEMU=$!
}
t=$(now)
ACCEL=${VM_ACCEL:-}
if [ -z "$ACCEL" ]; then
	ACCEL=tcg
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && ACCEL=kvm
fi
if [ "$ACCEL" = kvm ] && [ -z "${VM_ACCEL:-}" ]; then
	qemu_start kvm
	i=0
	while kill -0 "$QEMU" 2>/dev/null && [ ! -s "$W/serial.log" ] &&
		[ $i -lt $((${VM_KVM_PROBE:-20} * 5)) ]; do
		sleep 0.2
		i=$((i + 1))
	done
	if [ ! -s "$W/serial.log" ]; then
		kill "$QEMU" 2>/dev/null
		wait "$QEMU" 2>/dev/null
		echo "check-vm: KVM: no console output within ${VM_KVM_PROBE:-20} s" \
			"($(head -c 200 "$W/qemu.log" | tr '\n' ' ')); TCG instead"
		ACCEL=tcg
		t=$(now)
		qemu_start tcg
	fi
else
	qemu_start "$ACCEL"
fi
echo "check-vm: guest on $ACCEL, $VM_SMP vCPUs, VM_JOBS=$VM_JOBS"
# A guest that stops making progress fails early: no first line within
# VM_BOOT_TIMEOUT, then no new line within a test's bound and a minute.
# VM_TIMEOUT caps the whole run.
seen=0 last=$(date +%s) limit=$VM_BOOT_TIMEOUT stalled=""
printed=0
while kill -0 "$QEMU" 2>/dev/null; do
	sleep 2
	n=$(grep -ac '^pcvm: ' "$W/serial.log")
	if [ "$n" -gt "$seen" ]; then
		# Progress as it comes (the guest's own lines start with "pcvm: ";
		# the rest of the console is the kernel's and systemd's).
		sed -n 's/\r$//; s/^pcvm: //p' "$W/serial.log" | tail -n +$((printed + 1))
		printed=$(sed -n 's/\r$//; s/^pcvm: //p' "$W/serial.log" | wc -l)
		seen=$n
		last=$(date +%s)
		limit=$((VM_TEST_TIMEOUT + 60))
	elif [ $(($(date +%s) - last)) -gt "$limit" ]; then
		stalled=1
		kill "$QEMU" 2>/dev/null
		break
	fi
done
wait "$QEMU"
qrc=$?
sed -n 's/\r$//; s/^pcvm: //p' "$W/serial.log" | tail -n +$((printed + 1))
boot=$(secs "$t" "$(now)")
echo "check-vm: guest run: $boot s (qemu exit $qrc), whole stage: $(secs "$T0" "$(now)") s"
if [ -n "$stalled" ] || [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "--- last console lines"
	tail -n 40 "$W/serial.log"
	[ -n "$stalled" ] && die "the guest made no progress for $limit s"
	die "the guest did not power off within $VM_TIMEOUT s"
fi
[ "$qrc" -eq 0 ] || { cat "$W/qemu.log"; die "qemu exited $qrc"; }
if [ -n "$LINT" ]; then
	wait "$LINT"
	read -r lrc lsecs <"$W/lintian.rc" || lrc=1
	grep -E '^[EW]: ' "$W/lintian.out"
	echo "check-vm: lintian: $(grep -c '^E: ' "$W/lintian.out") errors," \
		"$(grep -c '^W: ' "$W/lintian.out") warnings (${lsecs:-?} s, beside the guest)"
	[ "$lrc" -eq 0 ] || die "lintian found errors in $DEB"
else
	echo "check-vm: lintian not installed, package not checked"
fi
summary=$(sed -n 's/\r$//; s/^pcvm: \(vm: [0-9]* passed, [0-9]* failed, [0-9]* skipped\)$/\1/p' \
	"$W/serial.log" | tail -n 1)
if [ -z "$summary" ]; then
	echo "--- last console lines"
	tail -n 40 "$W/serial.log"
	die "no closing line from the guest"
fi
case "$summary" in
*" 0 failed,"*) exit 0 ;;
*) exit 1 ;;
esac
