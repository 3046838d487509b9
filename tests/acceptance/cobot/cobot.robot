*** Settings ***
Documentation       Library Connectors.Cobot against the sandbox: connecting, spaces, memberships,
...                 invoices, bookings, resources, check-ins, time passes and webhooks, each refusal
...                 as one clear line. The sandbox and the client run 10x faster than Cobot's limits.

Library             Collections
Library             DateTime
Library             OperatingSystem
Library             SandboxLibrary
# API 1's answers, as api=1 keeps them (API 2: api2.robot).
Library             Connectors.Cobot    api=1
Library             Connectors.Cobot    api=1    AS    FreshCobot

Suite Setup         Start Fast Sandbox
Suite Teardown      Restore Sandbox
Test Setup          Reset Sandbox

Test Tags           cobot


*** Variables ***
${SCALE}    ${10}


*** Test Cases ***
First Keyword Connects From The Environment
    [Documentation]    No Connect To Cobot: the COBOT_* variables of the sandbox are used.
    ${user}    FreshCobot.Get Cobot User
    Should Be Equal    ${user}[email]    alice.admin@example.com

Spaces Come From Memberships And Admin Rights
    [Documentation]    The user's spaces: those it administers and those it is a member of.
    ${spaces}    List Cobot Spaces
    Length Should Be    ${spaces}    2
    Should Be Equal    ${spaces}[0][subdomain]    %{COBOT_SPACE}
    Should Be True    ${spaces}[0][admin]
    Should Not Be Equal    ${spaces}[0][membership_id]    ${None}

Memberships Of A Space
    [Documentation]    All memberships (admins only), one by id, and a limit.
    ${members}    List Cobot Memberships
    Length Should Be    ${members}    6
    ${member}    Get Cobot Membership    ${members}[2][id]
    Should Be Equal    ${member}[name]    Carla Jansen
    ${first}    List Cobot Memberships    space=harbour-hub    limit=${1}
    Length Should Be    ${first}    1

Invoices Of Last Month
    [Documentation]    The demo bills every membership on the first of the month.
    ${start}    ${end}    Last Month
    ${invoices}    List Cobot Invoices    start=${start}    end=${end}
    Length Should Be    ${invoices}    6
    FOR    ${invoice}    IN    @{invoices}
        Should Be Equal    ${invoice}[invoice_date]    ${start}
    END
    ${again}    List Cobot Invoices    ids=${invoices}[0][id],${invoices}[1][id]
    Length Should Be    ${again}    2

Booking Lifecycle
    [Documentation]    Create, update, list and delete a booking of a resource.
    ${resources}    List Cobot Resources
    VAR    ${room}    ${resources}[0][id]
    ${booking}    Create Cobot Booking    ${room}    2031-05-05T09:00:00Z    2031-05-05T10:00:00Z
    ...    title=Acceptance
    Should Be Equal    ${booking}[title]    Acceptance
    ${booking}    Update Cobot Booking    ${booking}[id]    end=2031-05-05T11:00:00Z    title=Longer
    Should Be Equal    ${booking}[to]    2031-05-05T11:00:00+00:00
    ${found}    List Cobot Bookings    2031-05-05    2031-05-05    resource_id=${room}
    Should Be Equal    ${found}[0][id]    ${booking}[id]
    Delete Cobot Booking    ${booking}[id]
    Run Keyword And Expect Error    *HTTP 404: Booking not found*
    ...    Update Cobot Booking    ${booking}[id]    title=Gone

Validation Errors Are Reported Field By Field
    [Documentation]    HTTP 422 names every field and its problem in one line.
    ${resources}    List Cobot Resources
    Run Keyword And Expect Error    *HTTP 422: from: can't be blank; to: can't be blank*
    ...    Create Cobot Booking    ${resources}[0][id]    ${EMPTY}    ${EMPTY}
    Run Keyword And Expect Error    *HTTP 422: event: is not included in the list; callback_url: is invalid*
    ...    Subscribe To Cobot Webhook    nonsense    not a url

Check Ins And Time Passes
    [Documentation]    Today's check-ins, one membership's history, the unused time passes.
    ${today}    List Cobot Check Ins
    Should Not Be Empty    ${today}
    ${start}    Subtract Time From Date    ${{datetime.date.today().isoformat()}}    9 days
    ...    result_format=%Y-%m-%d
    ${history}    List Cobot Check Ins    membership_id=${today}[0][membership_id]    start=${start}
    ...    end=${{datetime.date.today().isoformat()}}
    Should Be True    len($history) > 1
    ${passes}    List Cobot Time Passes
    Length Should Be    ${passes}    3

Webhook Subscriptions
    [Documentation]    Subscribe, a duplicate is refused (HTTP 409), list and delete.
    ${sub}    Subscribe To Cobot Webhook    created_invoice    https://robots.example.com/cobot
    Should Be True    ${sub}[active]
    Run Keyword And Expect Error    *HTTP 409*already exists*
    ...    Subscribe To Cobot Webhook    created_invoice    https://robots.example.com/cobot
    ${subs}    List Cobot Webhook Subscriptions
    Length Should Be    ${subs}    1
    Delete Cobot Webhook Subscription    ${sub}[id]
    ${subs}    List Cobot Webhook Subscriptions
    Should Be Empty    ${subs}

A Narrow Token Gets A Clear Refusal
    [Documentation]    A token without read_invoices gets HTTP 403 and the advice to log in with it.
    VAR    ${token: Secret}    %{COBOT_LIMITED_ACCESS_TOKEN}
    Connect To Cobot    access_token=${token}    rate_scale=${SCALE}
    Run Keyword And Expect Error    *HTTP 403*read_invoices*connectors login cobot --scope*
    ...    List Cobot Invoices    start=2020-01-01    end=2030-01-01
    [Teardown]    Connect As Admin

An Unknown Space Is Not Found
    [Documentation]    A missing space is HTTP 404; a malformed subdomain fails before any request.
    Run Keyword And Expect Error    *HTTP 404: Space not found*
    ...    List Cobot Resources    space=no-such-space
    Run Keyword And Expect Error    *'evil.example/x' is not a Cobot space subdomain*
    ...    List Cobot Resources    space=evil.example/x

Requests Are Paced Without 429
    [Documentation]    The memberships list (6/min, here 60/min) is paced: no 429, no retry.
    FOR    ${_}    IN RANGE    4
        List Cobot Memberships
    END
    ${status}    Get Cobot Rate Limit Status
    Should Be Equal As Integers    ${status}[retries]    0
    ${stats}    Get Sandbox Stats
    Should Be Equal As Integers    ${stats}[cobot][rate_limited]    0


*** Keywords ***
Start Fast Sandbox
    [Documentation]    The library is global: connect anew, or it would keep the previous suite's sandbox.
    Set Library Search Order    Connectors.Cobot
    Start Sandbox
    Scale Cobot Limits    ${SCALE}
    Set Environment Variable    COBOT_RATE_SCALE    ${SCALE}
    Connect As Admin

Connect As Admin
    [Documentation]    Connect with the demo admin token (a Secret from the environment).
    VAR    ${token: Secret}    %{COBOT_ACCESS_TOKEN}
    Connect To Cobot    access_token=${token}    rate_scale=${SCALE}

Restore Sandbox
    [Documentation]    Undo the suite's speed-up and stop the sandbox.
    Scale Cobot Limits    ${1}
    Remove Environment Variable    COBOT_RATE_SCALE
    Stop Sandbox

Scale Cobot Limits
    [Documentation]    Only Cobot's limits: Configure Sandbox would reset every vendor (and return their
    ...    credentials as its value, which the log would show).
    [Arguments]    ${scale}
    ${url}    Get Sandbox Url
    ${answer}    Evaluate    requests.post($url + "/_sandbox/cobot/limits", json={"scale": $scale}, timeout=10)
    Should Be Equal As Integers    ${answer.status_code}    200

Last Month
    [Documentation]    The first and the last day of the previous month, as ISO dates.
    ${first_of_this}    Evaluate    datetime.date.today().replace(day=1)
    ${last}    Evaluate    $first_of_this - datetime.timedelta(days=1)
    RETURN    ${last.replace(day=1).isoformat()}    ${last.isoformat()}
