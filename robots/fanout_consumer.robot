*** Settings ***
Documentation       Fan-out consumer: books each supplier invoice work item as a Robaws purchase invoice.
...
...                 Runs as a Control Room step with parallel executions after robots/fanout_producer.robot:
...                 each execution reserves items one by one (``RPA.Robocorp.WorkItems``), finds the
...                 supplier by VAT number (the suppliers are read once per execution: Robaws has no filter
...                 on VAT numbers), creates the purchase invoice with an idempotency key made of the
...                 VAT number and the invoice number, and releases the item DONE with an output work item
...                 holding the Robaws id. An invoice that cannot be booked as it is (no such supplier, a
...                 field missing) is released FAILED as a business exception: fix the data, then retry the
...                 item (``Retry Work Items``). Any other error is an application exception. A retried or
...                 re-run item never books an invoice twice.
...
...                 All executions spend one Robaws budget: set ``CONNECTORS_THROTTLE_STORE`` to a Redis they
...                 share and ``CONNECTORS_THROTTLE_WORKERS`` to the step's number of parallel executions.
...                 Robaws credentials come from the Vault secret ``robaws`` (locally devdata/vault.json),
...                 the URL from ``ROBAWS_URL``.

Library             RPA.Robocorp.WorkItems    autoload=${False}
Library             Connectors.Robaws
Resource            resources/fanout.resource
Resource            resources/summary.resource

Suite Setup         Prepare Consumer


*** Tasks ***
Book Supplier Invoices
    [Documentation]    Book every supplier invoice work item this execution reserves.
    ${results}    For Each Input Work Item    Book Invoice Work Item
    # The items that failed are released FAILED, for Control Room to show and retry: the task itself passes.
    Report Items Done    Booked    ${results.count(True)}    ${{ len($results) }}    supplier invoices    Robaws


*** Keywords ***
Prepare Consumer
    [Documentation]    Local runs book the producer's output; then connect to Robaws.
    Use Local Consumer Work Items
    Connect To Robaws    vault_secret=${ROBAWS_VAULT_SECRET}

Book Invoice Work Item
    [Documentation]    One invoice: DONE with an output work item, or FAILED (business or application).
    ${payload}    Get Work Item Payload
    TRY
        ${booked}    ${problem}    Book Invoice    ${payload}
    EXCEPT    AS    ${error}
        Release Input Work Item    FAILED    exception_type=APPLICATION    code=ROBAWS_BOOKING_FAILED
        ...    message=${error}
        RETURN    ${False}
    END
    IF    $problem
        # Bad data: retrying will not help until someone fixes the work item or Robaws' suppliers.
        Release Input Work Item    FAILED    exception_type=BUSINESS    code=INVALID_SUPPLIER_INVOICE
        ...    message=${problem}
        RETURN    ${False}
    END
    Create Output Work Item    variables=${booked}    save=${True}
    Release Input Work Item    DONE
    RETURN    ${True}
