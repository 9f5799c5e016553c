#!/bin/sh
# Remove hwd from a hall PC (as root):  make uninstall   (or: sh scripts/uninstall.sh)
#
# Stops and disables the services, removes what scripts/install.sh installed (its manifest),
# /opt/hwd, the hwd/hwctl links and the users hwd, hwd-ui and hwd-kiosk. Keeps the hall's data:
# /etc/hwd (config, keys), /var/lib/hwd (queue, ratings) and /etc/udev/rules.d/61-hwd-local.rules —
# unless PURGE=1, which removes those too (a later install gives what was kept to its new users).
# /var/backups/hwd is always kept.
#
# Environment: DESTDIR, PREFIX (as for install.sh), PURGE=1.
set -eu

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/opt/hwd}
PURGE=${PURGE:-0}
D=$DESTDIR
MANIFEST=$PREFIX/share/install-manifest.txt
UNITS="hwd-metrics.timer hwd-metrics.service hwd-central.service hwd-kiosk.service hwd-kiosk-x11.service hwd-ui.service hwd.service"

say() { echo "uninstall: $*"; }

[ -n "$D" ] || [ "$(id -u)" = 0 ] || { echo "uninstall: run as root" >&2; exit 1; }
if [ -n "$D" ]; then live=0; else live=1; fi

if command -v systemctl >/dev/null 2>&1; then
    if [ "$live" = 1 ]; then
        if [ -d /run/systemd/system ]; then
            # shellcheck disable=SC2086
            systemctl disable --now $UNITS 2>/dev/null || true
        else
            # shellcheck disable=SC2086
            systemctl disable $UNITS 2>/dev/null || true
        fi
    else
        # shellcheck disable=SC2086
        systemctl --root="$D" disable $UNITS >/dev/null 2>&1 || true
    fi
fi

if [ -f "$D$MANIFEST" ]; then
    while IFS= read -r path; do
        case "$path" in
            /etc/hwd/*|/var/lib/*) continue ;;   # never the hall's data, whatever the manifest says
            /*) rm -f "$D$path" ;;
        esac
    done < "$D$MANIFEST"
else
    say "no manifest at $MANIFEST: removing the default file list"
    for path in /etc/systemd/system/hwd.service /etc/systemd/system/hwd-ui.service \
        /etc/systemd/system/hwd-kiosk.service /etc/systemd/system/hwd-kiosk-x11.service /etc/systemd/system/hwd-central.service \
        /etc/systemd/system/hwd-metrics.service /etc/systemd/system/hwd-metrics.timer \
        /etc/udev/rules.d/60-hwd.rules /etc/sysusers.d/hwd.conf /etc/tmpfiles.d/hwd.conf \
        /etc/pam.d/hwd-kiosk /usr/local/bin/hwd /usr/local/bin/hwctl; do
        rm -f "$D$path"
    done
fi
case "$PREFIX" in
    /|/usr|/usr/local|/etc|/var|"") say "refusing to remove PREFIX=$PREFIX" ;;
    *) rm -rf "$D$PREFIX" ;;
esac

if [ "$live" = 1 ]; then
    for user in hwd-kiosk hwd-ui hwd; do
        getent passwd "$user" >/dev/null && userdel "$user"
        getent group "$user" >/dev/null && groupdel "$user"
    done
fi
if [ "$PURGE" = 1 ]; then
    say "PURGE=1: removing /etc/hwd, /var/lib/hwd, /var/lib/hwd-ui and /var/lib/hwd-kiosk"
    rm -rf "$D/etc/hwd" "$D/var/lib/hwd" "$D/var/lib/hwd-ui" "$D/var/lib/hwd-kiosk" \
        "$D/etc/udev/rules.d/61-hwd-local.rules"
else
    say "kept /etc/hwd (config, keys) and /var/lib/hwd (queue, ratings); PURGE=1 removes them"
fi
if [ "$live" = 1 ]; then
    rm -rf /run/hwd   # systemd removes it when hwd stops; a hand-started hwd leaves it behind
    [ -d /run/systemd/system ] && systemctl daemon-reload
    if command -v udevadm >/dev/null 2>&1 && [ -S /run/udev/control ]; then
        udevadm control --reload || true
    fi
fi
say "done"
