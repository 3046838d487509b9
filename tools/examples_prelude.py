"""What the site's examples take as given: the variables a fragment uses without defining them (``${rows}``,
``${invoice}``, ``${pdf}`` …), made from the sandbox's demo data. tools/run_examples.py passes this file to
Robot Framework as a variable file and runs ``from examples_prelude import *`` before every Python example.

Importing it reads the sandbox the environment points at (``ROBAWS_*``) for a supplier to invoice.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from Connectors.core.webhooks import sign_timestamped

ROOT = Path(__file__).resolve().parents[1]
_RUN = uuid.uuid4().hex[:8]  # business keys unique per run, so a second run of the examples creates anew


def _supplier() -> dict[str, Any]:
    from Connectors import RobawsClient

    with RobawsClient() as robaws:
        return next(iter(robaws.list("suppliers", limit=1)))


_SUPPLIER = _supplier()
supplier_vat = str(_SUPPLIER.get("vatNumber", "BE0400123450"))
invoice_number = f"EX-{_RUN}"
pdf = str(ROOT / "devdata" / "work-items-in" / "supplier-invoices" / "BP-2024-0311.pdf")
invoice = {
    "supplierId": _SUPPLIER["id"],
    "type": "INVOICE",
    "number": invoice_number,
    "date": "2024-05-02",
    "dueDate": "2024-06-01",
    "currency": "EUR",
    "totalExclVat": 1240.5,
    "description": "Cement CEM II 25 kg x 40",
}
data = invoice
rows = [{"invoice": f"INV-{_RUN}-{n}", "amount": 100 + n} for n in range(3)]
secret = "whsec-example-" + _RUN
raw_body = json.dumps({"id": f"evt-{_RUN}", "event": "client.updated", "data": {"id": 1}})
headers = {"Robaws-Signature": sign_timestamped(secret, raw_body, int(time.time()))}
environment = dict(os.environ)


def get_variables() -> dict[str, Any]:
    """Robot Framework's view: ``${rows}`` … (``&{invoice}`` and ``@{rows}`` work too)."""
    return {
        "supplier_vat": supplier_vat,
        "invoice_number": invoice_number,
        "pdf": pdf,
        "invoice": invoice,
        "data": data,
        "rows": rows,
        "secret": secret,
        "raw_body": raw_body,
        "headers": headers,
    }
