*** Settings ***
Documentation       Safety rules and errors: the empty-selection guard, 401, 403, 404, malformed
...                 bodies and pipelines, a create whose answer is lost, and 429s waited out.

Library             Connectors.Robostack
Library             RequestsLibrary
Library             SandboxLibrary

Suite Setup         Start Robostack Sandbox
Suite Teardown      Stop Sandbox
Test Setup          Reset Sandbox
Test Tags           robostack    safety


*** Test Cases ***
Empty Selections Are Refused
    [Documentation]    An empty selection, None or a list with an empty selection never reaches the server.
    ${with_empty}    Evaluate    [{"status": "pending"}, {}]
    Run Keyword And Expect Error    *Refusing to delete with an empty selection*allow_all=True*
    ...    Delete Robostack Records    orders    ${{ {} }}
    Run Keyword And Expect Error    *Refusing to delete*
    ...    Delete Robostack Records    orders    ${None}
    Run Keyword And Expect Error    *Refusing to delete with a list containing an empty selection*
    ...    Delete Robostack Records    orders    ${with_empty}
    Run Keyword And Expect Error    *Refusing to update with an empty selection*
    ...    Update Robostack Records    orders    ${{ {} }}    status=invoiced
    ${count}    Count Robostack Records    orders
    Should Be Equal As Integers    ${count}    10
    ${invoiced}    Count Robostack Records    orders    status=invoiced
    Should Be Equal As Integers    ${invoiced}    3

Allow All Overrides The Guard
    [Documentation]    allow_all=True updates or deletes every record on purpose.
    ${summary}    Update Robostack Records    customers    ${{ {} }}    segment=smb    allow_all=${True}
    Should Be Equal As Integers    ${summary}[matched]    4
    ${summary}    Delete Robostack Records    customers    ${{ {} }}    allow_all=${True}
    Should Be Equal As Integers    ${summary}[deleted]    4
    ${count}    Count Robostack Records    customers
    Should Be Equal As Integers    ${count}    0

Wrong Secret Is A 401
    [Documentation]    A known key with the wrong secret is refused; the message says what to check.
    VAR    ${key: Secret}    %{ROBOSTACK_API_KEY}
    VAR    ${wrong: Secret}    %{ROBOSTACK_UNGRANTED_API_SECRET}
    Connect To Robostack    %{ROBOSTACK_APP_UUID}    ${key}    ${wrong}
    Run Keyword And Expect Error    *HTTP 401*Invalid token key or secret*ROBOSTACK_API_SECRET*
    ...    Find Robostack Records    orders
    [Teardown]    Connect To Robostack

Token Not Granted To The App Is A 403
    [Documentation]    A valid token that was not granted to the application.
    VAR    ${key: Secret}    %{ROBOSTACK_UNGRANTED_API_KEY}
    VAR    ${secret: Secret}    %{ROBOSTACK_UNGRANTED_API_SECRET}
    Connect To Robostack    api_key=${key}    api_secret=${secret}
    Run Keyword And Expect Error    *HTTP 403*Add Token Access*
    ...    Count Robostack Records    orders
    [Teardown]    Connect To Robostack

Unknown Resource Is A 404
    [Documentation]    A resource the application does not have.
    Run Keyword And Expect Error    *HTTP 404*'invoices' does not exist*
    ...    Find Robostack Records    invoices

Malformed Pipelines Are 400s Naming The Problem
    [Documentation]    The sandbox names the stage and what is wrong with it.
    ${no_id}    Evaluate    [{"$group": {"total": {"$sum": "$amount"}}}]
    Run Keyword And Expect Error    *HTTP 400*stage 1 ($group)*'_id' group key*
    ...    Aggregate Robostack Records    orders    ${no_id}
    ${unknown}    Evaluate    [{"$match": {"status": "pending"}}, {"$lookup": {"from": "products"}}]
    Run Keyword And Expect Error    *HTTP 400*stage 2: unknown stage '$lookup'*
    ...    Aggregate Robostack Records    orders    ${unknown}
    ${bad_limit}    Evaluate    [{"$limit": -1}]
    Run Keyword And Expect Error    *HTTP 400*stage 1 ($limit): expects a positive whole number*
    ...    Aggregate Robostack Records    orders    ${bad_limit}

Malformed Bodies Are 400s
    [Documentation]    Ids are assigned by Robostack; find selections are exact values.
    Run Keyword And Expect Error    *HTTP 400*Robostack assigns ids*
    ...    Create Robostack Record    orders    id=${5}    status=pending
    ${condition}    Evaluate    {"quantity": {"$gt": 5}}
    Run Keyword And Expect Error    *HTTP 400*exact match*
    ...    Find Robostack Records    orders    ${condition}

A Create Whose Answer Is Lost Is Not Sent Again
    [Documentation]    The record was written but the answer lost: the keyword fails saying so, and
    ...    does not create a duplicate.
    Set Sandbox Faults    lost=1.0
    Run Keyword And Expect Error    *may or may not have been created in 'orders'*Find Robostack Records*
    ...    Create Robostack Record    orders    order_number=PO-2024-0777    status=pending
    Set Sandbox Faults    ${EMPTY}
    ${found}    Find Robostack Records    orders    order_number=PO-2024-0777
    Length Should Be    ${found}    1
    [Teardown]    Set Sandbox Faults    ${EMPTY}

Server 429s Are Waited Out
    [Documentation]    With the client throttle off and a server limit of 4/s, 429s come and are
    ...    retried after Retry-After; each record is created exactly once.
    ${url}    Get Sandbox Url
    VAR    &{limit}    per_second=${4}    burst=${1}
    POST    ${url}/_sandbox/robostack/rate-limit    json=${limit}
    Connect To Robostack    rate_limit=off
    FOR    ${n}    IN RANGE    4
        Create Robostack Record    orders    order_number=PO-2024-09${n}    status=pending
    END
    ${stats}    Get Sandbox Stats
    Should Be True    ${stats}[robostack][rate_limited] >= 1
    ${created}    Count Robostack Records    orders    status=pending
    Should Be Equal As Integers    ${created}    9
    [Teardown]    Restore Rate Limit


*** Keywords ***
Start Robostack Sandbox
    [Documentation]    One sandbox for the suite; the connection comes from its ROBOSTACK_* variables.
    Start Sandbox
    Connect To Robostack

Restore Rate Limit
    [Documentation]    No server-side limit and the default client throttle again.
    ${url}    Get Sandbox Url
    VAR    &{off}    per_second=${None}
    POST    ${url}/_sandbox/robostack/rate-limit    json=${off}
    Connect To Robostack

Set Sandbox Faults
    [Documentation]    Configure Sandbox would return (and log) the demo credentials: post directly.
    [Arguments]    ${faults}
    ${url}    Get Sandbox Url
    Evaluate    requests.post($url + "/_sandbox/config", json={"faults": $faults}, timeout=10).status_code
    ...    modules=requests
