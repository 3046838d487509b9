*** Settings ***
Documentation       Logging in to Cobot with 'connectors login cobot' (authorization code + PKCE, the sandbox
...                 consents automatically), then connecting with the stored token and verifying the
...                 OpenID Connect identity; forged id tokens are refused with a clear line.

Library             OperatingSystem
Library             Process
Library             SandboxLibrary
Library             Connectors.Cobot

Suite Setup         Start Sandbox
Suite Teardown      Stop Sandbox
Test Setup          Reset Sandbox

Test Tags           cobot    openid


*** Variables ***
${TOKENS}       ${OUTPUT DIR}${/}cobot-acceptance-tokens.json
# {"alg": "none"} . {"sub": "admin", "aud": "cobot-demo-client"} . (no signature)
${UNSIGNED}     eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiIsImF1ZCI6ImNvYm90LWRlbW8tY2xpZW50In0.


*** Test Cases ***
Log In And Verify The Identity
    [Documentation]    The stored id token verifies against discovery and JWKS; its subject is the user.
    Log In To Cobot
    Connect To Cobot    client_id=%{COBOT_CLIENT_ID}    token_store=${TOKENS}
    ${claims}    Get Cobot Identity
    Should Be Equal    ${claims}[email]    alice.admin@example.com
    Should Be Equal    ${claims}[aud]    %{COBOT_CLIENT_ID}
    ${user}    Get Cobot User
    Should Be Equal    ${claims}[sub]    ${user}[id]

A Space Login Adds The Membership To The Identity
    [Documentation]    A space's provider adds name and phone; Cobot's own provider refuses its token.
    Log In To Cobot    --space    %{COBOT_SPACE}
    Connect To Cobot    client_id=%{COBOT_CLIENT_ID}    token_store=${TOKENS}
    ${claims}    Get Cobot Identity    space=%{COBOT_SPACE}
    Should Be Equal    ${claims}[name]    Alice Admin
    Should Start With    ${claims}[phone_number]    +32
    Run Keyword And Expect Error    *The id token was issued by*
    ...    Get Cobot Identity

An Unsigned Id Token Is Refused
    [Documentation]    alg: none is never accepted.
    Set Environment Variable    FORGED_ID_TOKEN    ${UNSIGNED}
    VAR    ${forged: Secret}    %{FORGED_ID_TOKEN}
    Run Keyword And Expect Error    *unsigned (alg: none) and was rejected*
    ...    Get Cobot Identity    id_token=${forged}    client_id=%{COBOT_CLIENT_ID}
    [Teardown]    Remove Environment Variable    FORGED_ID_TOKEN

An Access Token Carries No Identity
    [Documentation]    Without a login there is no id token: the error says how to get one.
    VAR    ${token: Secret}    %{COBOT_ACCESS_TOKEN}
    Connect To Cobot    access_token=${token}
    Run Keyword And Expect Error    *carries no id token*connectors login cobot --scope openid*
    ...    Get Cobot Identity


*** Keywords ***
Log In To Cobot
    [Documentation]    The login command a person runs, with the authorize URL followed over HTTP.
    [Arguments]    @{options}
    Remove File    ${TOKENS}
    ${result}    Run Process    ${{sys.executable}}    -m    Connectors    login    cobot
    ...    --fetch-authorize-url    --token-store    ${TOKENS}    --timeout    30    @{options}
    ...    timeout=60s
    Should Be Equal As Integers    ${result.rc}    0    ${result.stderr}
    Should Contain    ${result.stdout}    Identity verified (OpenID Connect)
