*** Settings ***
Documentation       Process runs: trigger (one, a batch, with existing work items), get, wait, list with
...                 server-side filters and paging, stop, step runs and links; a run that fails, one that
...                 times out while waiting and one that is stopped.

Library             Collections
Library             Connectors.ControlRoom
Resource            controlroom.resource

Suite Setup         Start Control Room Sandbox
Suite Teardown      Stop Control Room Sandbox
Test Setup          Reset Sandbox

Test Tags           controlroom    runs


*** Test Cases ***
List Processes And Find One By Name
    [Documentation]    Processes of the workspace, and the id of one by name.
    ${processes}    List Processes
    ${names}    Evaluate    [p["name"] for p in $processes]
    Should Contain    ${names}    Report Generation
    ${id}    Get Process Id By Name    Invoice Processing
    Should Be Equal    ${id}    %{CONTROLROOM_PROCESS_ID}

Trigger A Run And Wait For It
    [Documentation]    The payload becomes the run's one work item; waiting returns the completed run.
    ${run}    Trigger Process Run    Invoice Processing    ${{ {"invoice": "INV-100"} }}
    Should Be True    $run["state"] in ("new", "in_progress")
    ${run}    Wait For Process Run    ${run}    &{FAST}
    Should Be Equal    ${run}[state]    completed
    ${again}    Get Process Run    ${run}[id]
    Should Be Equal    ${again}[ended_at]    ${run}[ended_at]
    ${steps}    List Step Runs    ${run}
    ${names}    Evaluate    [s["step"]["name"] for s in $steps]
    Should Be Equal    ${names}    ${{ ["Read invoices", "Post invoices"] }}

Trigger A Payload Given As JSON Text
    [Documentation]    Payloads written as JSON in a .robot file are parsed.
    ${run}    Trigger Process Run    Customer Onboarding    {"customer": "ACME"}
    ${items}    List Work Items    run_id=${run}    include_data=${True}
    Should Be Equal    ${items}[0][payload][customer]    ACME

Trigger A Batch And Wait For All
    [Documentation]    One run per payload; the waiting keyword shares one back-off between the runs.
    ${payloads}    Evaluate    [{"row": n} for n in range(3)]
    ${runs}    Trigger Process Runs    Customer Onboarding    ${payloads}
    Length Should Be    ${runs}    3
    ${finished}    Wait For Process Runs    ${runs}    &{FAST}
    FOR    ${run}    IN    @{finished}
        Should Be Equal    ${run}[state]    completed
    END

Trigger One Run With Many Payloads
    [Documentation]    One run, one input work item per payload - unlike Trigger Process Runs (one run each).
    ${payloads}    Evaluate    [{"row": n} for n in range(5)]
    ${run}    Trigger Process Run With Payloads    Customer Onboarding    ${payloads}
    ${run}    Wait For Process Run    ${run}    &{FAST}
    ${items}    List Work Items    run_id=${run}    include_data=${True}
    ${rows}    Evaluate    sorted(i["payload"]["row"] for i in $items)
    Should Be Equal    ${rows}    ${{ list(range(5)) }}

A Run Without A Payload Gets The Default Work Item Of Its Process
    [Documentation]    No body is sent: Control Room uses the process's default work item.
    ${run}    Trigger Process Run    Report Generation
    ${items}    List Work Items    run_id=${run}    include_data=${True}
    Should Be Equal    ${items}[0][payload]    ${{ {"report": "monthly"} }}

A Payload Over The Limit Fails Before Anything Is Sent
    [Documentation]    Control Room takes at most 100,000 bytes of payload JSON; the way out is a file.
    ${before}    Count Control Room Requests
    ${big}    Evaluate    {"data": "x" * 100_000}
    Run Keyword And Expect Error    *100,011 bytes*at most 100,000 bytes*attached*
    ...    Trigger Process Run    Customer Onboarding    ${big}
    ${after}    Count Control Room Requests
    Should Be Equal    ${after}    ${before}

Trigger A Run With Existing Work Items
    [Documentation]    Items created first (with a file) are processed by the run started with their ids.
    ${one}    Create Work Item    Invoice Processing    ${{ {"invoice": "INV-1"} }}
    ${two}    Create Work Item    Invoice Processing    ${{ {"invoice": "INV-2"} }}
    ${run}    Trigger Process Run With Work Items    Invoice Processing    ${{ [$one["id"], $two["id"]] }}
    Wait For Process Run    ${run}    &{FAST}
    ${items}    List Work Items    run_id=${run}    state=done
    Length Should Be    ${items}    2

A Failing Run Fails The Wait With State, Step And Link
    [Documentation]    The payload makes the robot fail in the first step: one line with everything needed.
    ${run}    Trigger Process Run    Invoice Processing
    ...    ${{ {"sandbox": {"outcome": "fail", "step": 0, "message": "Portal login failed"}} }}
    ${link}    Get Process Run Link    ${run}
    Should End With    ${link}    /processes/runs/${run}[id]
    # The link holds the organization and workspace, both from the connection settings.
    VAR    ${expected}
    ...    Control Room: Process run ${run}[id] of process 'Invoice Processing' ended unresolved:
    ...    step 'Read invoices' failed (ROBOT_FAILURE: Portal login failed); see http*/processes/runs/${run}[id]. *
    Run Keyword And Expect Error    ${expected}    Wait For Process Run    ${run}    &{FAST}
    ${run}    Wait For Process Run    ${run}    fail_on_unresolved=${False}    &{FAST}
    Should Be Equal    ${run}[state]    unresolved

An Unresolved Run Names Its Failed Work Items
    [Documentation]    A business exception leaves the steps completed and the item failed.
    ${run}    Trigger Process Run    Customer Onboarding
    ...    ${{ {"sandbox": {"outcome": "unresolved", "message": "VAT number missing"}} }}
    Run Keyword And Expect Error
    ...    *ended unresolved: 1 work item(s) failed (business INVALID_DATA: VAT number missing)*
    ...    Wait For Process Run    ${run}    &{FAST}

Waiting Times Out With The Running Step
    [Documentation]    A one-hour run; waiting one second fails, naming the state and the step in progress.
    ${run}    Trigger Process Run    Report Generation    ${{ {"sandbox": {"seconds": 72000}} }}
    Run Keyword And Expect Error
    ...    *is still in_progress after 1 s: step 'Collect data' in progress; see http*Wait longer (raise timeout)*
    ...    Wait For Process Run    ${run}    timeout=1    poll_interval=0.2
    [Teardown]    Stop Process Run    ${run}    terminate_ongoing=${True}

Stop A Run
    [Documentation]    A graceful stop lets the step wind down (stopping); the run ends unresolved and the
    ...    wait names the failed step and the reason.
    ${run}    Trigger Process Run    Report Generation    ${{ {"sandbox": {"seconds": 72000}} }}
    Wait Until Keyword Succeeds    5s    0.05s    Run Should Be In Progress    ${run}
    ${stopped}    Stop Process Run    ${run}    reason=Wrong input file
    # Stopping lasts up to 2 s of sandbox time (0.1 s here): the run may have finished already.
    Should Be True    $stopped["state"] in ("stopping", "unresolved")
    VAR    ${expected}    *ended unresolved: step 'Collect data' failed
    ...    (PROCESS_RUN_STOPPED: Process run stopped: Wrong input file)*
    Run Keyword And Expect Error    ${expected}    Wait For Process Run    ${run}    &{FAST}
    ${items}    List Work Items    run_id=${run}    state=failed
    Length Should Be    ${items}    1
    # Control Room does not accept stopping a finished run: the run comes back as it is.
    ${again}    Stop Process Run    ${run}
    Should Be Equal    ${again}[state]    unresolved

Stop A Run Marking Its Work Items Done
    [Documentation]    With set_remaining_work_items_as_done the stopped run completes.
    ${run}    Trigger Process Run    Report Generation    ${{ {"sandbox": {"seconds": 72000}} }}
    Stop Process Run    ${run}    set_remaining_work_items_as_done=${True}    terminate_ongoing=${True}
    ${run}    Wait For Process Run    ${run}    &{FAST}
    Should Be Equal    ${run}[state]    completed

List Runs With Server Side Filters
    [Documentation]    The state and process filters are applied by the server.
    ${bad}    Trigger Process Run    Customer Onboarding    ${{ {"sandbox": {"outcome": "fail"}} }}
    ${good}    Trigger Process Run    Customer Onboarding
    Wait For Process Runs    ${{ [$bad, $good] }}    fail_on_unresolved=${False}    &{FAST}
    ${unresolved}    List Process Runs    Customer Onboarding    state=unresolved
    Length Should Be    ${unresolved}    1
    Should Be Equal    ${unresolved}[0][id]    ${bad}[id]
    ${all}    List Process Runs    Customer Onboarding
    Length Should Be    ${all}    2
    Run Keyword And Expect Error    *'state' got value 'failed'*RunState*    List Process Runs    state=failed

Paging Follows Next Links Beyond Three Pages
    [Documentation]    13 runs in pages of 3: five requests for all, two for the first four.
    ${runs}    Trigger Process Runs    Customer Onboarding    ${{ [{"n": n} for n in range(13)] }}
    ${listed}    List Runs Counting Requests    limit=0    page_size=3    expected_requests=5
    Length Should Be    ${listed}    13
    Reverse List    ${runs}
    Should Be Equal    ${{ [r["id"] for r in $listed] }}    ${{ [r["id"] for r in $runs] }}
    ${first}    List Runs Counting Requests    limit=4    page_size=3    expected_requests=2
    Length Should Be    ${first}    4

Rate Limited Requests Are Retried
    [Documentation]    A sandbox limit of 2 requests/second per key (off unless a test sets one):
    ...    429s without Retry-After (Control Room documents none) are retried with back-off.
    Configure Control Room Sandbox    rate_limit=${2}    burst=${2}
    Connect To Control Room    rate_limit=none
    Repeat Keyword    3 times    Trigger Process Run    Customer Onboarding
    ${stats}    Get Sandbox Stats
    Should Be True    ${stats}[controlroom][rate_limited] >= 1
    ${status}    Get Control Room Rate Limit Status
    Should Be True    ${status}[retries] >= 1
    [Teardown]    Restore Rate Limit

Trigger Is Not Repeated After A Refusal Other Than 429
    [Documentation]    An unknown work item id is a 404 with the server's message, and no run starts.
    Run Keyword And Expect Error    *HTTP 404*Work item nope does not exist*
    ...    Trigger Process Run With Work Items    Invoice Processing    ${{ ["nope"] }}


*** Keywords ***
List Runs Counting Requests
    [Documentation]    List Customer Onboarding runs and check how many requests that took.
    [Arguments]    ${limit}    ${page_size}    ${expected_requests}
    ${before}    Count Control Room Requests
    ${runs}    List Process Runs    Customer Onboarding    limit=${limit}    page_size=${page_size}
    ${after}    Count Control Room Requests
    Should Be Equal As Integers    ${{ $after - $before }}    ${expected_requests}
    RETURN    ${runs}

Run Should Be In Progress
    [Documentation]    Fails until a worker has picked the run up (a queued run stops at once).
    [Arguments]    ${run}
    ${current}    Get Process Run    ${run}
    Should Be Equal    ${current}[state]    in_progress

Restore Rate Limit
    [Documentation]    Back to no sandbox limit (Control Room publishes none) and the default client.
    Configure Control Room Sandbox    rate_limit=${None}
    Connect To Control Room
