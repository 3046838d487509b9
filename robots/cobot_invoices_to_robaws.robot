*** Settings ***
Documentation       Bills a coworking space's Cobot invoices of a period in Robaws.
...
...                 For every Cobot invoice dated in the period (default: the previous month; set
...                 ``COBOT_BILLING_FROM`` and ``COBOT_BILLING_TO`` to choose), the robot finds the Robaws
...                 client whose extra field "Cobot membership id" holds the invoice's membership (and
...                 creates it when there is none), then creates the Robaws sales invoice with its lines.
...                 The Robaws clients are looked up once per run, not once per invoice.
...
...                 Cobot is read through its API 2 (``COBOT_API_URL``): the space is resolved once, then one
...                 request per page of 200 invoices and one per page of 200 memberships - three requests for
...                 a month of a small space. (Neither list can ``include=`` the other's resources in API 2.)
...
...                 Running it again creates nothing new: each sales invoice is created with an idempotency
...                 key derived from the Cobot invoice id, and each client with one derived from the
...                 membership id, so Robaws returns the earlier results instead of duplicates.
...
...                 Cobot: ``COBOT_URL``, ``COBOT_API_URL``, ``COBOT_ACCESS_TOKEN`` (or ``COBOT_CLIENT_ID`` after
...                 ``connectors login cobot``) and the space ``COBOT_SPACE``. Robaws: the Vault secret
...                 ``robaws`` (locally devdata/vault.json) and ``ROBAWS_URL``.

Library             Collections
Library             OperatingSystem
Library             Connectors.Cobot
Library             Connectors.Robaws
Resource            resources/cobot_billing.resource
Resource            resources/summary.resource

Suite Setup         Connect To Cobot And Robaws


*** Tasks ***
Cobot Invoices To Robaws
    [Documentation]    Bill every Cobot invoice of the period; fail at the end if any could not be billed.
    ${start}    ${end}    Billing Period
    ${invoices}    List Cobot Invoices    start=${start}    end=${end}    limit=${0}
    Log    ${{ len($invoices) }} Cobot invoice(s) from ${start} to ${end}.    console=${True}
    ${memberships}    Memberships By Id    ${start}    ${end}
    ${clients}    Find Robaws Clients Of Memberships    ${invoices}
    ${failed}    Bill Cobot Invoices In Robaws    ${invoices}    ${memberships}    ${clients}
    Report Items Done    Billed    ${{ len($invoices) - len($failed) }}    ${{ len($invoices) }}    Cobot invoices
    ...    Robaws    Cobot
    Fail Unless All Done    ${failed}    ${{ len($invoices) }}    Cobot invoices    billed
