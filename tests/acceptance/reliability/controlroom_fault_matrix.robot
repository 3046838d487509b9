*** Settings ***
Documentation       Exactly once for Control Room triggers, which have no idempotency keys: every
...                 ``Trigger Process Run``, wrapped in ``Wait Until Keyword Succeeds``, against a sandbox that
...                 answers 5xx before starting (``5xx``), drops the connection before (``reset``) or after
...                 starting the run (``lost``), at heavy rates. A trigger whose answer was lost is never sent
...                 twice: its repeat looks for the run the lost attempt started. Afterwards the process holds
...                 exactly one run per payload.

Library             Collections
Library             SandboxLibrary
Library             Connectors.ControlRoom

Suite Setup         Start Sandbox
Suite Teardown      Restore Sandbox
Test Setup          Configure Sandbox    faults=${EMPTY}    seed=${None}    reset=${True}
Test Template       Every Trigger Starts Exactly One Run

Test Tags           controlroom    reliability


*** Variables ***
${COUNT}        ${6}
${PROCESS}      Customer Onboarding


*** Test Cases ***    FAULTS
Triggers Through Server Errors      5xx=0.5
Triggers Through Drops Before       reset=0.5
Triggers Through Lost Answers       lost=0.5
Triggers Through Every Fault        5xx=0.15,reset=0.15,lost=0.15


*** Keywords ***
Every Trigger Starts Exactly One Run
    [Documentation]    ${COUNT} triggers, each repeated until it succeeds; each payload ends up in one run.
    [Arguments]    ${faults}
    Connect To Control Room    rate_limit=200/s    burst=${200}
    Configure Sandbox    faults=${faults}    seed=${23}
    FOR    ${index}    IN RANGE    ${COUNT}
        VAR    &{payload}    reference=matrix-${index}
        Wait Until Keyword Succeeds    40x    0s    Trigger Process Run    ${PROCESS}    ${payload}
    END
    Every Fault Asked For Should Have Been Met    ${faults}
    Configure Sandbox    faults=${EMPTY}
    Each Payload Should Be In One Run

Each Payload Should Be In One Run
    [Documentation]    One input work item per reference: no trigger lost, none started twice.
    ${items}    List Work Items    process=${PROCESS}    include_data=${True}    limit=0
    ${references}    Evaluate    [str((i.get("payload") or {}).get("reference", "")) for i in $items]
    ${references}    Evaluate    [r for r in $references if r.startswith("matrix-")]
    Length Should Be    ${{ set($references) }}    ${COUNT}    Triggers were lost.
    Length Should Be    ${references}    ${COUNT}    Runs were started twice.

Restore Sandbox
    [Documentation]    Leave the shared sandbox as other suites expect it.
    Configure Sandbox    faults=${EMPTY}    seed=${None}    reset=${True}
    Stop Sandbox
