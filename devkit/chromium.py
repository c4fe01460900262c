"""How tests and the browser benchmark start Debian's chromium (Playwright drives
/usr/bin/chromium; it never downloads a browser)."""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
