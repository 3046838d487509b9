*** Settings ***
Documentation       Connecting to Control Room: variables, Secret arguments, a Vault secret, the legacy API,
...                 and the credential errors (wrong key, key of another workspace, missing permission),
...                 each one clear line.

Library             OperatingSystem
Library             Connectors.ControlRoom
Resource            controlroom.resource

Suite Setup         Start Control Room Sandbox
Suite Teardown      Stop Control Room Sandbox
Test Setup          Reset Sandbox

Test Tags           controlroom    connection


*** Test Cases ***
First Keyword Connects From The Environment
    [Documentation]    No Connect To Control Room: the CONTROLROOM_* variables of the sandbox are used.
    ${processes}    List Processes
    Should Not Be Empty    ${processes}

Connect With A Secret API Key
    [Documentation]    The key is a Secret and never logged; rate limit and timeout are arguments.
    VAR    ${key: Secret}    %{CONTROLROOM_API_KEY}
    Connect To Control Room    %{CONTROLROOM_WORKSPACE_ID}    ${key}    url=%{CONTROLROOM_URL}
    ...    rate_limit=5/s    burst=${5}    timeout=${30}
    ${status}    Get Control Room Rate Limit Status
    Should Be Equal    ${status}[rate]    5/s burst 5
    ${id}    Get Process Id By Name    Invoice Processing
    Should Be Equal    ${id}    %{CONTROLROOM_PROCESS_ID}

Connect With A Vault Secret
    [Documentation]    vault_secret names a FileSecrets entry with workspace_id and api_key; it outranks
    ...    the CONTROLROOM_* variables.
    VAR    ${vault}    ${OUTPUT DIR}${/}controlroom-vault.json
    Write Control Room Vault File    ${vault}    controlroom    CONTROLROOM_READONLY_API_KEY
    Set Environment Variable    RPA_SECRET_FILE    ${vault}
    TRY
        Connect To Control Room    vault_secret=controlroom
        ${runs}    List Process Runs    limit=1
        Length Should Be    ${runs}    1
        # The Vault held the read-only key: starting a run is refused.
        Run Keyword And Expect Error    *HTTP 403*Processes.trigger_processes*
        ...    Trigger Process Run    Invoice Processing
    FINALLY
        Remove Environment Variable    RPA_SECRET_FILE
        Remove File    ${vault}
        Connect To Control Room
    END

Connect To The Legacy API
    [Documentation]    api=legacy speaks /process-v1 and returns the same shapes.
    Connect To Control Room    api=legacy
    ${run}    Trigger Process Run    Invoice Processing    ${{ {"invoice": "INV-L1"} }}
    ${run}    Wait For Process Run    ${run}    &{FAST}
    Should Be Equal    ${run}[state]    completed
    Should Be Equal    ${run}[legacy][state]    COMPL
    [Teardown]    Connect To Control Room

A Key Without Trigger Permission Gets A 403 Naming It
    [Documentation]    The read-only key reads runs but cannot trigger: the message names trigger_processes.
    VAR    ${key: Secret}    %{CONTROLROOM_READONLY_API_KEY}
    Connect To Control Room    api_key=${key}
    ${runs}    List Process Runs    limit=2
    Length Should Be    ${runs}    2
    VAR    ${expected}    Control Room POST /workspaces/*/process-runs: HTTP 403:
    ...    *lacks the permission 'Processes.trigger_processes'*
    ...    The API key probably lacks the 'Processes.trigger_processes' permission*
    Run Keyword And Expect Error    ${expected}    Trigger Process Run    Invoice Processing
    Run Keyword And Expect Error    *HTTP 403*Processes.trigger_processes*    Stop Process Run    ${runs}[0]
    Run Keyword And Expect Error    *HTTP 403*Processes.write_work_items*    Retry Work Items    some-item
    [Teardown]    Connect To Control Room

A Wrong Key Or A Key Of Another Workspace Is Refused
    [Documentation]    401 for an unknown key; 403 saying the key belongs to another workspace.
    VAR    ${wrong: Secret}    %{CONTROLROOM_READONLY_API_KEY}-but-mistyped
    Connect To Control Room    api_key=${wrong}
    Run Keyword And Expect Error    *HTTP 401: [[]unauthorized] Invalid API key*Check the API key*    List Processes
    VAR    ${other: Secret}    %{CONTROLROOM_OTHER_WORKSPACE_API_KEY}
    Connect To Control Room    api_key=${other}
    Run Keyword And Expect Error    *HTTP 403*belongs to another workspace*    List Processes
    [Teardown]    Connect To Control Room

Unknown Process Names Say Which Exist
    [Documentation]    A process name that does not exist lists the known ones.
    Run Keyword And Expect Error    *No process named 'Payroll'*Known processes: Customer Onboarding*
    ...    Get Process Id By Name    Payroll
