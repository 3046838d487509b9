"""One worker of the shared-token tests: a Robaws OAuth client that makes one call per round.

``python oauth_worker.py <folder> <rounds> <name>``: the client reads its settings (and
``CONNECTORS_TOKEN_STORE``) from the environment, makes a first call, says ``ready-<name>``, then for
each round waits for ``go-<round>`` and makes one call, writing its status to ``done-<round>-<name>``.
The test expires every access token between rounds, so each round's call meets a 401 and refreshes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from Connectors import RobawsClient


def main() -> int:
    folder, rounds, name = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    client = RobawsClient(client_id=os.environ["ROBAWS_CLIENT_ID"], client_secret=os.environ["ROBAWS_CLIENT_SECRET"])
    client.transport.request("GET", "/clients", params={"size": 1})
    (folder / f"ready-{name}").write_text("")
    for number in range(1, rounds + 1):
        deadline = time.monotonic() + 120
        while not (folder / f"go-{number}").exists():
            if time.monotonic() > deadline:
                return 3
            time.sleep(0.02)
        status = client.transport.request("GET", "/clients", params={"size": 1}).status_code
        (folder / f"done-{number}-{name}").write_text(str(status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
