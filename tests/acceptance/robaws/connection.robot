*** Settings ***
Documentation       Connecting to Robaws: Basic credentials from variables, arguments and the Vault, OAuth with
...                 a token store and a refresh with rotation, modes and the rate-limit status, and the
...                 connection errors (wrong password, missing role permission, missing OAuth scope,
...                 replica-mode write), each one clear line.

Library             Collections
Library             OperatingSystem
Library             SandboxLibrary
Library             RobawsSandboxHelper.py
Library             Connectors.Robaws
Library             Connectors.Robaws    AS    FreshRobaws

Suite Setup         Start Sandbox With One Default Library
Suite Teardown      Stop Sandbox
Test Setup          Reset Sandbox

Test Tags           robaws    connection


*** Variables ***
${TOKENS}       ${OUTPUT DIR}${/}robaws-acceptance-tokens.json


*** Test Cases ***
First Keyword Connects From The Environment
    [Documentation]    No Connect To Robaws: the ROBAWS_* variables of the sandbox are used.
    ...    (A second instance of the library, as the first may be connected by an earlier suite.)
    ${clients}    FreshRobaws.List Robaws Resources    clients    limit=2
    Length Should Be    ${clients}    2

Connect With Username And Secret Password
    [Documentation]    Arguments win over variables; the password is a Secret and never logged.
    VAR    ${password: Secret}    %{ROBAWS_PASSWORD}
    Connect To Robaws    %{ROBAWS_URL}    username=%{ROBAWS_USERNAME}    password=${password}
    ...    rate_limit=10/s    burst=${5}    timeout=${30}
    ${status}    Get Robaws Rate Limit Status
    Should Be Equal    ${status}[rate]    10/s burst 5
    ${client}    Get Robaws Resource    clients    1001
    Should Be Equal As Integers    ${client}[id]    1001

Connect With A Vault Secret
    [Documentation]    vault_secret names a FileSecrets entry with username and password.
    VAR    ${vault}    ${OUTPUT DIR}${/}robaws-vault.json
    Write Robaws Vault File    ${vault}    robaws-test
    Set Environment Variable    RPA_SECRET_FILE    ${vault}
    TRY
        Connect To Robaws    vault_secret=robaws-test
        ${clients}    List Robaws Clients    limit=1
        Length Should Be    ${clients}    1
    FINALLY
        Remove Environment Variable    RPA_SECRET_FILE
        Remove File    ${vault}
    END

Replica Mode Reads And Refuses Writes With One Clear Line
    [Documentation]    Database-Mode: replica is read-only; the error says to switch to live mode.
    Connect To Robaws
    Use Robaws Replica Mode
    ${clients}    List Robaws Resources    clients    limit=3
    Length Should Be    ${clients}    3
    Run Keyword And Expect Error
    ...    Robaws POST /clients: HTTP 405: Replica mode is read-only*Use Robaws Live Mode*
    ...    Create Robaws Client    name=Written In Replica
    Rate Limit Status Should Show Mode    replica
    Use Robaws Live Mode
    ${created}    Create Robaws Client    name=Written In Live
    Should Be Equal    ${created}[name]    Written In Live

Rate Limit Status Reports The Server Headers
    [Documentation]    The vendor default (15/s burst 20) and the daily quota headers Robaws sent.
    Connect To Robaws
    Get Robaws Resource    clients    1001
    ${status}    Get Robaws Rate Limit Status
    Should Be Equal    ${status}[rate]    15/s burst 20
    Should Be Equal As Integers    ${status}[daily_limit]    10000
    Should Be True    ${status}[daily_remaining][live] < 10000
    Should Be True    ${status}[requests] >= 1

Daily Quota Used Up Fails Fast With The Reset Time
    [Documentation]    Once Robaws reports 0 requests left for the day, calls fail at once, naming the mode.
    ${sandbox}    Get Sandbox Url
    Connect To Robaws
    Set Robaws Sandbox Daily Quota    ${sandbox}    2    mode=live
    TRY
        Get Robaws Resource    clients    1001
        Get Robaws Resource    clients    1001
        Run Keyword And Expect Error    *daily request quota (live mode) is used up; it resets in*
        ...    Get Robaws Resource    clients    1001
    FINALLY
        Set Robaws Sandbox Daily Quota    ${sandbox}    10000
    END

Wrong Password Fails With One Clear Line
    [Documentation]    HTTP 401 names the cause and the variables to check.
    Set Environment Variable    ROBAWS_TEST_WRONG_PASSWORD    not-the-password
    VAR    ${wrong: Secret}    %{ROBAWS_TEST_WRONG_PASSWORD}
    Connect To Robaws    username=%{ROBAWS_USERNAME}    password=${wrong}
    Run Keyword And Expect Error
    ...    Robaws GET /clients/1001: HTTP 401: Invalid username or password*Check ROBAWS_USERNAME and ROBAWS_PASSWORD*
    ...    Get Robaws Resource    clients    1001
    [Teardown]    Remove Environment Variable    ROBAWS_TEST_WRONG_PASSWORD

Role Without The Module Fails With One Clear Line
    [Documentation]    The limited API user may read clients only; other modules and webhooks answer 403.
    VAR    ${password: Secret}    %{ROBAWS_LIMITED_PASSWORD}
    Connect To Robaws    username=%{ROBAWS_LIMITED_USERNAME}    password=${password}
    ${clients}    List Robaws Resources    clients    limit=1
    Length Should Be    ${clients}    1
    Run Keyword And Expect Error
    ...    Robaws GET /purchase-invoices: HTTP 403: Your role has no access to purchase-invoices*role*
    ...    List Robaws Resources    purchase-invoices
    Run Keyword And Expect Error
    ...    Robaws POST /webhook-endpoints: HTTP 403: Only admin users may manage webhook endpoints*
    ...    Register Robaws Webhook    http://127.0.0.1:9/hook    client.created

OAuth Token Refreshes Once With Rotation
    [Documentation]    The sandbox expires every access token; the next call gets a 401, refreshes once
    ...    (a new access token AND a new refresh token in the store) and later calls reuse it.
    Connect With OAuth    scope=${EMPTY}
    ${before}    Get Stored Token Fingerprint    ${TOKENS}
    List Robaws Resources    articles    limit=1
    Stored Token Should Be    ${before}
    Expire Tokens And List Clients
    ${after}    Get Stored Token Fingerprint    ${TOKENS}
    Should Not Be Equal    ${before}    ${after}    msg=The token was not refreshed.
    List Robaws Resources    clients    limit=1
    Stored Token Should Be    ${after}
    [Teardown]    Remove File    ${TOKENS}

OAuth Token Without The Scope Fails With One Clear Line
    [Documentation]    A token authorized for clients only: other modules answer 403 naming the scope.
    Connect With OAuth    scope=clients profile
    ${clients}    List Robaws Clients    limit=1
    Length Should Be    ${clients}    1
    Run Keyword And Expect Error
    ...    Robaws GET /articles: HTTP 403: The access token lacks the 'articles' scope*
    ...    List Robaws Resources    articles
    [Teardown]    Remove File    ${TOKENS}

OAuth Without A Stored Token Says How To Log In
    [Documentation]    An empty token store fails before any request, pointing at connectors login.
    Remove File    ${TOKENS}
    VAR    ${client_secret: Secret}    %{ROBAWS_CLIENT_SECRET}
    Connect To Robaws    client_id=%{ROBAWS_CLIENT_ID}    client_secret=${client_secret}    token_store=${TOKENS}
    Run Keyword And Expect Error    No OAuth2 token stored under 'robaws:%{ROBAWS_CLIENT_ID}'*connectors login*
    ...    Get Robaws Resource    clients    1001


*** Keywords ***
Start Sandbox With One Default Library
    [Documentation]    Unqualified keywords use the main library; FreshRobaws is only for the auto-connect test.
    Set Library Search Order    Connectors.Robaws
    Start Sandbox

Connect With OAuth
    [Documentation]    Log in (authorization code, auto-consent) and connect with the stored token.
    [Arguments]    ${scope}
    Remove File    ${TOKENS}
    Log In To Robaws Sandbox    ${TOKENS}    scope=${scope}
    VAR    ${client_secret: Secret}    %{ROBAWS_CLIENT_SECRET}
    Connect To Robaws    client_id=%{ROBAWS_CLIENT_ID}    client_secret=${client_secret}    token_store=${TOKENS}

Expire Tokens And List Clients
    [Documentation]    Every access token the sandbox issued expires; the next call must still succeed.
    ${sandbox}    Get Sandbox Url
    Expire Robaws Sandbox Tokens    ${sandbox}
    ${clients}    List Robaws Resources    clients    limit=1
    Length Should Be    ${clients}    1

Stored Token Should Be
    [Documentation]    Fails when the token store changed since ``expected`` was taken (a refresh happened).
    [Arguments]    ${expected}
    ${current}    Get Stored Token Fingerprint    ${TOKENS}
    Should Be Equal    ${expected}    ${current}    msg=The stored token changed.

Rate Limit Status Should Show Mode
    [Documentation]    The status names the mode and has a daily count for it.
    [Arguments]    ${mode}
    ${status}    Get Robaws Rate Limit Status
    Should Be Equal    ${status}[mode]    ${mode}
    Dictionary Should Contain Key    ${status}[daily_remaining]    ${mode}
