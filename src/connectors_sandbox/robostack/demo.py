"""Demo data of the Robostack sandbox: a "Field Orders" app of an installation company.

Orders name their supplier by the Robaws supplier id (the demo Robaws tenant numbers suppliers from
1001), so the sample robot can turn pending orders into Robaws purchase invoices. Some orders have
status "pending" and quantity 10000, to match the seed page's find sample; the ``samples`` resource
holds ``fieldName`` records for its create/update/delete samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors_sandbox.robostack.api import Application

SUPPLIERS = {
    1001: "Bouwmaterialen Peeters",
    1002: "Elektro Janssens",
    1003: "Sanitair De Smet",
    1004: "Van Dyck Tools",
    1005: "Isolatie Maes",
}

PRODUCTS = [
    # sku, name, unit, unit price, supplier id
    ("SCR-4x40", "Wood screws 4x40 (per piece)", "piece", 0.04, 1001),
    ("CBL-3G25", "Cable 3G2.5 (per metre)", "m", 1.35, 1002),
    ("PIPE-16", "Multilayer pipe 16 mm (per metre)", "m", 2.10, 1003),
    ("DRL-18V", "Cordless drill 18 V", "piece", 189.00, 1004),
    ("INS-PIR100", "PIR insulation board 100 mm", "m2", 21.50, 1005),
    ("BRK-C16", "Circuit breaker C16", "piece", 7.80, 1002),
]

# order number, sku, quantity, status, order date
ORDERS = [
    ("PO-2024-0001", "SCR-4x40", 10000, "pending", "2024-03-04"),
    ("PO-2024-0002", "CBL-3G25", 500, "pending", "2024-03-05"),
    ("PO-2024-0003", "PIPE-16", 250, "invoiced", "2024-03-06"),
    ("PO-2024-0004", "SCR-4x40", 10000, "pending", "2024-03-07"),
    ("PO-2024-0005", "DRL-18V", 4, "cancelled", "2024-03-08"),
    ("PO-2024-0006", "INS-PIR100", 120, "pending", "2024-03-11"),
    ("PO-2024-0007", "BRK-C16", 40, "invoiced", "2024-03-12"),
    ("PO-2024-0008", "SCR-4x40", 5000, "pending", "2024-03-13"),
    ("PO-2024-0009", "CBL-3G25", 10000, "invoiced", "2024-03-14"),
    ("PO-2024-0010", "PIPE-16", 80, "cancelled", "2024-03-15"),
]

CUSTOMERS = [
    ("Bakkerij Claes", "Gent", "BE0700100200"),
    ("Garage Willems", "Antwerpen", "BE0700100207"),
    ("Hotel Aurora", "Brugge", "BE0700100228"),
    ("School De Regenboog", "Leuven", "BE0700100235"),
]


def load(app: Application, warehouse: Application) -> None:
    from connectors_sandbox.robostack.api import Resource

    products = Resource()
    by_sku = {}
    for sku, name, unit, price, supplier in PRODUCTS:
        by_sku[sku] = products.insert(
            {
                "sku": sku,
                "name": name,
                "unit": unit,
                "unit_price": price,
                "supplier_id": supplier,
                "supplier_name": SUPPLIERS[supplier],
                "active": True,
            }
        )
    orders = Resource()
    for index, (number, sku, quantity, status, day) in enumerate(ORDERS):
        product = by_sku[sku]
        record = {
            "order_number": number,
            "status": status,
            "order_date": day,
            "product_sku": sku,
            "product_name": product["name"],
            "quantity": quantity,
            "unit_price": product["unit_price"],
            "amount": round(quantity * product["unit_price"], 2),
            "currency": "EUR",
            "supplier_id": product["supplier_id"],
            "supplier_name": product["supplier_name"],
            "robaws_invoice_id": None,
        }
        if status == "invoiced":
            record["robaws_invoice_id"] = 9000 + index
        orders.insert(record)
    customers = Resource()
    for name, city, vat in CUSTOMERS:
        customers.insert({"name": name, "city": city, "vat_number": vat})
    samples = Resource()
    for value in ("Matching Field Value", "Field Value", "", "Another Field Value"):
        samples.insert({"fieldName": value})
    app.resources = {"orders": orders, "products": products, "customers": customers, "samples": samples}

    stock = Resource()
    for sku, *_rest in PRODUCTS:
        stock.insert({"sku": sku, "on_hand": 100})
    warehouse.resources = {"stock": stock}
