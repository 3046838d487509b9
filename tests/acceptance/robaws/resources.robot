*** Settings ***
Documentation       The generic keywords on any Robaws collection: listing with filters, extra-field filters,
...                 sort, include and limit; get, create, merge patch, JSON patch, replace and delete;
...                 idempotency keys; nested collections (contacts, line items, an entity's documents tab);
...                 and the unknown-collection, crafted-path and invalid-JSON-patch errors.

Library             Collections
Library             SandboxLibrary
Library             Connectors.Robaws
Resource            robaws_sandbox.resource

Suite Setup         Start Sandbox And Connect To Robaws
Suite Teardown      Stop Sandbox
Test Setup          Reset Sandbox

Test Tags           robaws    resources


*** Variables ***
${PDF}      ${CURDIR}${/}..${/}..${/}..${/}devdata${/}work-items-in${/}supplier-invoices${/}BP-2024-0311.pdf


*** Test Cases ***
List With Sort Limit And Paging
    [Documentation]    limit stops paging early; page_size only changes how many items each request asks for.
    ${first}    List Robaws Resources    clients    limit=3    sort=name:desc
    Length Should Be    ${first}    3
    ${all}    List Robaws Resources    clients    limit=0    page_size=7
    ${names}    Evaluate    sorted((c["name"] for c in $all), reverse=True)[:3]
    ${first_names}    Evaluate    [c["name"] for c in $first]
    Lists Should Be Equal    ${first_names}    ${names}
    Should Be True    len($all) > 30

List With Filters And Extra-Field Filters
    [Documentation]    Standard filters as named arguments; extra fields by name, spaces and all.
    VAR    &{via}    Contact via=Social media
    ${clients}    List Robaws Resources    clients    extra_fields=${via}    include=extraFields
    Should Not Be Empty    ${clients}
    FOR    ${client}    IN    @{clients}
        Should Be Equal    ${client}[extraFields][Contact via][stringValue]    Social media
    END
    VAR    &{outdoor}    Outdoor=${True}
    ${articles}    List Robaws Resources    articles    extra_fields=${outdoor}    include=extraFields
    Should Not Be Empty    ${articles}
    ${invoices}    List Robaws Resources    purchase-invoices    type=CREDIT_NOTE
    Length Should Be    ${invoices}    1

Create Get And Update
    [Documentation]    Create, read back and merge-patch an entity through the generic keywords.
    ${created}    Create Test Article
    ${read}    Get Robaws Resource    articles    ${created}[id]
    Should Be Equal    ${read}    ${created}
    VAR    &{changes}    salePrice=${120}
    ${updated}    Update Robaws Resource    articles    ${created}[id]    ${changes}
    Should Be Equal As Numbers    ${updated}[salePrice]    120
    Should Be Equal    ${updated}[code]    ART-T1

Patch Replace And Delete
    [Documentation]    JSON patch, PUT (fields left out are cleared) and delete.
    ${created}    Create Test Article
    ${patched}    Patch Robaws Resource    articles    ${created}[id]
    ...    [{"op": "replace", "path": "/name", "value": "Heat pump Patched"}, {"op": "remove", "path": "/code"}]
    Should Be Equal    ${patched}[name]    Heat pump Patched
    Dictionary Should Not Contain Key    ${patched}    code
    VAR    &{whole}    name=Only A Name
    ${replaced}    Replace Robaws Resource    articles    ${created}[id]    ${whole}
    Dictionary Should Not Contain Key    ${replaced}    salePrice
    Delete Robaws Resource    articles    ${created}[id]
    Run Keyword And Expect Error    Robaws GET /articles/${created}[id]: HTTP 404:*
    ...    Get Robaws Resource    articles    ${created}[id]

Get With Include
    [Documentation]    include=extraFields returns the extra fields of one entity.
    ${clients}    List Robaws Resources    clients    limit=1
    ${client}    Get Robaws Resource    clients    ${clients}[0][id]    include=extraFields
    Dictionary Should Contain Key    ${client}    extraFields

Same Idempotency Key Creates Once
    [Documentation]    A re-run with the same derived key gets the first answer back, not a duplicate.
    ${key}    Make Robaws Idempotency Key    employee    E-1001
    ${again}    Make Robaws Idempotency Key    employee    E-1001
    Should Be Equal    ${key}    ${again}
    Should Be True    len($key) <= 128
    VAR    &{employee}    name=Idem    surname=Potent
    ${first}    Create Robaws Resource    employees    ${employee}    idempotency_key=${key}
    ${second}    Create Robaws Resource    employees    ${employee}    idempotency_key=${key}
    Should Be Equal    ${first}[id]    ${second}[id]
    ${stats}    Get Sandbox Stats
    Should Be Equal As Integers    ${stats}[robaws][idempotent_replays]    1

Idempotency Key Longer Than 128 Characters Is Refused
    [Documentation]    Robaws' limit is checked before sending, with a pointer to the key keyword.
    VAR    &{body}    name=Too Long
    ${long}    Evaluate    "k" * 129
    Run Keyword And Expect Error
    ...    *has 129 characters; Robaws takes at most 128 printable ASCII characters*Make Robaws Idempotency Key*
    ...    Create Robaws Resource    clients    ${body}    idempotency_key=${long}

Nested Collections Contacts And Line Items
    [Documentation]    clients/{id}/contacts and line items, by their own keywords and by the generic ones.
    ${client}    Create Robaws Client    name=Nested Acceptance BV
    ${contact}    Create Robaws Client Contact    ${client}[id]    name=Jan    email=jan@nested.test
    ${contacts}    List Robaws Resources    clients/${client}[id]/contacts
    Should Be Equal    ${contacts}    ${{ [$contact] }}
    ${order}    Create Robaws Resource    purchase-supply-orders    ${{ {"lineItems": [{"quantity": 2}]} }}
    ${lines}    List Robaws Supply Order Line Items    ${order}[id]
    ${line}    Update Robaws Supply Order Line Item    ${order}[id]    ${lines}[0][id]    quantity=${5}
    Should Be Equal    ${line}[quantity]    ${5}

An Entity Documents Tab
    [Documentation]    Upload Robaws Document To Entity posts to offers/{id}/documents; the tab lists it.
    ${offer}    Create Robaws Resource    offers    ${{ {"title": "Roof"} }}
    ${document}    Upload Robaws Document To Entity    offers    ${offer}[id]    ${PDF}
    ${tab}    List Robaws Resources    offers/${offer}[id]/documents
    Should Be Equal    ${tab}[0][id]    ${document}[id]

A Crafted Collection Path Fails With One Clear Line
    [Documentation]    Dot and empty segments, queries and fragments never reach the wire.
    Run Keyword And Expect Error    collection is a dot segment*
    ...    List Robaws Resources    clients/../_sandbox/stats
    Run Keyword And Expect Error    collection 'clients//contacts' has an empty segment*
    ...    List Robaws Resources    clients//contacts
    Run Keyword And Expect Error    collection contains a '?'*
    ...    Get Robaws Resource    clients?page=1    1

Unknown Collection Fails With One Clear Line
    [Documentation]    HTTP 404 naming the collection and what to check.
    Run Keyword And Expect Error
    ...    Robaws GET /no-such-things: HTTP 404: Unknown collection 'no-such-things'. Check the collection name*
    ...    List Robaws Resources    no-such-things

Invalid JSON Patch Fails With One Clear Line
    [Documentation]    Malformed operations fail before sending; inapplicable ones with the server's 400.
    ${clients}    List Robaws Resources    clients    limit=1
    Run Keyword And Expect Error    JSON patch operation 0 has an invalid op 'rename'.*
    ...    Patch Robaws Resource    clients    ${clients}[0][id]    [{"op": "rename", "path": "/name"}]
    Run Keyword And Expect Error    The JSON patch is not valid JSON*
    ...    Patch Robaws Resource    clients    ${clients}[0][id]    [{"op": "replace",
    Run Keyword And Expect Error    Robaws PATCH /clients/${clients}[0][id]: HTTP 400: *
    ...    Patch Robaws Resource    clients    ${clients}[0][id]    [{"op": "remove", "path": "/no/such/field"}]


*** Keywords ***
Create Test Article
    [Documentation]    A new article with a name, a code and a price; returns it.
    VAR    &{article}    name=Heat pump Test    code=ART-T1    salePrice=${100}
    ${created}    Create Robaws Resource    articles    ${article}
    Should Be True    isinstance($created["id"], int)
    RETURN    ${created}
