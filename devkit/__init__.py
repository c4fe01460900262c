"""What tests/ and bench/ share: servers on loopback (servers.py), the flags
Chromium runs with (chromium.py), a link's join credentials (credentials.py),
made-up wire texts (wire.py) and API Gateway events for calling handlers
directly (events.py). Nothing here is shipped to Lambda, and nothing here
imports pytest."""
