*** Settings ***
Documentation       Exactly once, whatever fails: every Robaws writing keyword, wrapped in
...                 ``Wait Until Keyword Succeeds`` the way robots repeat a failed step, against a sandbox that
...                 answers 502/503/504 before writing (``5xx``), drops the connection before writing
...                 (``reset``) or after writing (``lost``), at heavy rates. Afterwards Robaws holds exactly the
...                 intended objects: every reference once, none lost, none duplicated.

Library             Collections
Library             SandboxLibrary
Library             Connectors.Robaws

Suite Setup         Start Sandbox
Suite Teardown      Restore Sandbox
Test Setup          Configure Sandbox    rate_scale=${SCALE}    faults=${EMPTY}    seed=${None}    reset=${True}
Test Template       Every Write Lands Exactly Once

Test Tags           robaws    reliability


*** Variables ***
${COUNT}        ${10}
${SCALE}        ${10}
${PDF}          ${CURDIR}/../../../devdata/work-items-in/supplier-invoices/BP-2024-0311.pdf


*** Test Cases ***    KEYWORD                           FAULTS
Resources Through Server Errors               Create Resource                   5xx=0.6
Resources Through Drops Before Writing        Create Resource                   reset=0.6
Resources Through Lost Answers                Create Resource                   lost=0.6
Invoices With Documents Through Errors        Create Invoice With Document      5xx=0.5
Invoices With Documents Through Drops         Create Invoice With Document      reset=0.5
Invoices With Documents Through Lost Answers  Create Invoice With Document      lost=0.5
Sales Invoices Through Every Fault At Once    Create Sales Invoice              5xx=0.2,reset=0.2,lost=0.2


*** Keywords ***
Every Write Lands Exactly Once
    [Documentation]    ${COUNT} writes, each repeated until it succeeds; each reference ends up once.
    [Arguments]    ${keyword}    ${faults}
    Connect To Robaws    rate_limit=150/s    burst=${200}
    Configure Sandbox    faults=${faults}    seed=${17}
    FOR    ${index}    IN RANGE    ${COUNT}
        Wait Until Keyword Succeeds    25x    0s    ${keyword}    matrix-${index}
    END
    Every Fault Asked For Should Have Been Met    ${faults}
    Configure Sandbox    faults=${EMPTY}
    ${items}    Written Objects    ${keyword}
    Each Reference Should Exist Once    ${items}
    IF    '${keyword}' == 'Create Invoice With Document'
        Each Invoice Should Have Its Document    ${items}
    END
    ${stats}    Get Sandbox Stats
    Log    Replays of a lost answer's idempotency key: ${stats}[idempotent_replays]

Written Objects
    [Documentation]    The objects of the collection the keyword writes to.
    [Arguments]    ${keyword}
    ${collection}    Set Variable If    '${keyword}' == 'Create Sales Invoice'    sales-invoices
    ...    '${keyword}' == 'Create Resource'    articles    purchase-invoices
    ${items}    List Robaws Resources    ${collection}    limit=0
    RETURN    ${items}

Each Reference Should Exist Once
    [Documentation]    Every matrix reference once: none lost, none duplicated.
    [Arguments]    ${items}
    ${references}    Evaluate    [str(i.get("reference") or i.get("code") or "") for i in $items]
    ${references}    Evaluate    [r for r in $references if r.startswith("matrix-")]
    Length Should Be    ${{ set($references) }}    ${COUNT}    Writes were lost.
    Length Should Be    ${references}    ${COUNT}    Writes were duplicated.

Create Resource
    [Documentation]    A generic create (one POST).
    [Arguments]    ${reference}
    VAR    &{article}    name=Heat pump ${reference}    code=${reference}
    Create Robaws Resource    articles    ${article}

Create Invoice With Document
    [Documentation]    A compound write: upload (into the run's bucket), then create with the documentId - one
    ...    key shared by the steps.
    [Arguments]    ${reference}
    VAR    &{invoice}    supplierId=${1001}    date=2026-11-01    reference=${reference}
    Create Robaws Purchase Invoice    ${invoice}    document=${PDF}

Create Sales Invoice
    [Documentation]    A create with a business rule checked before sending (clientId).
    [Arguments]    ${reference}
    ${clients}    List Robaws Clients    limit=1
    VAR    &{invoice}    clientId=${clients}[0][id]    date=2026-11-01    type=INVOICE    reference=${reference}
    Create Robaws Sales Invoice    ${invoice}

Each Invoice Should Have Its Document
    [Documentation]    The document was not lost either.
    [Arguments]    ${invoices}
    ${ours}    Evaluate    [i for i in $invoices if str(i.get("reference", "")).startswith("matrix-")]
    ${missing}    Evaluate    [i["reference"] for i in $ours if not i.get("documentId")]
    Should Be Empty    ${missing}    Invoices without their document.

Restore Sandbox
    [Documentation]    Leave the shared sandbox as other suites expect it.
    Configure Sandbox    rate_scale=${1}    faults=${EMPTY}    seed=${None}    reset=${True}
    Stop Sandbox
