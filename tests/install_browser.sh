#!/bin/sh
# Chromium for the browser tests (tests/test_browser.py): the system's package, not Playwright's
# download (which needs the internet). As root with apt-get it is installed; otherwise this says
# what to install and the browser tests skip with that reason.
if [ -n "${VISLAB_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    exit $?
fi
echo "Chromium is not installed: the browser tests will be skipped. Install the Debian/Ubuntu" \
     "package chromium (as root: apt-get install chromium) or set VISLAB_CHROMIUM to a Chromium" \
     "binary." >&2
exit 0
