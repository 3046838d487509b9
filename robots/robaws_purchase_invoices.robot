*** Settings ***
Documentation       Books supplier invoices in Robaws.
...
...                 Each input work item holds one supplier invoice (supplier VAT number, invoice number,
...                 dates, amount) and its PDF. For each one the robot finds the supplier (the suppliers are
...                 read once per run: Robaws has no filter on VAT numbers), uploads the PDF, creates the
...                 purchase invoice with it attached, starts the approval, and writes an output work item
...                 with the Robaws ids: three requests per invoice, and two per run.
...
...                 Every write carries an idempotency key derived from the supplier's VAT number and the
...                 invoice number, so running the robot again on the same input creates no duplicates.
...                 Credentials come from the Vault secret ``robaws`` (locally devdata/vault.json), the URL
...                 from ``ROBAWS_URL``.

Library             Collections
Library             OperatingSystem
Library             RPA.Robocorp.WorkItems    autoload=${False}
Library             Connectors.Robaws
Resource            resources/robaws_suppliers.resource
Resource            resources/robaws_work_items.resource
Resource            resources/summary.resource

Suite Setup         Prepare Robaws Purchase Invoices


*** Variables ***
${ROBAWS_VAULT_SECRET}      robaws


*** Tasks ***
Robaws Purchase Invoices
    [Documentation]    Book every supplier invoice of the input work items in Robaws.
    ${results}    For Each Input Work Item    Book Supplier Invoice
    ${failures}    Evaluate    [result for result in $results if result]
    Report Items Done    Booked    ${{ len($results) - len($failures) }}    ${{ len($results) }}    supplier invoices
    ...    Robaws
    Fail Unless All Done    ${failures}    ${{ len($results) }}    supplier invoices    booked


*** Keywords ***
Prepare Robaws Purchase Invoices
    [Documentation]    Local runs read this task's own work items; then connect to Robaws.
    Use Local Work Items    supplier-invoices
    Connect To Robaws    vault_secret=${ROBAWS_VAULT_SECRET}

Book Supplier Invoice
    [Documentation]    One input work item: release it DONE with an output item (and return nothing), or
    ...    FAILED with the reason (and return "Invoice <number>: <reason>").
    ${payload}    Get Work Item Payload
    ${number}    Get From Dictionary    ${payload}[invoice]    number
    TRY
        ${booked}    Book In Robaws    ${payload}
    EXCEPT    Expected one Robaws supplier*    No PDF file*    type=GLOB    AS    ${error}
        # Bad input data: retrying will not help until someone fixes the work item.
        Release Input Work Item    FAILED    exception_type=BUSINESS    code=INVALID_SUPPLIER_INVOICE
        ...    message=Invoice ${number}: ${error}
        RETURN    Invoice ${number}: ${error}
    EXCEPT    AS    ${error}
        Release Input Work Item    FAILED    exception_type=APPLICATION    code=ROBAWS_BOOKING_FAILED
        ...    message=Invoice ${number}: ${error}
        RETURN    Invoice ${number}: ${error}
    END
    Create Output Work Item    variables=${booked}    save=${True}
    Log    Supplier invoice ${number} is Robaws purchase invoice ${booked}[robawsInvoiceId].
    RETURN    ${EMPTY}

Book In Robaws
    [Documentation]    Create (or find again) the purchase invoice with its PDF and start its approval.
    [Arguments]    ${payload}
    VAR    ${vat}    ${payload}[supplier][vatNumber]
    ${supplier_id}    Find Supplier Id    ${vat}
    ${pdf}    Get Invoice Pdf
    ${invoice}    Copy Dictionary    ${payload}[invoice]
    Set To Dictionary    ${invoice}    supplierId=${supplier_id}    type=INVOICE
    ${key}    Make Robaws Idempotency Key    purchase-invoice    ${vat}    ${invoice}[number]
    ${created}    Create Robaws Purchase Invoice    ${invoice}    idempotency_key=${key}    document=${pdf}
    ${approval}    Start Approval Unless Started    ${created}    ${key}
    VAR    &{booked}
    ...    supplierInvoiceNumber=${invoice}[number]
    ...    supplierId=${supplier_id}
    ...    robawsInvoiceId=${created}[id]
    ...    documentId=${created}[documentId]
    ...    approvalStatus=${approval}
    RETURN    ${booked}

Find Supplier Id
    [Documentation]    The Robaws supplier with this VAT number (exactly one must exist).
    [Arguments]    ${vat}
    ${supplier}    Robaws Supplier By Vat Number    ${vat}
    RETURN    ${supplier}[id]

Get Invoice Pdf
    [Documentation]    The local path of the work item's PDF file (the first file ending in .pdf).
    ${files}    List Work Item Files
    ${pdfs}    Evaluate    [name for name in $files if name.lower().endswith(".pdf")]
    IF    not $pdfs    Fail    No PDF file in the work item.
    # Saved under the output folder: the default (the working directory) would litter the robot's root.
    Create Directory    ${OUTPUT DIR}${/}invoices
    ${path}    Get Work Item File    ${pdfs}[0]    ${OUTPUT DIR}${/}invoices${/}${pdfs}[0]
    RETURN    ${path}

Start Approval Unless Started
    [Documentation]    Start the approval once: a re-run finds it PENDING (or replays the first request).
    [Arguments]    ${invoice}    ${key}
    ${status}    Get From Dictionary    ${invoice}    approvalStatus    default=NONE
    IF    $status in ("PENDING", "APPROVED")    RETURN    ${status}
    ${approval_key}    Make Robaws Idempotency Key    ${key}    approval
    ${started}    Start Robaws Purchase Invoice Approval    ${invoice}[id]    idempotency_key=${approval_key}
    RETURN    ${started}[approvalStatus]
