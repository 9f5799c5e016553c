#!/bin/sh
# Install hwd on a hall PC (as root):  make install  (or: sh scripts/install.sh)
#
#   /opt/hwd/venv                 the package and its Python dependencies (a venv; upgraded in place)
#   /opt/hwd/bin/hwd-kiosk-browser, /opt/hwd/share/{doc,examples}
#   /usr/local/bin/{hwd,hwctl}    links into the venv, for the field engineer
#   /etc/hwd/hwd.toml             config: created from the example only when missing, never
#                                 overwritten; the new example always lands in hwd.toml.example
#   /etc/systemd/system/          hwd.service, hwd-ui.service, hwd-kiosk{,-x11}.service,
#                                 hwd-metrics.{service,timer} (node_exporter's textfile; not enabled)
#   /etc/udev/rules.d/60-hwd.rules (+ 61-hwd-local.rules from the example, once)
#   /etc/sysusers.d/hwd.conf, /etc/tmpfiles.d/hwd.conf, /etc/pam.d/hwd-kiosk
#   users hwd, hwd-ui, hwd-kiosk; /var/lib/hwd (state: never touched by an upgrade)
#   /var/backups/hwd/hall-before-install-*.sqlite3  a copy of the hall's database before each
#                                 install (the newest 3); an install over a database newer than this
#                                 tree's hwd reads is refused before anything changes
#
# Environment (all optional):
#   DESTDIR=DIR     stage everything under DIR: no users, no chown, no systemctl/udevadm calls
#                   (used by the tests and to build packages)
#   PREFIX=/opt/hwd where the venv and hwd's own files go
#   PYTHON=python3  the interpreter the venv is made from (3.11 or newer)
#   WHEELHOUSE=DIR  install from wheels in DIR only (halls without internet: make wheelhouse)
#   NO_VENV=1       do not create or upgrade the venv (tests; packaging that brings its own)
#   UI=0            do not enable hwd-ui.service (e.g. on a window PC)
#   KIOSK=1         enable the kiosk browser (hwd-kiosk.service with cage, else hwd-kiosk-x11)
#   NO_START=1      enable the services but do not (re)start them now
#   NO_SYSDEPS=1    do not apt-get the system packages hwd uses (alsa-utils, espeak-ng, sqlite3,
#                   a CJK font, python3-venv; with KIOSK=1 chromium, cage and xwayland)
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/opt/hwd}
# the system's Python by default: a pyenv/conda one under /root or /home is unreadable to user
# hwd and hidden by hwd.service's ProtectHome=
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        && PYTHON=/usr/bin/python3
fi
WHEELHOUSE=${WHEELHOUSE:-}
if [ -n "$WHEELHOUSE" ]; then
    [ -d "$WHEELHOUSE" ] || { echo "install: WHEELHOUSE=$WHEELHOUSE is not a directory (make wheelhouse)" >&2; exit 1; }
    WHEELHOUSE=$(cd "$WHEELHOUSE" && pwd)
fi
NO_VENV=${NO_VENV:-0}
UI=${UI:-1}
KIOSK=${KIOSK:-0}
NO_START=${NO_START:-0}
NO_SYSDEPS=${NO_SYSDEPS:-0}
SYSCONFDIR=/etc
UNITDIR=$SYSCONFDIR/systemd/system
UDEVDIR=$SYSCONFDIR/udev/rules.d
BINDIR=/usr/local/bin
D=$DESTDIR
MANIFEST=$PREFIX/share/install-manifest.txt

say() { echo "install: $*"; }
die() { echo "install: $*" >&2; exit 1; }

[ -n "$D" ] || [ "$(id -u)" = 0 ] || die "run as root (sudo make install), or set DESTDIR to stage"
[ -f "$SRC/setup.cfg" ] && [ -d "$SRC/systemd" ] || die "$SRC is not an hwd source tree"
if [ -n "$D" ]; then live=0; else live=1; fi
if [ "$live" = 1 ] && [ -d /run/systemd/system ]; then systemd_running=1; else systemd_running=0; fi

# --- the hall's state: never under an older hwd; copied before every install ------------------------
# (first of all: a refused rollback changes nothing, the hall keeps running the newer version)
# (a Python older than 3.11 is refused with its own message further down)
if [ "$live" = 1 ] && "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    "$PYTHON" "$SRC/scripts/statecheck.py" --config $SYSCONFDIR/hwd/hwd.toml --backup-dir /var/backups/hwd \
        || die "not installed (see above)"
fi

installed=""
# put SRC DEST MODE: copy a file, remember it for uninstall
put() {
    install -D -m "$3" "$1" "$D$2"
    installed="$installed
$2"
}
# put_once SRC DEST MODE: like put, but never replace an existing file (the hall's own)
put_once() {
    if [ -e "$D$2" ]; then
        say "keeping $2"
    else
        install -D -m "$3" "$1" "$D$2"
        say "created $2"
    fi
}

# --- users -------------------------------------------------------------------------------------
put "$SRC/systemd/sysusers.d/hwd.conf" $SYSCONFDIR/sysusers.d/hwd.conf 0644
if [ "$live" = 1 ]; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers $SYSCONFDIR/sysusers.d/hwd.conf
    else
        # no sysusers (old or non-systemd distribution): the same with shadow's tools
        for spec in "hwd:/var/lib/hwd" "hwd-ui:/var/lib/hwd-ui" "hwd-kiosk:/var/lib/hwd-kiosk"; do
            name=${spec%%:*}
            home=${spec#*:}
            getent group "$name" >/dev/null || groupadd --system "$name"
            getent passwd "$name" >/dev/null || useradd --system --gid "$name" --home-dir "$home" \
                --no-create-home --shell /usr/sbin/nologin "$name"
        done
        for g in dialout lp input audio; do
            getent group "$g" >/dev/null && usermod -a -G "$g" hwd
        done
        usermod -a -G hwd hwd-ui
        for g in audio video; do
            getent group "$g" >/dev/null && usermod -a -G "$g" hwd-kiosk
        done
    fi
fi

# --- system packages (Debian-like systems; skipped with NO_SYSDEPS=1 or without apt-get) ---------
if [ "$live" = 1 ] && [ "$NO_SYSDEPS" != 1 ] && command -v apt-get >/dev/null 2>&1; then
    want=""
    if [ "$NO_VENV" != 1 ] && ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        want="$want python3-venv"
    fi
    command -v aplay >/dev/null 2>&1 || want="$want alsa-utils"
    command -v espeak-ng >/dev/null 2>&1 || want="$want espeak-ng"
    command -v sqlite3 >/dev/null 2>&1 || want="$want sqlite3"
    fc-list :lang=zh 2>/dev/null | grep -q . || want="$want fontconfig fonts-wqy-microhei"
    if [ "$KIOSK" = 1 ]; then
        command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || want="$want chromium"
        # cage 0.1.4 (Debian 12) refuses to start without Xwayland
        command -v cage >/dev/null 2>&1 || want="$want cage"
        command -v Xwayland >/dev/null 2>&1 || want="$want xwayland"
    fi
    if [ -n "$want" ]; then
        say "installing system packages:$want"
        # shellcheck disable=SC2086
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q $want; then
            say "WARNING: apt-get could not install$want (offline?); hwctl doctor will list what is missing"
        fi
    fi
fi

# --- the package --------------------------------------------------------------------------------
if [ "$NO_VENV" != 1 ]; then
    venv=$D$PREFIX/venv
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$PYTHON is older than 3.11; set PYTHON=python3.11 (or newer)"
    base=$("$PYTHON" -c 'import os, sys; print(os.path.realpath(sys.executable))')
    case "$base" in
        /root/*|/home/*|/run/user/*)
            die "$PYTHON is $base: user hwd cannot run it (ProtectHome=); use a system Python, e.g. PYTHON=/usr/bin/python3.11" ;;
    esac
    if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
        say "the venv's Python is gone (system upgrade?): rebuilding $PREFIX/venv"
        rm -rf "$venv"
    elif [ -x "$venv/bin/python" ] && [ "$("$venv/bin/python" -c 'import os, sys; print(os.path.realpath(sys.executable))')" != "$base" ]; then
        say "the venv was made from another Python: rebuilding $PREFIX/venv from $base"
        rm -rf "$venv"
    fi
    if [ ! -x "$venv/bin/python" ]; then
        say "creating $PREFIX/venv"
        "$PYTHON" -m venv "$venv"
    fi
    say "installing hwd into $PREFIX/venv"
    # Offline, every pip call looks in the wheelhouse and nowhere else, the build of hwd itself
    # too (it needs setuptools and wheel): a global PIP_FIND_LINKS on the developers' machines once
    # hid a call that did not. make test-install installs with `env -i` in a booted Debian.
    venv_pip() {
        if [ -n "$WHEELHOUSE" ]; then
            "$venv/bin/python" -m pip "$@" -q --no-index --find-links "$WHEELHOUSE"
        else
            "$venv/bin/python" -m pip "$@" -q
        fi
    }
    [ -n "$WHEELHOUSE" ] || venv_pip install --upgrade pip
    # this tree built once, then installed with its dependencies; pip skips a same-version
    # reinstall, so the second call makes sure this tree's code is what runs
    build=$(mktemp -d)
    venv_pip wheel --no-deps --wheel-dir "$build" "$SRC"
    wheel=$(ls "$build"/hwd-*.whl)
    venv_pip install --upgrade "$wheel[all]"
    venv_pip install --no-deps --force-reinstall "$wheel"
    rm -rf "$build"
fi
mkdir -p "$D$BINDIR"
for cmd in hwd hwctl; do
    ln -sfn "$PREFIX/venv/bin/$cmd" "$D$BINDIR/$cmd"
    installed="$installed
$BINDIR/$cmd"
done
put "$SRC/systemd/hwd-kiosk-browser" "$PREFIX/bin/hwd-kiosk-browser" 0755
[ -f "$SRC/docs/deploy.md" ] && put "$SRC/docs/deploy.md" "$PREFIX/share/doc/deploy.md" 0644
[ -f "$SRC/docs/central.md" ] && put "$SRC/docs/central.md" "$PREFIX/share/doc/central.md" 0644
put "$SRC/config/hwd.example.toml" "$PREFIX/share/examples/hwd.example.toml" 0644
[ -f "$SRC/config/demo.toml" ] && put "$SRC/config/demo.toml" "$PREFIX/share/examples/demo.toml" 0644

# --- config (the hall's: never overwritten) ------------------------------------------------------
install -d -m 0750 "$D$SYSCONFDIR/hwd" "$D$SYSCONFDIR/hwd/keys" "$D$SYSCONFDIR/hwd/keys/clients"
put_once "$SRC/config/hwd.example.toml" $SYSCONFDIR/hwd/hwd.toml 0640
install -m 0640 "$SRC/config/hwd.example.toml" "$D$SYSCONFDIR/hwd/hwd.toml.example"
put_once "$SRC/systemd/hwd-ui.env" $SYSCONFDIR/hwd/hwd-ui.env 0640
put_once "$SRC/systemd/kiosk.env" $SYSCONFDIR/hwd/kiosk.env 0644

# --- units, rules, snippets ----------------------------------------------------------------------
for unit in hwd.service hwd-ui.service hwd-kiosk.service hwd-kiosk-x11.service hwd-central.service \
    hwd-metrics.service hwd-metrics.timer; do
    put "$SRC/systemd/$unit" "$UNITDIR/$unit" 0644
done
put "$SRC/systemd/60-hwd.rules" "$UDEVDIR/60-hwd.rules" 0644
put_once "$SRC/systemd/61-hwd-local.rules.example" "$UDEVDIR/61-hwd-local.rules" 0644
put "$SRC/systemd/tmpfiles.d/hwd.conf" $SYSCONFDIR/tmpfiles.d/hwd.conf 0644
put "$SRC/systemd/pam.d/hwd-kiosk" $SYSCONFDIR/pam.d/hwd-kiosk 0644
# the manifest of what uninstall removes; an upgrade adds to it, so files of older versions go too
{ printf '%s\n' $installed; if [ -f "$D$MANIFEST" ]; then cat "$D$MANIFEST"; fi; } | sed '/^$/d' | sort -u \
    > "$D$MANIFEST.new"
mv "$D$MANIFEST.new" "$D$MANIFEST"

# --- ownership and directories -------------------------------------------------------------------
if [ "$live" = 1 ]; then
    # what an uninstall kept belongs to the users of then, whose ids may now be another's
    for spec in hwd:/var/lib/hwd hwd-ui:/var/lib/hwd-ui hwd-kiosk:/var/lib/hwd-kiosk; do
        user=${spec%%:*}
        dir=${spec#*:}
        if [ -d "$dir" ] && [ "$(stat -c %U "$dir")" != "$user" ]; then
            say "giving $dir (kept from an earlier install) to user $user"
            chown -R "$user:$user" "$dir"
        fi
    done
    for dir in $SYSCONFDIR/hwd /var/backups/hwd; do
        if [ -d "$dir" ] && [ "$(stat -c %G "$dir")" != hwd ]; then
            say "giving $dir (kept from an earlier install) to group hwd"
            chgrp -R hwd "$dir"
        fi
    done
    # /etc/hwd stays root's, group hwd may add to it (3770: setgid, sticky): hwd renames its new
    # config over hwd.toml, which is its own file; the sticky bit keeps anyone but root from
    # renaming the keys or another's file (and systemd-tmpfiles refuses a root file under a
    # directory another user owns)
    chown root:hwd $SYSCONFDIR/hwd
    chmod 3770 $SYSCONFDIR/hwd
    chown hwd:hwd $SYSCONFDIR/hwd/hwd.toml
    chown root:hwd $SYSCONFDIR/hwd/keys $SYSCONFDIR/hwd/keys/clients \
        $SYSCONFDIR/hwd/hwd.toml.example $SYSCONFDIR/hwd/hwd-ui.env
    if command -v systemd-tmpfiles >/dev/null 2>&1; then
        systemd-tmpfiles --create $SYSCONFDIR/tmpfiles.d/hwd.conf
    else
        install -d -m 0750 -o hwd -g hwd /var/lib/hwd
        install -d -m 0750 -o root -g hwd /var/backups/hwd
        install -d -m 0750 -o hwd-ui -g hwd-ui /var/lib/hwd-ui
        install -d -m 0700 -o hwd-kiosk -g hwd-kiosk /var/lib/hwd-kiosk
    fi
    # the hall's key files (appointment HMAC, ticket tokens): 0600, outside the database
    if [ -x "$PREFIX/venv/bin/hwctl" ]; then
        "$PREFIX/venv/bin/hwctl" hall-keys /var/lib/hwd/keys && chown -R hwd:hwd /var/lib/hwd/keys || \
            say "WARNING: could not make the hall keys; hwd makes them on its first start"
    fi
    if [ -x "$PREFIX/venv/bin/hwd" ] && ! "$PREFIX/venv/bin/hwd" --config $SYSCONFDIR/hwd/hwd.toml --check; then
        say "WARNING: /etc/hwd/hwd.toml does not pass --check with this version: fix it"
        say "         (compare with /etc/hwd/hwd.toml.example), then: systemctl restart hwd"
    fi
    if command -v udevadm >/dev/null 2>&1 && [ -S /run/udev/control ]; then
        udevadm control --reload
        udevadm trigger --action=add --subsystem-match=tty --subsystem-match=usbmisc --subsystem-match=usb || true
    fi
fi

# --- enable (and start) --------------------------------------------------------------------------
units="hwd.service"
[ "$UI" = 1 ] && units="$units hwd-ui.service"
if [ "$KIOSK" = 1 ]; then
    if [ "$live" = 0 ] || command -v cage >/dev/null 2>&1; then
        units="$units hwd-kiosk.service"
    else
        say "cage not found: using the X11 kiosk (apt install cage xwayland, or xorg xinit matchbox-window-manager)"
        units="$units hwd-kiosk-x11.service"
    fi
fi
if command -v systemctl >/dev/null 2>&1; then
    if [ "$live" = 0 ]; then
        # shellcheck disable=SC2086
        systemctl --root="$D" enable $units >/dev/null 2>&1 || say "could not enable $units under $D"
    else
        [ "$systemd_running" = 1 ] && systemctl daemon-reload
        # shellcheck disable=SC2086
        systemctl enable $units
        if [ "$systemd_running" = 1 ] && [ "$NO_START" != 1 ]; then
            # shellcheck disable=SC2086
            systemctl restart $units
            say "started: $units (systemctl status hwd; journalctl -u hwd -f)"
        elif [ "$systemd_running" = 0 ]; then
            say "systemd is not running here: $units enabled, they start at the next boot"
        fi
    fi
else
    say "no systemctl: start hwd yourself: $PREFIX/venv/bin/hwd --config /etc/hwd/hwd.toml"
fi
say "done. Next: edit /etc/hwd/hwd.toml, then run: hwctl --config /etc/hwd/hwd.toml doctor"
