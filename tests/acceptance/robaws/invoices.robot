*** Settings ***
Documentation       The business keywords: clients, purchase invoices with their PDF and approval, sales
...                 invoices and document uploads (one request up to 6 MB, upload sessions above),
...                 including the file-too-large error of the single-request path.

Library             Collections
Library             OperatingSystem
Library             SandboxLibrary
Library             RobawsSandboxHelper.py
Library             Connectors.Robaws
Resource            robaws_sandbox.resource

Suite Setup         Start Sandbox And Connect To Robaws
Suite Teardown      Stop Sandbox
Test Setup          Reset Sandbox

Test Tags           robaws    invoices


*** Variables ***
${PDF}      ${CURDIR}${/}..${/}..${/}..${/}devdata${/}work-items-in${/}supplier-invoices${/}BP-2024-0311.pdf


*** Test Cases ***
Create And Find Clients
    [Documentation]    Fields as named arguments; find the client again among those changed since it was
    ...    created (``updatedFrom``: Robaws documents no filter on a client's name, and ignores ``name=``).
    ${created}    Create Robaws Client    name=ACME NV    email=info@acme.test
    Should Be True    isinstance($created["id"], int)
    ${found}    List Robaws Clients    updatedFrom=${created}[updatedAt]
    ${ids}    Evaluate    [c["id"] for c in $found if c["name"] == "ACME NV"]
    Should Be Equal    ${ids}    ${{ [$created["id"]] }}
    ${all}    List Robaws Clients    limit=0
    ${ignored}    List Robaws Clients    limit=0    name=ACME NV
    Should Be Equal    ${ignored}    ${all}    msg=An undocumented filter is ignored, as Robaws ignores it.

Create A Client From A Dictionary And Find It By Extra Field
    [Documentation]    Extra fields are written as plain values (each sent with its Robaws value key), found
    ...    by name with extra_fields, and read back as plain values with Get Robaws Extra Fields.
    VAR    &{data}    name=Extra BV
    VAR    &{extra}    Contact via=Website    Visits=${3}    Rating=${4.5}    VIP=${True}
    ${created}    Create Robaws Client    ${data}    extra_fields=${extra}
    VAR    &{via}    Contact via=Website
    ${by_extra}    List Robaws Clients    extra_fields=${via}    limit=0
    ${names}    Evaluate    [c["name"] for c in $by_extra]
    Should Contain    ${names}    Extra BV
    Extra Fields Read Back As Plain Values    ${created}[id]    ${extra}

Extra Fields Given Twice Or As A List Fail In One Line
    [Documentation]    No Robaws value key for a list; both extra_fields and a raw extraFields is ambiguous.
    VAR    &{raw}    name=Twice BV    extraFields=${{ {"Contact via": {"stringValue": "Website"}} }}
    VAR    &{extra}    Contact via=Website
    Run Keyword And Expect Error    Extra fields are given twice*
    ...    Create Robaws Client    ${raw}    extra_fields=${extra}
    VAR    &{listed}    Tags=${{ ["a", "b"] }}
    Run Keyword And Expect Error    STARTS: extra_fields['Tags'] is list
    ...    Create Robaws Client    name=List BV    extra_fields=${listed}

Client Without A Name Is Refused
    [Documentation]    Checked before sending: Robaws clients need a name.
    Run Keyword And Expect Error    Robaws: A Robaws client needs a name.*
    ...    Create Robaws Client    email=nameless@acme.test

Purchase Invoice With Document And Approval
    [Documentation]    One keyword creates the invoice and attaches its PDF; the approval becomes PENDING.
    ${invoice}    Supplier Invoice    PI-ACC-1
    ${key}    Make Robaws Idempotency Key    purchase-invoice    ${invoice}[supplierId]    PI-ACC-1
    ${created}    Create Robaws Purchase Invoice    ${invoice}    idempotency_key=${key}    document=${PDF}
    Should Not Be Empty    ${created}[documentId]
    ${again}    Create Robaws Purchase Invoice    ${invoice}    idempotency_key=${key}    document=${PDF}
    Should Be Equal    ${again}[id]    ${created}[id]
    Should Be Equal    ${again}[documentId]    ${created}[documentId]
    ${approved}    Start Robaws Purchase Invoice Approval    ${created}[id]
    Should Be Equal    ${approved}[approvalStatus]    PENDING
    Run Keyword And Expect Error    *HTTP 409: An approval request is already pending*
    ...    Start Robaws Purchase Invoice Approval    ${created}[id]

Upload And Attach A Document Separately
    [Documentation]    Upload Robaws Document returns the id that Attach Document To ... expects.
    ${invoice}    Supplier Invoice    PI-ACC-2
    ${created}    Create Robaws Purchase Invoice    ${invoice}
    ${document_id}    Upload Robaws Document    ${PDF}    file_name=PI-ACC-2.pdf    content_type=application/pdf
    ${attached}    Attach Document To Robaws Purchase Invoice    ${created}[id]    ${document_id}
    Should Be Equal    ${attached}[documentId]    ${document_id}

Purchase Invoice Without Supplier Is Refused
    [Documentation]    Checked before sending: purchase invoices need a supplierId.
    VAR    &{invoice}    number=NO-SUPPLIER
    Run Keyword And Expect Error    Robaws: A Robaws purchase invoice needs a supplierId.*
    ...    Create Robaws Purchase Invoice    ${invoice}

A 7 MB File Goes In Parts And Is Refused In One Request
    [Documentation]    Above 6 MB the keyword uses an upload session; forcing one request gives HTTP 413
    ...    with one line that says what to do.
    ${big}    Create File Of Size    ${OUTPUT DIR}${/}robaws-7mb.pdf    ${7340032}
    ${document_id}    Upload Robaws Document    ${big}
    Should Not Be Empty    ${document_id}
    Run Keyword And Expect Error
    ...    Robaws POST /temp-document-buckets/*/documents: HTTP 413: File is larger than 6 MB*without chunked=False*
    ...    Upload Robaws Document    ${big}    chunked=${False}
    [Teardown]    Remove File    ${OUTPUT DIR}${/}robaws-7mb.pdf

Create And List Sales Invoices
    [Documentation]    A sales invoice for a new client; listing filters by what Robaws documents (type,
    ...    dates, updatedFrom): the client's invoices are picked out of the answer.
    ${client}    Create Robaws Client    name=Sales Test BV
    VAR    &{invoice}    clientId=${client}[id]    date=2024-06-01    type=INVOICE    totalExclVat=${250}
    ${key}    Make Robaws Idempotency Key    sales-invoice    cobot    INV-77
    ${created}    Create Robaws Sales Invoice    ${invoice}    idempotency_key=${key}
    ${listed}    List Robaws Sales Invoices    type=INVOICE    updatedFrom=${created}[updatedAt]
    ${mine}    Evaluate    [i["id"] for i in $listed if i["clientId"] == ${client}[id]]
    Should Be Equal    ${mine}    ${{ [$created["id"]] }}
    ${credit_notes}    List Robaws Sales Invoices    type=CREDIT_NOTE    limit=2
    Should Be Equal    ${credit_notes}[0][type]    CREDIT_NOTE

Sales Invoice Without Client Is Refused
    [Documentation]    Checked before sending: sales invoices need a clientId.
    VAR    &{invoice}    date=2024-06-01
    Run Keyword And Expect Error    Robaws: A Robaws sales invoice needs a clientId.*
    ...    Create Robaws Sales Invoice    ${invoice}


*** Keywords ***
Extra Fields Read Back As Plain Values
    [Documentation]    The client's answer keeps Robaws' typed values; Get Robaws Extra Fields gives ``expected``.
    [Arguments]    ${client_id}    ${expected}
    ${read}    Get Robaws Resource    clients    ${client_id}    include=extraFields
    Should Be Equal    ${read}[extraFields][Visits]    ${{ {"integerValue": 3} }}
    ${plain}    Get Robaws Extra Fields    ${read}
    Should Be Equal    ${plain}    ${expected}

Supplier Invoice
    [Documentation]    A purchase-invoice body for the first demo supplier.
    [Arguments]    ${number}
    ${suppliers}    List Robaws Resources    suppliers    limit=1
    VAR    &{invoice}    supplierId=${suppliers}[0][id]    number=${number}    date=2024-05-02
    ...    totalExclVat=${100.5}
    RETURN    ${invoice}
