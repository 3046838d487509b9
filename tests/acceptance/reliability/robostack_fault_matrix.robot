*** Settings ***
Documentation       Exactly once, whatever fails, without idempotency keys: ``Create Robostack Record`` and
...                 ``Create Robostack Records`` wrapped in ``Wait Until Keyword Succeeds``, against a sandbox
...                 that answers 502/503/504 before writing (``5xx``), drops the connection before writing
...                 (``reset``) or after writing (``lost``), at heavy rates. Robostack takes no idempotency key:
...                 a repeat first finds what the failed attempt wrote. Afterwards the resource holds every
...                 intended record once: none lost, none duplicated.

Library             Collections
Library             SandboxLibrary
Library             Connectors.Robostack

Suite Setup         Start Sandbox
Suite Teardown      Restore Sandbox
Test Setup          Configure Sandbox    faults=${EMPTY}    seed=${None}    reset=${True}
Test Template       Every Record Lands Exactly Once

Test Tags           robostack    reliability


*** Variables ***
${COUNT}        ${30}


*** Test Cases ***    KEYWORD                    FAULTS
Records Through Server Errors               Create One Record          5xx=0.5
Records Through Drops Before Writing        Create One Record          reset=0.5
Records Through Lost Answers                Create One Record          lost=0.5
Chunks Through Lost Answers                 Create Chunked Records     lost=0.4
Records Through Every Fault At Once         Create One Record          5xx=0.15,reset=0.15,lost=0.2
Chunks Through Every Fault At Once          Create Chunked Records     5xx=0.1,reset=0.1,lost=0.15


*** Keywords ***
Every Record Lands Exactly Once
    [Documentation]    ${COUNT} records, each write repeated until it succeeds; each order number ends up once.
    [Arguments]    ${keyword}    ${faults}
    Connect To Robostack    rate_limit=off
    Configure Sandbox    faults=${faults}    seed=${23}
    VAR    @{attempts}    @{EMPTY}
    Run Keyword    ${keyword}    ${attempts}
    ${stats}    Get Sandbox Stats
    Configure Sandbox    faults=${EMPTY}
    Each Order Should Exist Once
    Faults Should Have Made The Robot Repeat    ${keyword}    ${attempts}    ${faults}    ${stats}[faults_injected]

Each Order Should Exist Once
    [Documentation]    Every matrix order number once: none lost, none duplicated.
    ${orders}    Find Robostack Records    orders    limit=0
    ${numbers}    Evaluate    [o["order_number"] for o in $orders if o["order_number"].startswith("MATRIX-")]
    Length Should Be    ${{ set($numbers) }}    ${COUNT}    Records were lost.
    Length Should Be    ${numbers}    ${COUNT}    Records were duplicated.

Faults Should Have Made The Robot Repeat
    [Documentation]    The run only means something if every kind of fault asked for was met and repeated.
    [Arguments]    ${keyword}    ${attempts}    ${faults}    ${injected}
    ${calls}    Set Variable If    '${keyword}' == 'Create One Record'    ${COUNT}    ${1}
    ${repeats}    Evaluate    len($attempts) - ${calls}
    Log    Faults met: ${injected}; repeats of the keyword: ${repeats}
    Should Be True    ${repeats} > 0    The faults must have made the robot repeat.
    ${kinds}    Evaluate    [part.split("=")[0] for part in $faults.split(",")]
    FOR    ${kind}    IN    @{kinds}
        Should Be True    ${injected}[${kind}] > 0    No ${kind} fault was met.
    END

Create One Record
    [Documentation]    One create per order, each wrapped in Wait Until Keyword Succeeds.
    [Arguments]    ${attempts}
    FOR    ${index}    IN RANGE    ${COUNT}
        ${order}    Wait Until Keyword Succeeds    40x    0s    Counted    ${attempts}    Create Robostack Record
        ...    orders    order_number=MATRIX-${index}    status=pending
        Should Be Equal    ${order}[order_number]    MATRIX-${index}
    END

Create Chunked Records
    [Documentation]    All orders in one call of 6 chunks, wrapped in Wait Until Keyword Succeeds.
    [Arguments]    ${attempts}
    ${records}    Evaluate
    ...    [{"order_number": f"MATRIX-{i}", "status": "pending", "lines": [{"sku": f"S-{i}"}]} for i in range($COUNT)]
    ${created}    Wait Until Keyword Succeeds    60x    0s    Counted    ${attempts}    Create Robostack Records
    ...    orders    ${records}    chunk_size=${5}
    ${numbers}    Evaluate    [r["order_number"] for r in $created]
    Should Be Equal    ${numbers}    ${{ [r["order_number"] for r in $records] }}

Counted
    [Documentation]    Runs the keyword after adding one to the attempts list.
    [Arguments]    ${attempts}    ${keyword}    @{arguments}    &{named}
    Append To List    ${attempts}    ${keyword}
    ${result}    Run Keyword    ${keyword}    @{arguments}    &{named}
    RETURN    ${result}

Restore Sandbox
    [Documentation]    Leave the shared sandbox as other suites expect it.
    Configure Sandbox    faults=${EMPTY}    seed=${None}    reset=${True}
    Stop Sandbox
