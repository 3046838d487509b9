*** Settings ***
Documentation       Fans work out to a Control Room process: one run per input row.
...
...                 The input work item names the process (``process``, default from DISPATCHER_PROCESS or
...                 "Invoice Processing") and carries the rows: a ``rows`` list in its payload, or an attached
...                 CSV or Excel file (first sheet, first row = column names). The robot triggers one run per
...                 row, each row becoming that run's input work item, waits for all of them with one shared
...                 back-off (``timeout`` seconds, default 600), and writes an output work item with a
...                 summary: counts per state and, per row, the run id, state, failing step and link.
...
...                 Unresolved runs are reported in the summary and as warnings; with ``fail_on_unresolved``
...                 true in the payload they also fail the task. Credentials come from CONTROLROOM_* variables
...                 (or the Vault secret named by CONNECTORS_VAULT_SECRET).

Library             Collections
Library             RPA.Robocorp.WorkItems    autoload=${False}
Library             Connectors.ControlRoom
Resource            resources/controlroom_dispatcher.resource
Resource            resources/summary.resource

Suite Setup         Prepare Dispatcher


*** Tasks ***
Control Room Dispatcher
    [Documentation]    Trigger one run per input row, wait for them, write the summary output work item.
    ${summaries}    For Each Input Work Item    Dispatch Rows Of Work Item
    Report Dispatch Summary    ${summaries}


*** Keywords ***
Prepare Dispatcher
    [Documentation]    Local runs read this task's own work items; then connect to Control Room.
    Use Local Dispatcher Work Items
    Connect To Control Room

Dispatch Rows Of Work Item
    [Documentation]    Dispatch the rows of the current input work item and save the summary.
    ${payload}    Get Work Item Payload
    ${process}    Evaluate    $payload.get("process") or os.environ.get("DISPATCHER_PROCESS", "Invoice Processing")
    ...    modules=os
    ${rows}    Read Dispatch Rows    ${payload}
    IF    not $rows
        Release Input Work Item    FAILED    exception_type=BUSINESS    code=NO_ROWS
        ...    message=The input work item has no rows to dispatch.
        RETURN    ${None}
    END
    ${runs}    Trigger Process Runs    ${process}    ${rows}
    Log    Triggered ${{ len($runs) }} run(s) of ${process}.
    ${finished}    Wait For Process Runs    ${runs}    timeout=${payload.get("timeout", 600)}
    ...    fail_on_unresolved=${False}
    ${summary}    Save Summary    ${process}    ${rows}    ${finished}    ${payload.get("fail_on_unresolved", False)}
    RETURN    ${summary}

Save Summary
    [Documentation]    Write the summary output work item and release the input; fail if asked to.
    [Arguments]    ${process}    ${rows}    ${runs}    ${fail_on_unresolved}
    ${summary}    Summarise Runs    ${process}    ${rows}    ${runs}
    Create Output Work Item    variables=${summary}    save=${True}
    Release Input Work Item    DONE
    IF    ${summary}[unresolved] and ${fail_on_unresolved}
        Fail    ${summary}[unresolved] of ${summary}[total] runs of ${summary}[process] ended unresolved.
    END
    RETURN    ${summary}

Report Dispatch Summary
    [Documentation]    "Dispatched 4 rows to Invoice Processing: 4 completed, 0 unresolved; 25 Control Room requests".
    [Arguments]    ${summaries}
    ${status}    Get Control Room Rate Limit Status
    VAR    @{parts}    @{EMPTY}
    FOR    ${summary}    IN    @{summaries}
        IF    not $summary    CONTINUE
        VAR    ${part}    ${summary}[total] rows to ${summary}[process]:
        ...    ${summary}[completed] completed, ${summary}[unresolved] unresolved
        Append To List    ${parts}    ${part}
    END
    Report Summary    Dispatched ${{ "; ".join($parts) or "nothing" }}; ${status}[requests] Control Room requests

Summarise Runs
    [Documentation]    Counts per state and one line per row: the row, its run, state, failing step and link.
    [Arguments]    ${process}    ${rows}    ${runs}
    VAR    @{results}    @{EMPTY}
    FOR    ${row}    ${run}    IN ZIP    ${rows}    ${runs}
        ${result}    Describe Run    ${row}    ${run}
        Append To List    ${results}    ${result}
    END
    ${completed}    Evaluate    sum(1 for r in $runs if r["state"] == "completed")
    VAR    &{summary}    process=${process}    total=${{ len($runs) }}    completed=${completed}
    ...    unresolved=${{ len($runs) - $completed }}    runs=${results}
    Log    ${completed} of ${summary}[total] runs of ${process} completed.
    RETURN    ${summary}

Describe Run
    [Documentation]    One summary entry; an unresolved run also names its failing step and logs a warning.
    [Arguments]    ${row}    ${run}
    ${link}    Get Process Run Link    ${run}
    VAR    &{result}    row=${row}    run_id=${run}[id]    state=${run}[state]    link=${link}
    ...    duration=${run}[duration]
    IF    $run["state"] != "completed"
        ${steps}    List Step Runs    ${run}
        ${failed}    Evaluate    [s for s in $steps if s["state"] == "failed"]
        IF    $failed
            Set To Dictionary    ${result}    failed_step=${failed}[-1][step][name]    error=${failed}[-1][error]
        END
        Log    Run ${run}[id] for ${row} ended ${run}[state]: ${link}    level=WARN
    END
    RETURN    ${result}
