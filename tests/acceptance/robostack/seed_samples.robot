*** Settings ***
Documentation       Every request body sample of Robostack's REST API page, sent through the keywords
...                 to the sandbox. The ``fieldName`` samples use the demo resource ``samples``, whose
...                 records have the field values "Matching Field Value", "Field Value", "" and
...                 "Another Field Value".

Library             Collections
Library             Connectors.Robostack
Library             SandboxLibrary

Suite Setup         Start Robostack Sandbox
Suite Teardown      Stop Sandbox
Test Setup          Reset Sandbox
Test Tags           robostack    seed


*** Test Cases ***
Find Sample: Match Exact Id
    [Documentation]    POST {"selection": {"id": 1}} returns the one record with that id.
    ${body}    Evaluate    {"selection": {"id": 1}}
    ${records}    Find Robostack Records    orders    ${body}[selection]
    Length Should Be    ${records}    1
    Should Be Equal As Integers    ${records}[0][id]    1

Find Sample: Status Pending And Quantity 10000
    [Documentation]    Every field of the selection must match exactly (AND).
    ${body}    Evaluate    {"selection": {"status": "pending", "quantity": 10000}}
    ${records}    Find Robostack Records    orders    ${body}[selection]
    Length Should Be    ${records}    2
    FOR    ${record}    IN    @{records}
        Should Be Equal    ${record}[status]    pending
        Should Be Equal As Integers    ${record}[quantity]    10000
    END

Create Sample: Insert One Record
    [Documentation]    PUT one object creates one record, which gets an id.
    ${body}    Evaluate    {"fieldName": "Field Value"}
    ${created}    Create Robostack Record    samples    ${body}
    Should Be Equal    ${created}[fieldName]    Field Value
    Dictionary Should Contain Key    ${created}    id
    ${found}    Find Robostack Records    samples    id=${created}[id]
    Length Should Be    ${found}    1

Create Sample: Insert Multiple Records
    [Documentation]    PUT a list of objects creates one record for each.
    ${body}    Evaluate    [{"fieldName": "Field Value 1"}, {"fieldName": "Field Value 2"}]
    ${created}    Create Robostack Records    samples    ${body}
    Length Should Be    ${created}    2
    Should Be Equal    ${created}[0][fieldName]    Field Value 1
    Should Be Equal    ${created}[1][fieldName]    Field Value 2
    Should Not Be Equal    ${created}[0][id]    ${created}[1][id]

Update Sample: Update Single Record
    [Documentation]    PATCH {"selection": {...}, "updation": {...}} sets the new value on the matches.
    VAR    ${sample}
    ...    {"selection": {"fieldName": "Matching Field Value"},
    ...    "updation": {"fieldName": "New Field Value"}}
    ...    separator=${SPACE}
    ${body}    Evaluate    json.loads($sample)    modules=json
    ${summary}    Update Robostack Records    samples    ${body}[selection]    ${body}[updation]
    Should Be Equal As Integers    ${summary}[matched]    1
    ${count}    Count Robostack Records    samples    fieldName=New Field Value
    Should Be Equal As Integers    ${count}    1

Update Sample: Update Multiple Records
    [Documentation]    Lists of selections and updations are paired by position.
    VAR    ${sample}
    ...    {"selection": [{"fieldName": "Matching Field Value"}, {"fieldName": ""}],
    ...    "updation": [{"fieldName": "New Field Value"}, {"fieldName": "Unknown Field Value"}]}
    ...    separator=${SPACE}
    ${body}    Evaluate    json.loads($sample)    modules=json
    ${summary}    Update Robostack Records    samples    ${body}[selection]    ${body}[updation]
    Should Be Equal As Integers    ${summary}[matched]    2
    ${count}    Count Robostack Records    samples    fieldName=New Field Value
    Should Be Equal As Integers    ${count}    1
    ${count}    Count Robostack Records    samples    fieldName=Unknown Field Value
    Should Be Equal As Integers    ${count}    1
    ${count}    Count Robostack Records    samples    fieldName=${EMPTY}
    Should Be Equal As Integers    ${count}    0

Delete Sample: Delete Single Record
    [Documentation]    DELETE {"selection": {...}} removes the matching records.
    ${body}    Evaluate    {"selection": {"fieldName": "Field Value"}}
    ${summary}    Delete Robostack Records    samples    ${body}[selection]
    Should Be Equal As Integers    ${summary}[deleted]    1
    ${count}    Count Robostack Records    samples    fieldName=Field Value
    Should Be Equal As Integers    ${count}    0

Delete Sample: Delete Multiple Records
    [Documentation]    DELETE with a list of selections removes the records matching any of them.
    ${body}    Evaluate    {"selection": [{"fieldName": ""}, {"fieldName": "Unknown Field Value"}]}
    ${summary}    Delete Robostack Records    samples    ${body}[selection]
    Should Be Equal As Integers    ${summary}[deleted]    1
    ${count}    Count Robostack Records    samples
    Should Be Equal As Integers    ${count}    3


*** Keywords ***
Start Robostack Sandbox
    [Documentation]    One sandbox for the suite; the connection comes from its ROBOSTACK_* variables.
    Start Sandbox
    Connect To Robostack
