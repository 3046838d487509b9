*** Settings ***
Documentation       Library Connectors.Cobot on Cobot's API 2 (the default) against the sandbox: flattened
...                 JSON:API answers, the space resolved once, check-in and check-out, events, contacts and
...                 teams, any operation by its operationId, and each refusal as one clear line.

Library             Collections
Library             OperatingSystem
Library             SandboxLibrary
Library             Connectors.Cobot

Suite Setup         Start Fast Sandbox
Suite Teardown      Restore Sandbox
Test Setup          Reset Sandbox

Test Tags           cobot    api2


*** Variables ***
${SCALE}    ${10}


*** Test Cases ***
Answers Are Flattened Resources
    [Documentation]    id, type, the spec's attribute names and the related ids.
    ${space}    Get Cobot Space
    Should Be Equal    ${space}[subdomain]    %{COBOT_SPACE}
    Should Be Equal    ${space}[type]    spaces
    ${members}    List Cobot Memberships
    Length Should Be    ${members}    6
    Should Be Equal    ${members}[0][spaceId]    ${space}[id]
    ${member}    Get Cobot Membership    ${members}[0][id]
    Should Be Equal    ${member}[name]    ${members}[0][name]

Invoices By Page And As PDF
    [Documentation]    Every invoice of the demo, 200 a request; one as a PDF file.
    ${invoices}    List Cobot Invoices    start=2000-01-01
    Should Not Be Empty    ${invoices}
    ${invoice}    Get Cobot Invoice    ${invoices}[0][id]
    Should Be Equal    ${invoice}[number]    ${invoices}[0][number]
    ${file}    Download Cobot Invoice PDF    ${invoice}[id]    ${OUTPUT_DIR}${/}invoice.pdf
    ${head}    Get Binary File    ${file}
    Should Start With    ${head}    %PDF

Check In And Out By Badge
    [Documentation]    A member's RFID token checks them in; the check-in's id checks them out.
    ${check_in}    Check In Cobot Member    rfid-demo-coworking-0005
    ${running}    List Current Cobot Check Ins    rfid-demo-coworking-0005
    Length Should Be    ${running}    1
    Check Out Cobot Member    ${check_in}[id]
    ${running}    List Current Cobot Check Ins    rfid-demo-coworking-0005
    Should Be Empty    ${running}

Any Operation By Its Id
    [Documentation]    Parameters by the spec's names, brackets included; the answer is the JSON:API document.
    ${space}    Get Cobot Space
    ${document}    Call Cobot API    get-space-teams    spaceId=${space}[id]
    ...    filter[from]=2024-01-01    filter[to]=2030-12-31
    Should Be Equal    ${document}[data][0][type]    teams
    Run Keyword And Expect Error    STARTS: missing filter[from], filter[to] for operation get-space-teams
    ...    Call Cobot API    get-space-teams    spaceId=${space}[id]

A Missing Scope Is Named
    [Documentation]    The limited demo token may read bookings but not invoices.
    Connect To Cobot    access_token=%{COBOT_LIMITED_ACCESS_TOKEN}    rate_scale=${SCALE}
    Run Keyword And Expect Error    *HTTP 403*read_invoices*connectors login cobot --scope read_invoices*
    ...    Get Cobot Invoice    0123456789abcdef0123456789abcdef
    [Teardown]    Connect As Admin


*** Keywords ***
Start Fast Sandbox
    [Documentation]    The library is global: connect anew, or it would keep the previous suite's sandbox.
    Start Sandbox
    Scale Cobot Limits    ${SCALE}
    Connect As Admin

Connect As Admin
    [Documentation]    Connect with the demo admin token (a Secret from the environment).
    VAR    ${token: Secret}    %{COBOT_ACCESS_TOKEN}
    Connect To Cobot    access_token=${token}    rate_scale=${SCALE}

Restore Sandbox
    [Documentation]    Undo the suite's speed-up and stop the sandbox.
    Scale Cobot Limits    ${1}
    Stop Sandbox

Scale Cobot Limits
    [Documentation]    Only Cobot's limits (Configure Sandbox would reset every vendor).
    [Arguments]    ${scale}
    ${url}    Get Sandbox Url
    ${answer}    Evaluate    requests.post($url + "/_sandbox/cobot/limits", json={"scale": $scale}, timeout=10)
    Should Be Equal As Integers    ${answer.status_code}    200
