*** Settings ***
Documentation       Nothing lost, nothing duplicated: 500 purchase invoices created through a sandbox that
...                 answers 10 % of requests with 502/503/504, resets 5 % of connections before processing
...                 and loses 5 % of answers after the invoice was written. Every create carries an
...                 idempotency key that the client reuses on each retry, so a lost answer is replayed by
...                 the server instead of creating a second invoice.

Library             Collections
Library             SandboxLibrary
Library             Connectors.Robaws

Suite Setup         Start Faulty Sandbox
Suite Teardown      Restore Sandbox

Test Tags           robaws    reliability


*** Variables ***
${COUNT}        ${500}
${SCALE}        ${10}


*** Test Cases ***
Five Hundred Invoices Through Faults Create Exactly Five Hundred
    [Documentation]    Counts by a unique reference per call: every reference exactly once.
    ${before}    List Robaws Resources    purchase-invoices    limit=${100000}
    FOR    ${index}    IN RANGE    ${COUNT}
        VAR    &{invoice}    supplierId=${1001}    date=2026-11-01    reference=fault-run-${index}
        ...    totalAmount=${index}
        Create Robaws Purchase Invoice    ${invoice}
    END
    ${after}    List Robaws Resources    purchase-invoices    limit=${100000}
    Each Reference Should Exist Exactly Once    ${after}
    Should Be Equal As Integers    ${{ len($after) - len($before) }}    ${COUNT}
    Faults Should Have Been Met


*** Keywords ***
Each Reference Should Exist Exactly Once
    [Documentation]    Neither lost (missing reference) nor duplicated (reference twice).
    [Arguments]    ${invoices}
    ${created}    Evaluate
    ...    [i["reference"] for i in $invoices if str(i.get("reference", "")).startswith("fault-run-")]
    Length Should Be    ${created}    ${COUNT}    Some invoices were lost or duplicated.
    Length Should Be    ${{ set($created) }}    ${COUNT}    Some invoices were duplicated.

Faults Should Have Been Met
    [Documentation]    The run is only meaningful if it met every kind of fault, lost answers included.
    ${stats}    Get Sandbox Stats
    Log    Faults injected: ${stats}[faults_injected]; idempotent replays: ${stats}[idempotent_replays]
    Should Be True    ${stats}[faults_injected][5xx] > 0 and ${stats}[faults_injected][reset] > 0
    Should Be True    ${stats}[faults_injected][lost] > 0    The run must have met lost answers.
    Should Be True    ${stats}[idempotent_replays] > 0    Lost answers must have been replayed.

Start Faulty Sandbox
    [Documentation]    Robaws limits x10 so the run takes seconds; faults seeded for repeatability.
    Start Sandbox
    Configure Sandbox    rate_scale=${SCALE}    faults=5xx=0.1,reset=0.05,lost=0.05    seed=${7}    reset=${True}
    Connect To Robaws    rate_limit=150/s    burst=${200}

Restore Sandbox
    [Documentation]    Leave the shared sandbox as other suites expect it.
    Configure Sandbox    rate_scale=${1}    faults=${EMPTY}    seed=${None}    reset=${True}
    Stop Sandbox
