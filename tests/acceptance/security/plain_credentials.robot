*** Settings ***
Documentation       Credentials given as plain strings - what most robots write - never reach the outputs.
...                 Every vendor is connected with ``\%{…}`` environment variables, plain ``\${variables}``,
...                 by name and by position, through a library imported at run time, and connects fail on
...                 purpose (another argument of the wrong type, a misspelled argument name, a wrong password).
...                 The acceptance runner logs at TRACE and then searches output.xml, log.html, the console
...                 and the sandbox log for every value the sandbox accepts, these included.

Library             Collections
Library             Connectors.Cobot
Library             Connectors.ControlRoom
Library             Connectors.Robaws
Library             Connectors.Robostack
Library             PlainCredentials.py
Library             SandboxLibrary

Suite Setup         Start Sandbox With Plain Credentials
Suite Teardown      Stop Sandbox
Test Setup          Reset Sandbox

Test Tags           security


*** Test Cases ***
Robaws With Environment Variables By Name
    [Documentation]    ``password=\%{ROBAWS_PASSWORD}``: plain text, masked everywhere.
    Connect To Robaws    username=%{ROBAWS_USERNAME}    password=%{ROBAWS_PASSWORD}
    ${clients}    List Robaws Clients    limit=1
    Length Should Be    ${clients}    1

Robaws With Plain Variables By Position
    [Documentation]    Plain ``\${variables}`` passed by position (url, username, password).
    Connect To Robaws    %{ROBAWS_URL}    ${ROBAWS_USERNAME}    ${ROBAWS_PASSWORD}
    ${clients}    List Robaws Clients    limit=1
    Length Should Be    ${clients}    1

Robaws Connects That Fail On Purpose
    [Documentation]    A wrong type in another argument, a misspelled name and a wrong password: each fails
    ...    with one line that does not contain the password.
    Run Keyword And Expect Error    *burst*many*
    ...    Connect To Robaws    username=%{ROBAWS_USERNAME}    password=%{ROBAWS_PASSWORD}    burst=many
    Run Keyword And Expect Error    *has no argument 'pasword'*its value is not shown*
    ...    Connect To Robaws    pasword=%{ROBAWS_PASSWORD}    username=%{ROBAWS_USERNAME}
    Connect To Robaws    username=%{ROBAWS_USERNAME}    password=%{COBOT_ACCESS_TOKEN}
    Run Keyword And Expect Error    *HTTP 401*    List Robaws Clients    limit=1
    Run Keyword And Expect Error    *burst*many*
    ...    Connect To Robaws    %{ROBAWS_URL}    ${ROBAWS_USERNAME}    ${ROBAWS_PASSWORD}    burst=many
    [Teardown]    Connect To Robaws

Robaws Library Imported With Plain Credentials
    [Documentation]    Library import arguments, here at run time with an alias.
    Import Library    Connectors.Robaws    url=%{ROBAWS_URL}    username=%{ROBAWS_USERNAME}
    ...    password=%{ROBAWS_PASSWORD}    AS    PlainRobaws
    ${clients}    PlainRobaws.List Robaws Clients    limit=1
    Length Should Be    ${clients}    1
    Run Keyword And Expect Error    *unexpected named argument 'pasword'*
    ...    Import Library    Connectors.Robaws    url=%{ROBAWS_URL}    username=%{ROBAWS_USERNAME}
    ...    pasword=%{ROBAWS_PASSWORD}    AS    MisspelledRobaws

Robaws Webhook Secret As Plain Text
    [Documentation]    ``secret`` is a credential too: a failed verification does not show it.
    Run Keyword And Expect Error    *signature*
    ...    Connectors.Robaws.Verify Robaws Webhook Signature    {}    t=1,v1=00    %{ROBAWS_CLIENT_SECRET}
    Run Keyword And Expect Error    *tolerance*    Connectors.Robaws.Verify Robaws Webhook Signature
    ...    {}    t=1,v1=00    secret=%{ROBAWS_CLIENT_SECRET}    tolerance=soon
    Run Keyword And Expect Error    *signature*    Connectors.Robaws.Verify Robaws Webhook Signature
    ...    {}    t=1,v1=00    secrte=%{ROBAWS_CLIENT_SECRET}

Cobot With Plain Access Tokens
    [Documentation]    ``access_token=\%{COBOT_ACCESS_TOKEN}`` by name, a ``\${variable}`` by position, a wrong token.
    Connect To Cobot    access_token=%{COBOT_ACCESS_TOKEN}
    ${user}    Get Cobot User
    Should Not Be Empty    ${user}[email]
    Connect To Cobot    %{COBOT_URL}    ${COBOT_ACCESS_TOKEN}
    ${user}    Get Cobot User
    Should Not Be Empty    ${user}[email]
    Run Keyword And Expect Error    *timeout*
    ...    Connect To Cobot    access_token=%{COBOT_ACCESS_TOKEN}    timeout=${{ [1] }}
    Connect To Cobot    access_token=%{ROBOSTACK_API_SECRET}
    Run Keyword And Expect Error    *HTTP 401*    Get Cobot User
    [Teardown]    Connect To Cobot

Cobot Id Token As Plain Text
    [Documentation]    An id token is typed ``Secret``: as plain text it is kept out of the log too.
    Connect To Cobot    client_id=%{COBOT_CLIENT_ID}    access_token=%{COBOT_ACCESS_TOKEN}
    Run Keyword And Expect Error    *    Get Cobot Identity    %{COBOT_MEMBER_ACCESS_TOKEN}
    Run Keyword And Expect Error    *    Get Cobot Identity    id_token=${COBOT_ACCESS_TOKEN}
    [Teardown]    Connect To Cobot

Robostack With Plain Keys By Name And By Position
    [Documentation]    ``api_key=\%{…}`` / ``api_secret=\%{…}`` by name, plain ``\${variables}`` by position.
    Connect To Robostack    app_uuid=%{ROBOSTACK_APP_UUID}    api_key=%{ROBOSTACK_API_KEY}
    ...    api_secret=%{ROBOSTACK_API_SECRET}
    ${count}    Count Robostack Records    orders
    Should Be True    ${count} > 0
    Connect To Robostack    %{ROBOSTACK_APP_UUID}    ${ROBOSTACK_API_KEY}    ${ROBOSTACK_API_SECRET}
    ${count}    Count Robostack Records    orders
    Should Be True    ${count} > 0

Robostack Connects That Fail On Purpose
    [Documentation]    A list where a number belongs, a misspelled name, and a secret of another token.
    Run Keyword And Expect Error    *chunk_size*
    ...    Connect To Robostack    %{ROBOSTACK_APP_UUID}    %{ROBOSTACK_API_KEY}    %{ROBOSTACK_API_SECRET}
    ...    chunk_size=${{ [1] }}
    Run Keyword And Expect Error    *has no argument 'api_secrt'*
    ...    Connect To Robostack    api_secrt=%{ROBOSTACK_API_SECRET}    api_key=%{ROBOSTACK_API_KEY}
    Connect To Robostack    api_key=%{ROBOSTACK_API_KEY}    api_secret=%{ROBOSTACK_UNGRANTED_API_SECRET}
    Run Keyword And Expect Error    *HTTP 401*    Count Robostack Records    orders
    [Teardown]    Connect To Robostack

Control Room With A Plain API Key
    [Documentation]    ``api_key=\%{CONTROLROOM_API_KEY}`` by name and by position; a webhook secret and a
    ...    callback secret as plain text.
    Connect To Control Room    workspace_id=%{CONTROLROOM_WORKSPACE_ID}    api_key=%{CONTROLROOM_API_KEY}
    ${processes}    List Processes
    Should Not Be Empty    ${processes}
    Connect To Control Room    %{CONTROLROOM_WORKSPACE_ID}    ${CONTROLROOM_API_KEY}
    ${processes}    List Processes
    Should Not Be Empty    ${processes}
    Run Keyword And Expect Error    *signature*
    ...    Verify Control Room Webhook Signature    {}    00    %{CONTROLROOM_WEBHOOK_SECRET}
    Run Keyword And Expect Error    *No process named*    Trigger Process Run    No Such Process
    ...    callback_url=https://example.com/done    callback_secret=%{CONTROLROOM_WEBHOOK_SECRET}

Control Room Connects That Fail On Purpose
    [Documentation]    A wrong type in another argument, a misspelled name and a key of another workspace.
    Run Keyword And Expect Error    *burst*
    ...    Connect To Control Room    %{CONTROLROOM_WORKSPACE_ID}    %{CONTROLROOM_API_KEY}    burst=many
    Run Keyword And Expect Error    *has no argument 'api_kye'*
    ...    Connect To Control Room    api_kye=%{CONTROLROOM_API_KEY}
    Connect To Control Room    api_key=%{CONTROLROOM_OTHER_WORKSPACE_API_KEY}
    Run Keyword And Expect Error    *HTTP 40*    List Processes
    [Teardown]    Connect To Control Room


*** Keywords ***
Start Sandbox With Plain Credentials
    [Documentation]    The sandbox, plain ``\${variables}`` holding its credentials (set without logging
    ...    them), and a check that the leak search looks for every value used here.
    Start Sandbox
    Set Plain Credential Variables    ROBAWS_USERNAME    ROBAWS_PASSWORD    COBOT_ACCESS_TOKEN
    ...    ROBOSTACK_API_KEY    ROBOSTACK_API_SECRET    CONTROLROOM_API_KEY
    Credentials Should Be Searched For Leaks    ROBAWS_PASSWORD    ROBAWS_CLIENT_SECRET    COBOT_ACCESS_TOKEN
    ...    COBOT_MEMBER_ACCESS_TOKEN    ROBOSTACK_API_KEY    ROBOSTACK_API_SECRET    ROBOSTACK_UNGRANTED_API_SECRET
    ...    CONTROLROOM_API_KEY    CONTROLROOM_OTHER_WORKSPACE_API_KEY    CONTROLROOM_WEBHOOK_SECRET
