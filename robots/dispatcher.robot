*** Settings ***
Documentation       Fans work out to a Control Room process: one run per input row, or one run with many items.
...
...                 The input work item names the process (``process``, default from DISPATCHER_PROCESS or
...                 "Invoice Processing") and carries the rows: a ``rows`` list in its payload, or an attached
...                 CSV or Excel file (first sheet, first row = column names). ``mode`` (default from
...                 DISPATCHER_MODE, else ``run_per_row``) says how they are fed to the process:
...                 ``run_per_row`` triggers one run per row, each row that run's input work item, and waits
...                 for all of them with one shared back-off; ``one_run`` triggers ONE run with one input work
...                 item per row - how a process whose step has parallel executions is fed - and waits for it.
...                 Waiting lasts at most ``timeout`` seconds (default 600). The output work item holds a
...                 summary: counts per state and, per row, the run id, state (of the run, or of the row's
...                 work item in one run), failing step or error, and link.
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


*** Variables ***
${PROCESS}      %{DISPATCHER_PROCESS=Invoice Processing}
${MODE}         %{DISPATCHER_MODE=run_per_row}


*** Tasks ***
Control Room Dispatcher
    [Documentation]    Trigger one run per input row (or one run with all rows), wait, write the summary.
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
    ${process}    ${mode}    Evaluate    $payload.get("process") or $PROCESS, $payload.get("mode") or $MODE
    ${rows}    Read Dispatch Rows    ${payload}
    IF    not $rows
        Release Input Work Item    FAILED    exception_type=BUSINESS    code=NO_ROWS
        ...    message=The input work item has no rows to dispatch.
        RETURN    ${None}
    END
    IF    $mode not in ("run_per_row", "one_run")
        Release Input Work Item    FAILED    exception_type=BUSINESS    code=UNKNOWN_MODE
        ...    message=Unknown mode '${mode}': use run_per_row or one_run.
        RETURN    ${None}
    END
    ${summary}    Dispatch Rows    ${process}    ${rows}    ${mode}    ${payload.get("timeout", 600)}
    Save Summary    ${summary}    ${payload.get("fail_on_unresolved", False)}
    RETURN    ${summary}

Dispatch Rows
    [Documentation]    ``run_per_row``: one run per row, waited for together; ``one_run``: one run with every row.
    [Arguments]    ${process}    ${rows}    ${mode}    ${timeout}
    IF    $mode == "one_run"
        ${run}    Trigger Process Run With Payloads    ${process}    ${rows}
        ${run}    Wait For Process Run    ${run}    timeout=${timeout}    fail_on_unresolved=${False}
        ${summary}    Summarise One Run    ${process}    ${rows}    ${run}
        RETURN    ${summary}
    END
    ${runs}    Trigger Process Runs    ${process}    ${rows}
    Log    Triggered ${{ len($runs) }} run(s) of ${process}.
    ${finished}    Wait For Process Runs    ${runs}    timeout=${timeout}    fail_on_unresolved=${False}
    ${summary}    Summarise Runs    ${process}    ${rows}    ${finished}
    RETURN    ${summary}

Save Summary
    [Documentation]    Write the summary output work item and release the input; fail if asked to.
    [Arguments]    ${summary}    ${fail_on_unresolved}
    Create Output Work Item    variables=${summary}    save=${True}
    Release Input Work Item    DONE
    IF    ${summary}[unresolved] and ${fail_on_unresolved}
        Fail    ${summary}[unresolved] of ${summary}[total] rows of ${summary}[process] ended unresolved.
    END

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
    VAR    &{summary}    process=${process}    mode=run_per_row    total=${{ len($runs) }}
    ...    completed=${completed}    unresolved=${{ len($runs) - $completed }}    runs=${results}
    Log    ${completed} of ${summary}[total] runs of ${process} completed.
    RETURN    ${summary}

Summarise One Run
    [Documentation]    The rows of one finished run: per row the state of its work item.
    [Arguments]    ${process}    ${rows}    ${run}
    ${link}    Get Process Run Link    ${run}
    ${items}    List Work Items    run_id=${run}    include_data=${True}    limit=${0}
    VAR    @{results}    @{EMPTY}
    FOR    ${row}    IN    @{rows}
        ${result}    Describe Row Of One Run    ${row}    ${run}    ${items}    ${link}
        Append To List    ${results}    ${result}
    END
    ${completed}    Evaluate    sum(1 for r in $results if r["state"] == "done")
    IF    $run["state"] != "completed"
        Log    Run ${run}[id] of ${process} ended ${run}[state]: ${link}    level=WARN
    END
    VAR    &{summary}    process=${process}    mode=one_run    run_id=${run}[id]    run_state=${run}[state]
    ...    total=${{ len($rows) }}    completed=${completed}    unresolved=${{ len($rows) - $completed }}
    ...    runs=${results}
    RETURN    ${summary}

Describe Row Of One Run
    [Documentation]    One summary entry: the row, the run, and the state (and exception) of the row's work item.
    [Arguments]    ${row}    ${run}    ${items}    ${link}
    ${item}    Evaluate    next(filter(lambda i, row=$row: i.get("payload") == row, $items), {"state": "missing"})
    VAR    &{result}    row=${row}    run_id=${run}[id]    state=${item}[state]    link=${link}
    IF    $item.get("exception")    Set To Dictionary    ${result}    error=${item}[exception]
    RETURN    ${result}

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
