# Installing on a hall PC (included from the Makefile). As root:
#   make install            venv in /opt/hwd, config in /etc/hwd (kept if present), units, udev
#                           rules, users; enables hwd and hwd-ui (starts them if systemd runs)
#   make install KIOSK=1    also the full-screen browser (kiosk, display or window screen PCs)
#   make install UI=0       without the pages (window PCs)
#   make uninstall [PURGE=1]  removes it; keeps /etc/hwd and /var/lib/hwd unless PURGE=1
#   make wheelhouse         wheels of hwd and its dependencies into dist/wheelhouse, for halls
#                           without internet: copy the tree, then make install WHEELHOUSE=dist/wheelhouse
#   make wheelhouse PLATFORM=aarch64   the same for ARM64 halls, into dist/wheelhouse-aarch64
# DESTDIR=DIR stages the files under DIR (no users, no systemctl); PREFIX (default /opt/hwd);
# NO_SYSDEPS=1 skips apt-get of alsa-utils, espeak-ng, sqlite3, a CJK font (+ chromium, cage, xwayland).
PREFIX     ?= /opt/hwd
DESTDIR    ?=
WHEELHOUSE ?=
KIOSK      ?= 0
UI         ?= 1
NO_START   ?= 0
NO_VENV    ?= 0
NO_SYSDEPS ?= 0
PURGE      ?= 0
INSTALL_PYTHON ?=
PLATFORM   ?=

.PHONY: install uninstall wheelhouse

install:
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" PYTHON="$(INSTALL_PYTHON)" WHEELHOUSE="$(WHEELHOUSE)" \
	  KIOSK="$(KIOSK)" UI="$(UI)" NO_START="$(NO_START)" NO_VENV="$(NO_VENV)" \
	  NO_SYSDEPS="$(NO_SYSDEPS)" sh scripts/install.sh

uninstall:
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" PURGE="$(PURGE)" sh scripts/uninstall.sh

# PLATFORM=aarch64: for ARM64 halls (信创), into dist/wheelhouse-aarch64, with a report of what the
# target compiles (scripts/wheelhouse.py; docs/deploy.md "ARM64 and LoongArch")
wheelhouse:
ifeq ($(PLATFORM),)
	$(or $(INSTALL_PYTHON),python3) -m pip wheel -q -w dist/wheelhouse '.[all]' pip setuptools wheel
else
	$(or $(INSTALL_PYTHON),python3) scripts/wheelhouse.py $(PLATFORM)
endif
