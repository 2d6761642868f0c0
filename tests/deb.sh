#!/bin/bash
# make check-deb: the package of make deb, installed as a user would
# (apt-get install ./vforkshim_*.deb) in a clean minbase chroot of each
# release given (default bookworm and trixie), as root: the files where
# Debian puts them, `vforkshim doctor` says rerouting works, a Ruby and a
# Perl spawn rerouted under `vforkshim --stats`, a systemd drop-in written
# and removed, then `apt-get purge` leaves the file system as it was.
#   tests/deb.sh [RELEASE...]
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
releases=${*:-bookworm trixie}
[ "$(id -u)" = 0 ] || { echo "skip: make check-deb needs root (chroots)"; exit 0; }
share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT
deb=$(ls build/deb/vforkshim_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { bad "no package: run make deb first"; summary deb; exit 1; }
cp "$deb" "$share/"
cat > "$share/inside.sh" <<'IN'
#!/bin/bash
# runs in the clean chroot; prints "key value" lines the host checks
set -u
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq > /dev/null 2>&1
apt-get install -y -qq --no-install-recommends ruby > /dev/null 2>&1 || echo "ruby-install failed"
snap() { find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /mnt -o -path /tmp \
	-o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache -o -path /var/log -o -path /run \) -prune \
	-o -print | sort; }
snap > /tmp/before
apt-get install -y -qq /mnt/vforkshim_*.deb > /tmp/install.log 2>&1; echo "install $?"
echo "files $(dpkg -L vforkshim | tr '\n' ' ')"
vforkshim doctor > /tmp/doctor 2>&1; echo "doctor $?"
sed 's/^/doctor: /' /tmp/doctor
vforkshim --stats -- ruby -e 'system("/bin/true"); print `echo hi`' > /tmp/ruby.out 2> /tmp/ruby.err
echo "ruby $(cat /tmp/ruby.out) $(grep -o 'fork_rerouted=[0-9]*' /tmp/ruby.err)"
vforkshim --stats -- perl -e 'system("/bin/true") == 0 or die' 2> /tmp/perl.err; echo "perl $? $(grep -o 'fork_rerouted=[0-9]*' /tmp/perl.err)"
mkdir -p /etc/systemd/system
printf '[Service]\nExecStart=/bin/true\n' > /etc/systemd/system/demo.service
vforkshim systemd enable demo > /dev/null; echo "enable $? $(grep -c LD_PRELOAD= /etc/systemd/system/demo.service.d/50-vforkshim.conf)"
vforkshim systemd disable demo > /dev/null; echo "disable $?"
rm /etc/systemd/system/demo.service
apt-get purge -y -qq vforkshim > /tmp/purge.log 2>&1; echo "purge $?"
snap > /tmp/after
echo "left $(diff /tmp/before /tmp/after | grep '^[<>]' | tr '\n' ' ')"
IN
chmod +x "$share/inside.sh"
for r in $releases; do
	echo "== $r"
	scripts/userland fresh "$r" "$share" /mnt/inside.sh > "$LOGS/deb-$r" 2>&1
	v() { sed -n "s/^$1 //p" "$LOGS/deb-$r" | head -n 1; }
	check "$r: apt-get install ./$(basename "$deb") (exit $(v install))" test "$(v install)" = 0
	files=$(v files)
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
	check "$r: the front and the engine in the multiarch library directory, the command, its helpers, man pages, gdb script, drop-in example" \
		test "$(for f in "/usr/lib/$ma/vforkshim/libvforkshim.so" "/usr/lib/$ma/vforkshim/libvforkshim-engine.so" \
			/usr/bin/vforkshim /usr/libexec/vforkshim/probe /usr/libexec/vforkshim/ps /usr/libexec/vforkshim/audit /usr/share/man/man1/vforkshim.1.gz \
			/usr/share/man/man7/vforkshim.7.gz /usr/share/vforkshim/vforkshim.gdb /usr/share/vforkshim/vforkshim.conf.example; do
			case " $files " in *" $f "*) ;; *) echo "missing $f" ;; esac; done)" = ""
	check "$r: vforkshim doctor says rerouting works (exit $(v doctor))" \
		test "$(v doctor)/$(grep -c '^doctor: rerouting works here' "$LOGS/deb-$r")" = 0/1
	check "$r: doctor finds Ruby rerouted" grep -q '^doctor:   ruby .*forks, rerouted' "$LOGS/deb-$r"
	check "$r: a Ruby spawn rerouted, its output right ($(v ruby))" test "$(v ruby)" = "hi fork_rerouted=2"
	check "$r: a Perl system() rerouted ($(v perl))" test "$(v perl)" = "0 fork_rerouted=1"
	check "$r: systemd enable/disable with the installed library (exit $(v enable), $(v disable))" \
		test "$(v enable)/$(v disable)" = "0 1/0"
	check "$r: apt-get purge (exit $(v purge)) leaves the file system as before the install: $(v left)" \
		test "$(v purge)/$(v left)" = 0/
done
summary deb
