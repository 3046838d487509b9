*** Settings ***
Documentation       Webhooks: register (the secret comes back as a Secret), list, verify a real delivery's
...                 Robaws-Signature, reject a tampered or stale one, and delete.

Library             Collections
Library             SandboxLibrary
Library             RobawsSandboxHelper.py
Library             Connectors.Robaws
Resource            robaws_sandbox.resource

Suite Setup         Start Sandbox And Connect To Robaws
Suite Teardown      Stop Sandbox
Test Setup          Reset Sandbox

Test Tags           robaws    webhooks


*** Test Cases ***
Register Receive Verify And Delete A Webhook
    [Documentation]    A delivery from the sandbox verifies with the registered secret.
    ${url}    Start Webhook Receiver
    ${hook}    Register Robaws Webhook    ${url}    client.created, client.updated
    Should Be True    isinstance($hook["secret"], robot.api.types.Secret)
    Only Webhook Should Be    ${hook}[id]
    Create Robaws Client    name=Webhook Test BV
    ${delivery}    Wait For Webhook Delivery
    Delivery Should Verify As Client Created    ${hook}[secret]    ${delivery}    Webhook Test BV
    Tampered Or Stale Deliveries Are Rejected    ${hook}[secret]    ${delivery}
    Delete Robaws Webhook    ${hook}[id]
    No Webhook Should Be Registered
    [Teardown]    Stop Webhook Receiver

Unknown Event Is A Validation Error
    [Documentation]    The vendor's field errors are part of the one-line message.
    Run Keyword And Expect Error    *HTTP 400*events: Unknown event(s): client.exploded*
    ...    Register Robaws Webhook    http://127.0.0.1:9/hook    client.exploded


*** Keywords ***
Only Webhook Should Be
    [Documentation]    Exactly one webhook endpoint is registered, with this id (and no secret shown).
    [Arguments]    ${id}
    ${hooks}    List Robaws Webhooks
    Length Should Be    ${hooks}    1
    Should Be Equal    ${hooks}[0][id]    ${id}
    Dictionary Should Not Contain Key    ${hooks}[0]    secret

No Webhook Should Be Registered
    [Documentation]    List Robaws Webhooks returns an empty list.
    ${hooks}    List Robaws Webhooks
    Should Be Empty    ${hooks}

Delivery Should Verify As Client Created
    [Documentation]    The signature verifies and the event is the creation of the named client.
    [Arguments]    ${secret}    ${delivery}    ${name}
    ${event}    Verify Robaws Webhook Signature    ${delivery}[body]    ${delivery}[signature]    ${secret}
    Should Be Equal    ${event}[event]    client.created
    Should Be Equal    ${event}[data][name]    ${name}

Tampered Or Stale Deliveries Are Rejected
    [Documentation]    A changed body, a missing header and a too old signature each fail with one line.
    [Arguments]    ${secret}    ${delivery}
    Run Keyword And Expect Error    *The webhook signature does not match the body.*
    ...    Verify Robaws Webhook Signature    ${delivery}[body] ${SPACE}    ${delivery}[signature]    ${secret}
    Run Keyword And Expect Error    *The signature header lacks the t or v1 part.*
    ...    Verify Robaws Webhook Signature    ${delivery}[body]    v0=abc    ${secret}
    Sleep    1.1s
    Run Keyword And Expect Error    *beyond the 1 s tolerance*
    ...    Verify Robaws Webhook Signature    ${delivery}[body]    ${delivery}[signature]    ${secret}
    ...    tolerance=${1}
