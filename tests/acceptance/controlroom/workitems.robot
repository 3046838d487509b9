*** Settings ***
Documentation       Work items (create with files, list with a state filter and paging, get, retry one or
...                 many), run artifacts (list, download with a pattern), webhook signatures, and the same
...                 flows through the legacy process-v1 API.

Library             Collections
Library             OperatingSystem
Library             String
Library             Connectors.ControlRoom
Resource            controlroom.resource

Suite Setup         Start Control Room Sandbox
Suite Teardown      Stop Control Room Sandbox
Test Setup          Reset Sandbox

Test Tags           controlroom    workitems


*** Variables ***
${FILES}        ${OUTPUT DIR}${/}controlroom-files


*** Test Cases ***
Create A Work Item With Files
    [Documentation]    The files go through the pre-signed upload; the item waits in the input queue.
    Create File    ${FILES}${/}order.csv    sku,qty\nA-1,3\n
    ${item}    Create Work Item    Invoice Processing    ${{ {"order": 7} }}    files=${{ [r"${FILES}${/}order.csv"] }}
    Should Be Equal    ${item}[state]    new
    Should Be Equal    ${item}[files][0][name]    order.csv
    ${again}    Get Work Item    ${item}
    Should Be Equal    ${again}[payload]    ${{ {"order": 7} }}
    Run Keyword And Expect Error    *File * does not exist*
    ...    Create Work Item    Invoice Processing    files=${{ ["no-such-file.pdf"] }}

List Work Items With A State Filter And Paging
    [Documentation]    Seven items in pages of two; the state filter is applied by the server.
    ${payloads}    Evaluate    [{"n": n} for n in range(6)] + [{"sandbox": {"outcome": "unresolved"}}]
    Trigger And Wait    Customer Onboarding    ${payloads}
    ${before}    Count Control Room Requests
    ${all}    List Work Items    Customer Onboarding    limit=0    page_size=2
    Length Should Be    ${all}    7
    Requests Since Should Be    ${before}    4
    ${failed}    List Work Items    Customer Onboarding    state=failed
    Should Be Equal    ${{ [i["exception"]["type"] for i in $failed] }}    ${{ ["business"] }}
    ${done}    List Work Items    Customer Onboarding    state=done    limit=3
    Length Should Be    ${done}    3

Retry One Failed Work Item
    [Documentation]    The failed item runs its failed step again; the run becomes completed.
    ${run}    Trigger Process Run    Invoice Processing    ${{ {"sandbox": {"outcome": "fail"}} }}
    Wait For Process Run    ${run}    fail_on_unresolved=${False}    &{FAST}
    ${failed}    List Work Items    run_id=${run}    state=failed
    ${ids}    Retry Work Items    ${failed}[0][id]
    Length Should Be    ${ids}    1
    ${run}    Wait For Process Run    ${run}    &{FAST}
    Should Be Equal    ${run}[state]    completed
    # Control Room accepts the batch and leaves an item that is not failed as it is.
    Retry Work Items    ${failed}[0]
    ${item}    Get Work Item    ${failed}[0]
    Should Be Equal    ${item}[state]    done

Retry Many Failed Work Items
    [Documentation]    A list of work item dictionaries is retried in one call.
    ${payloads}    Evaluate    [{"sandbox": {"outcome": "fail"}}] * 3
    ${runs}    Trigger Process Runs    Customer Onboarding    ${payloads}
    Wait For Process Runs    ${runs}    fail_on_unresolved=${False}    &{FAST}
    ${failed}    List Work Items    Customer Onboarding    state=failed
    Length Should Be    ${failed}    3
    Retry Work Items    ${failed}
    ${finished}    Wait For Process Runs    ${runs}    &{FAST}
    FOR    ${run}    IN    @{finished}
        Should Be Equal    ${run}[state]    completed
    END

List And Download Run Artifacts
    [Documentation]    Every step run leaves output.xml and log.html; a pattern picks files to download.
    ${run}    Trigger Process Run    Invoice Processing
    ...    ${{ {"sandbox": {"artifacts": {"summary.csv": "invoice,total\nINV-1,100\n"}}} }}
    Wait For Process Run    ${run}    &{FAST}
    ${artifacts}    List Run Artifacts    ${run}
    ${steps}    List Step Runs    ${run}
    ${last}    List Run Artifacts    ${run}    step_run_id=${steps}[1][id]
    Should Be Equal    ${{ (len($artifacts), len($last)) }}    ${{ (5, 3) }}
    ${saved}    Download Run Artifacts    ${run}    ${FILES}${/}artifacts    pattern=*.csv
    Should Be Equal    ${{ [open(p).read() for p in $saved] }}    ${{ ["invoice,total\nINV-1,100\n"] }}
    ${html}    Download Run Artifacts    ${run}    ${FILES}${/}html    log.html    ${steps}[0][id]
    Length Should Be    ${html}    1

Expired Download Links Are Refused
    [Documentation]    Download links are pre-signed and short-lived, like the real storage.
    Configure Control Room Sandbox    url_ttl=${0}
    ${run}    Trigger Process Run    Customer Onboarding
    Wait For Process Run    ${run}    &{FAST}
    Run Keyword And Expect Error    *HTTP 403*Request has expired*
    ...    Download Run Artifacts    ${run}    ${FILES}${/}expired
    [Teardown]    Configure Control Room Sandbox    url_ttl=${60}

Verify A Control Room Webhook Signature
    [Documentation]    The sandbox signs a webhook event when a run finishes; a changed body is refused.
    ${run}    Trigger Process Run    Customer Onboarding
    Wait For Process Run    ${run}    &{FAST}
    ${event}    Get Control Room Webhook Event    ${run}[id]
    ${parsed}    Verify Control Room Webhook Signature    ${event}[body]    ${event}[signature]
    Should Be Equal    ${parsed}[event]    process_run.completed
    VAR    ${secret: Secret}    %{CONTROLROOM_WEBHOOK_SECRET}
    Verify Control Room Webhook Signature    ${event}[body]    ${event}[signature]    secret=${secret}
    ${forged}    Replace String    ${event}[body]    completed    unresolved
    Run Keyword And Expect Error    *signature does not match*
    ...    Verify Control Room Webhook Signature    ${forged}    ${event}[signature]

Legacy API Work Items, Retry And Artifacts
    [Documentation]    The same keywords through /process-v1 (the API rpaframework speaks).
    Connect To Control Room    api=legacy
    ${run}    Trigger Process Run    Invoice Processing    ${{ {"sandbox": {"outcome": "fail"}} }}
    Run Keyword And Expect Error    *ended unresolved: step 'Post invoices' failed (ROBOT_FAILURE: *)*
    ...    Wait For Process Run    ${run}    &{FAST}
    ${failed}    List Work Items    Invoice Processing    run_id=${run}    state=failed
    Retry Work Items    ${failed}    process=Invoice Processing
    ${run}    Wait For Process Run    ${run}    &{FAST}
    Should Be Equal    ${run}[state]    completed
    ${item}    Get Work Item    ${failed}[0]    process=Invoice Processing
    Should Be Equal    ${{ ($item["state"], len($failed)) }}    ${{ ("done", 1) }}
    Legacy Artifacts, Listing And Stop Should Work As Documented    ${run}
    [Teardown]    Connect To Control Room


*** Keywords ***
Trigger And Wait
    [Documentation]    One run per payload, waited for (unresolved runs are fine).
    [Arguments]    ${process}    ${payloads}
    ${runs}    Trigger Process Runs    ${process}    ${payloads}
    Wait For Process Runs    ${runs}    fail_on_unresolved=${False}    &{FAST}

Requests Since Should Be
    [Documentation]    The sandbox counted ${expected} Control Room requests since ${before}.
    [Arguments]    ${before}    ${expected}
    ${now}    Count Control Room Requests
    Should Be Equal As Integers    ${{ $now - $before }}    ${expected}

Legacy Artifacts, Listing And Stop Should Work As Documented
    [Documentation]    Download and list through the legacy API; stopping is refused there.
    [Arguments]    ${run}
    ${saved}    Download Run Artifacts    ${run}    ${FILES}${/}legacy    pattern=output.xml
    Should Not Be Empty    ${saved}
    ${runs}    List Process Runs    Invoice Processing    limit=2
    Length Should Be    ${runs}    2
    Run Keyword And Expect Error    *current API only*    Stop Process Run    ${run}
