*** Settings ***
Documentation       The rest of the current API from a robot: run outputs, step run details, fixing failed work
...                 (payload, mark done, delete), starting with waiting inputs, deleting runs, process
...                 webhooks, assets and workers.

Library             Collections
Library             Connectors.ControlRoom
Resource            controlroom.resource

Suite Setup         Start Control Room Sandbox
Suite Teardown      Stop Control Room Sandbox
Test Setup          Reset Sandbox

Test Tags           controlroom    workspace


*** Test Cases ***
Read Outputs, Console Messages And Events Of A Run
    [Documentation]    The last step's output work items, and what each step run printed and went through.
    ${run}    Trigger Process Run    Invoice Processing
    ...    ${{ {"sandbox": {"outputs": [{"booked": "INV-5"}]}} }}
    Wait For Process Run    ${run}    &{FAST}
    ${outputs}    Get Process Run Outputs    ${run}
    Should Be Equal    ${outputs}[0][payload]    ${{ {"booked": "INV-5"} }}
    ${steps}    List Step Runs    ${run}
    Step Run Should Show What Happened    ${steps}[0]

Fix Failed Work: Payload, Retry, Mark Done, Delete
    [Documentation]    Three failed items: one fixed and retried, one marked done, one deleted.
    ${payloads}    Evaluate    [{"sandbox": {"outcome": "unresolved"}, "n": n} for n in range(3)]
    ${runs}    Trigger Process Runs    Customer Onboarding    ${payloads}
    Wait For Process Runs    ${runs}    fail_on_unresolved=${False}    &{FAST}
    ${failed}    List Work Items    Customer Onboarding    state=failed
    Update Work Item Payload    ${failed}[0]    ${{ {"n": 0, "fixed": True} }}
    Retry Work Items    ${failed}[0]
    Mark Work Items Done    ${failed}[1]
    Delete Work Items    ${failed}[2]
    No Failed Work Items Should Be Left    ${runs}

Start A Run With The Waiting Inputs, Then Delete It
    [Documentation]    Items created first wait in the input queue; with none waiting no run starts.
    Create Work Item    Invoice Processing    ${{ {"invoice": "INV-20"} }}
    Create Work Item    Invoice Processing    ${{ {"invoice": "INV-21"} }}
    ${run}    Trigger Process Run With Inputs    Invoice Processing
    ${nothing}    Trigger Process Run With Inputs    Invoice Processing
    Should Be Equal    ${nothing}    ${None}
    ${run}    Wait For Process Run    ${run}    &{FAST}
    ${items}    List Work Items    run_id=${run}
    Length Should Be    ${items}    2
    Delete Run And Check It Is Gone    ${run}

Manage A Process Webhook
    [Documentation]    The secret of a new webhook is a Secret; listing shows no secrets.
    ${hook}    Create Control Room Webhook    Invoice Processing    http://127.0.0.1:9/hooks
    ...    events=${{ ["process_run.unresolved"] }}
    Should Be Equal    ${{ type($hook["secret"]).__name__ }}    Secret
    ${hooks}    List Control Room Webhooks
    Should Be Equal    ${hooks}[0][enabled_events]    ${{ ["process_run.unresolved"] }}
    Dictionary Should Not Contain Key    ${hooks}[0]    secret
    Delete Control Room Webhook    ${hook}
    ${hooks}    List Control Room Webhooks
    Should Be Empty    ${hooks}

Read One Webhook With Its Secret
    [Documentation]    Reading one webhook by id gives its signing secret, as a Secret.
    ${hook}    Create Control Room Webhook    Invoice Processing    http://127.0.0.1:9/hooks
    ${again}    Get Control Room Webhook    ${hook}[id]
    Should Be Equal    ${{ type($again["secret"]).__name__ }}    Secret
    Should Be Equal    ${again}[secret].value    ${hook}[secret].value
    Should Be Equal    ${again}[endpoint]    http://127.0.0.1:9/hooks

Read The Workspace Of The Key
    [Documentation]    The workspace the connection's key belongs to, with its organization.
    ${workspace}    Get Control Room Workspace
    Should Be Equal    ${workspace}[id]    %{CONTROLROOM_WORKSPACE_ID}
    Should Not Be Empty    ${workspace}[organization][name]

Keep Settings In An Asset
    [Documentation]    JSON in, JSON out; text stays text; a missing asset says so.
    Set Control Room Asset    invoice-settings    ${{ {"currency": "EUR"} }}
    ${settings}    Get Control Room Asset    invoice-settings
    Should Be Equal    ${settings}[currency]    EUR
    Set Control Room Asset    greeting    Hello
    ${text}    Get Control Room Asset    greeting
    Should Be Equal    ${text}    Hello
    ${assets}    List Control Room Assets
    Should Be Equal    ${{ sorted(a["name"] for a in $assets) }}    ${{ ["greeting", "invoice-settings"] }}
    Delete Control Room Asset    greeting
    Run Keyword And Expect Error    *HTTP 404*Asset name:greeting not found*    Get Control Room Asset    greeting

List The Workers
    [Documentation]    The sandbox's two demo workers.
    ${workers}    List Workers
    Should Be Equal    ${{ sorted(w["name"] for w in $workers) }}    ${{ ["Demo worker 1", "Demo worker 2"] }}


*** Keywords ***
Step Run Should Show What Happened
    [Documentation]    A completed step run with console output and events ending in its completion.
    [Arguments]    ${step_run}
    ${step}    Get Step Run    ${step_run}
    Should Be Equal    ${step}[state]    completed
    ${lines}    List Step Run Console Messages    ${step_run}
    Should Start With    ${lines}[0][message]    Robot started
    ${events}    List Step Run Events    ${step_run}
    Should Be Equal    ${events}[-1][event_type]    step_run_completed

No Failed Work Items Should Be Left
    [Documentation]    No failed items remain and every run completes.
    [Arguments]    ${runs}
    ${left}    List Work Items    Customer Onboarding    state=failed
    Should Be Empty    ${left}
    ${finished}    Wait For Process Runs    ${runs}    &{FAST}
    Should Be Equal    ${{ {r["state"] for r in $finished} }}    ${{ {"completed"} }}

Delete Run And Check It Is Gone
    [Documentation]    Delete a finished run; reading it afterwards is a 404.
    [Arguments]    ${run}
    ${deleted}    Delete Process Run    ${run}
    Should Be True    ${deleted}[deleted]
    Run Keyword And Expect Error    *HTTP 404*not found*    Get Process Run    ${run}
