"""Books supplier invoices in Robaws: the "Robaws Purchase Invoices" robot written as a Python task.

``rcc run -t "Robaws Purchase Invoices In Python"`` (or ``python -m robocorp.tasks run
robots/robaws_purchase_invoices_task.py``): robocorp.workitems hands over the input work items, one supplier
invoice and its PDF each; robocorp.vault gives the Robaws credentials (secret ``robaws``); the plain
``RobawsClient`` finds the supplier (the suppliers are read once per run: Robaws has no filter on VAT
numbers), creates the purchase invoice with the PDF attached and starts its approval; each result becomes
an output work item. ``ROBAWS_URL`` says where Robaws is.

Every write carries an idempotency key made from the supplier's VAT number and the invoice number - the
same keys as the Robot Framework robot - so running either of them again books nothing twice.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from robocorp import log, vault, workitems
from robocorp.tasks import get_output_dir, task

from Connectors import RobawsClient
from Connectors.core.errors import ConnectorError, ValidationError

VAULT_SECRET = os.environ.get("ROBAWS_VAULT_SECRET", "robaws")
LOCAL_INPUT = "supplier-invoices"


class InvalidInvoice(Exception):
    """Bad input data: retrying will not help until someone fixes the work item."""


def use_local_work_items(name: str) -> None:
    """Locally (the FileAdapter) read devdata/work-items-in/<name> unless a path is set: rcc applies one
    devdata/env.json to every task, so each task picks its own input. In Control Room nothing here applies."""
    if "FileAdapter" not in os.environ.get("RC_WORKITEM_ADAPTER", ""):
        return
    root = Path(os.environ.get("ROBOT_ROOT") or Path.cwd())
    artifacts = Path(os.environ.get("ROBOT_ARTIFACTS") or root / "output")
    os.environ.setdefault("RC_WORKITEM_INPUT_PATH", str(root / "devdata" / "work-items-in" / name / "work-items.json"))
    os.environ.setdefault("RC_WORKITEM_OUTPUT_PATH", str(artifacts / "work-items-out" / name / "work-items.json"))


def connect() -> RobawsClient:
    """The Vault secret holds the credentials (and may hold ``url``); without a url, ROBAWS_URL is used."""
    secret = vault.get_secret(VAULT_SECRET)  # robocorp.log hides its values from then on
    return RobawsClient(secret.get("url"), username=secret["username"], password=secret["password"])


class Suppliers:
    """The run's Robaws suppliers by VAT number, read on first use (one read per run, not per invoice)."""

    def __init__(self, robaws: RobawsClient) -> None:
        self.robaws = robaws
        self.index: dict[str, list[dict[str, Any]]] | None = None

    def id_of(self, vat_number: str) -> Any:
        if self.index is None:
            self.index = self.robaws.suppliers_by_vat_number()
        try:
            return self.robaws.find_supplier_by_vat_number(vat_number, self.index)["id"]
        except ValidationError as error:
            raise InvalidInvoice(error.message) from None


def invoice_pdf(item: workitems.Input, folder: Path) -> Path:
    pdfs = [name for name in item.files if name.lower().endswith(".pdf")]
    if not pdfs:
        raise InvalidInvoice("No PDF file in the work item.")
    folder.mkdir(parents=True, exist_ok=True)
    return item.get_file(pdfs[0], folder / pdfs[0])


def book(robaws: RobawsClient, suppliers: Suppliers, item: workitems.Input, downloads: Path) -> dict[str, Any]:
    """Create (or, on a re-run, get back) the purchase invoice with its PDF; start its approval once."""
    payload = item.payload
    if not isinstance(payload, dict):
        raise InvalidInvoice("The work item has no supplier invoice payload.")
    vat = payload["supplier"]["vatNumber"]
    invoice = dict(payload["invoice"], supplierId=suppliers.id_of(vat), type="INVOICE")
    key = RobawsClient.idempotency_key_for("purchase-invoice", vat, invoice["number"])
    created = robaws.create_purchase_invoice(invoice, key, document=invoice_pdf(item, downloads))
    status = created.get("approvalStatus") or "NONE"
    if status not in ("PENDING", "APPROVED"):
        started = robaws.start_purchase_invoice_approval(
            created["id"], RobawsClient.idempotency_key_for(key, "approval")
        )
        status = started["approvalStatus"]
    return {
        "supplierInvoiceNumber": invoice["number"],
        "supplierId": invoice["supplierId"],
        "robawsInvoiceId": created["id"],
        "documentId": created["documentId"],
        "approvalStatus": status,
    }


@task
def book_supplier_invoices() -> None:
    """Book every supplier invoice of the input work items; fail at the end if any could not be booked."""
    use_local_work_items(LOCAL_INPUT)
    downloads = (get_output_dir() or Path("output")) / "invoices"
    booked, failures = 0, []
    with connect() as robaws:
        suppliers = Suppliers(robaws)
        for item in workitems.inputs:
            invoice = item.payload.get("invoice", {}) if isinstance(item.payload, dict) else {}
            number = invoice.get("number", "?")
            try:
                result = book(robaws, suppliers, item, downloads)
            except (InvalidInvoice, KeyError) as error:
                failures.append(f"Invoice {number}: {error}")
                item.fail("BUSINESS", code="INVALID_SUPPLIER_INVOICE", message=failures[-1])
            except ConnectorError as error:
                failures.append(f"Invoice {number}: {error}")
                item.fail("APPLICATION", code="ROBAWS_BOOKING_FAILED", message=failures[-1])
            else:
                workitems.outputs.create(payload=result)
                item.done()
                booked += 1
                log.info(f"Supplier invoice {number} is Robaws purchase invoice {result['robawsInvoiceId']}.")
        requests = robaws.rate_limit_status()["requests"]
    total = booked + len(failures)
    per = f"{requests / total:.1f} per invoice" if total else "no invoice"
    summary = (
        f"Booked {booked} of {total} supplier invoices ({len(failures)} failed); {requests} Robaws requests, {per}"
    )
    log.info(summary)
    print(f"Summary: {summary}", flush=True)
    if failures:
        which = ", ".join(failure.split(":", 1)[0] for failure in failures)
        raise RuntimeError(
            f"{len(failures)} of {total} supplier invoices were not booked ({which}). The first: {failures[0]}"
        )
