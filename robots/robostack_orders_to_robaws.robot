*** Settings ***
Documentation       Turns pending Robostack orders into Robaws purchase invoices.
...
...                 The robot finds the orders with status ``pending`` in a Robostack application, creates
...                 the matching Robaws purchase invoice for each one (supplier, order number, date, amount
...                 and a line item), and marks the order ``invoiced`` with the Robaws invoice id.
...
...                 Running it again creates nothing new: invoiced orders are no longer pending, and each
...                 invoice is created with an idempotency key derived from the Robostack record, so an
...                 order whose invoice was created but not yet marked (the robot stopped in between) gets
...                 the same invoice back instead of a second one.
...
...                 Credentials come from the Vault secrets ``robostack`` and ``robaws`` (locally
...                 devdata/vault.json); the URLs from ``ROBOSTACK_URL`` and ``ROBAWS_URL``.

Library             Connectors.Robostack
Library             Connectors.Robaws
Resource            resources/robostack_orders.resource
Resource            resources/summary.resource

Suite Setup         Connect To Robostack And Robaws


*** Tasks ***
Robostack Orders To Robaws
    [Documentation]    Invoice every pending order; fail at the end if any order could not be invoiced.
    ${orders}    Find Robostack Records    ${ORDERS_RESOURCE}    status=pending
    Log    ${{ len($orders) }} pending order(s) in Robostack.    console=${True}
    ${failed}    Invoice Orders In Robaws    ${orders}
    Report Items Done    Invoiced    ${{ len($orders) - len($failed) }}    ${{ len($orders) }}    pending orders
    ...    Robaws    Robostack
    Fail Unless All Done    ${failed}    ${{ len($orders) }}    pending orders    invoiced
