*** Settings ***
Documentation       Every keyword of Connectors.Robostack against the sandbox.

Library             Collections
Library             OperatingSystem
Library             Connectors.Robostack    chunk_size=50
Library             SandboxLibrary

Suite Setup         Start Robostack Sandbox
Suite Teardown      Stop Sandbox
Test Setup          Reset Sandbox
Test Tags           robostack


*** Variables ***
${VAULT_FILE}       ${OUTPUT_DIR}${/}robostack-vault.json


*** Test Cases ***
Connect With Secret Arguments
    [Documentation]    Key and secret are Secret values, read from environment variables here.
    VAR    ${key: Secret}    %{ROBOSTACK_API_KEY}
    VAR    ${secret: Secret}    %{ROBOSTACK_API_SECRET}
    Connect To Robostack    %{ROBOSTACK_APP_UUID}    ${key}    ${secret}    url=%{ROBOSTACK_URL}
    ${count}    Count Robostack Records    orders
    Should Be Equal As Integers    ${count}    10

Connect With A Vault Secret
    [Documentation]    The Vault secret outranks the environment: it holds the token that is not
    ...    granted to the app, so a 403 proves it was used; the granted token then works.
    [Setup]    Write Vault File
    Set Environment Variable    RPA_SECRET_FILE    ${VAULT_FILE}
    Connect To Robostack    vault_secret=robostack_ungranted
    Run Keyword And Expect Error    *HTTP 403*    Find Robostack Records    orders
    Connect To Robostack    vault_secret=robostack_granted
    ${count}    Count Robostack Records    orders
    Should Be Equal As Integers    ${count}    10
    [Teardown]    Restore Default Connection

Find Records With A Dictionary, Named Arguments Or Nothing
    [Documentation]    A selection dictionary and named arguments combine; no selection returns all.
    VAR    &{selection}    status=pending
    ${by_dict}    Find Robostack Records    orders    ${selection}
    ${by_name}    Find Robostack Records    orders    status=pending
    Lists Should Be Equal    ${by_dict}    ${by_name}
    Length Should Be    ${by_dict}    5
    ${both}    Find Robostack Records    orders    ${selection}    supplier_id=${1001}
    Length Should Be    ${both}    3
    ${all}    Find Robostack Records    orders
    Length Should Be    ${all}    10

Get A Record By Id Or Fail Clearly
    [Documentation]    An id that does not exist fails with a message naming it.
    ${order}    Get Robostack Record    orders    2
    Should Be Equal    ${order}[order_number]    PO-2024-0002
    Run Keyword And Expect Error    *No record with id 4242 in resource 'orders'*
    ...    Get Robostack Record    orders    4242

Count Records
    [Documentation]    Counts with named arguments or a dictionary.
    ${pending}    Count Robostack Records    orders    status=pending
    Should Be Equal As Integers    ${pending}    5
    VAR    &{selection}    status=invoiced
    ${invoiced}    Count Robostack Records    orders    ${selection}
    Should Be Equal As Integers    ${invoiced}    3

Create One Record From Named Arguments
    [Documentation]    The created record comes back with its id, as stored.
    ${order}    Create Robostack Record    orders    order_number=PO-2024-0100    status=pending
    ...    quantity=${12}
    Should Be Equal As Integers    ${order}[quantity]    12
    ${again}    Get Robostack Record    orders    ${order}[id]
    Dictionaries Should Be Equal    ${order}    ${again}

Create Many Records In Chunks
    [Documentation]    120 records with chunk_size=50 (from the library import) take three requests.
    ${records}    Evaluate    [{"sku": f"BULK-{n:03d}", "on_order": n} for n in range(120)]
    ${before}    Get Sandbox Stats
    ${created}    Create Robostack Records    products    ${records}
    ${after}    Get Sandbox Stats
    Length Should Be    ${created}    120
    Should Be Equal As Integers    ${after}[robostack][requests]    ${{ $before["robostack"]["requests"] + 3 }}
    ${created}    Create Robostack Records    products    ${records}[:10]    chunk_size=3
    Length Should Be    ${created}    10
    ${count}    Count Robostack Records    products
    Should Be Equal As Integers    ${count}    136

Update Records With Named Arguments
    [Documentation]    Named arguments form the updation.
    VAR    &{selection}    order_number=PO-2024-0002
    ${summary}    Update Robostack Records    orders    ${selection}    status=invoiced
    ...    robaws_invoice_id=${777}
    Should Be Equal As Integers    ${summary}[matched]    1
    Should Be Equal As Integers    ${summary}[modified]    1
    ${order}    Get Robostack Record    orders    2
    Should Be Equal    ${order}[status]    invoiced
    Should Be Equal As Integers    ${order}[robaws_invoice_id]    777

Update Paired Lists Of Selections And Updations
    [Documentation]    Each selection gets the updation at the same position.
    ${selections}    Evaluate    [{"id": 1}, {"id": 2}]
    ${updations}    Evaluate    [{"quantity": 1}, {"quantity": 2}]
    Update Robostack Records    orders    ${selections}    ${updations}
    ${first}    Get Robostack Record    orders    1
    ${second}    Get Robostack Record    orders    2
    Should Be Equal As Integers    ${first}[quantity]    1
    Should Be Equal As Integers    ${second}[quantity]    2

Delete Records
    [Documentation]    One selection, then a list of selections.
    VAR    &{selection}    status=cancelled
    ${summary}    Delete Robostack Records    orders    ${selection}
    Should Be Equal As Integers    ${summary}[deleted]    2
    ${selections}    Evaluate    [{"order_number": "PO-2024-0001"}, {"order_number": "PO-2024-0002"}]
    ${summary}    Delete Robostack Records    orders    ${selections}
    Should Be Equal As Integers    ${summary}[deleted]    2
    ${count}    Count Robostack Records    orders
    Should Be Equal As Integers    ${count}    6

Aggregate With A Pipeline List
    [Documentation]    $match, $group with every accumulator, then $sort.
    VAR    ${pipeline}
    ...    [{"$match": {"status": "pending"}},
    ...    {"$group": {"_id": "$supplier_id", "orders": {"$count": {}}, "total": {"$sum": "$amount"},
    ...    "average": {"$avg": "$quantity"}, "smallest": {"$min": "$quantity"},
    ...    "largest": {"$max": "$quantity"}}},
    ...    {"$sort": {"total": -1}}]
    ...    separator=${SPACE}
    ${pipeline}    Evaluate    json.loads($pipeline)    modules=json
    ${totals}    Aggregate Robostack Records    orders    ${pipeline}
    VAR    ${expected}
    ...    [{"_id": 1005, "orders": 1, "total": 2580.0, "average": 120.0, "smallest": 120, "largest": 120},
    ...    {"_id": 1001, "orders": 3, "total": 1000.0, "average": 25000 / 3, "smallest": 5000, "largest": 10000},
    ...    {"_id": 1002, "orders": 1, "total": 675.0, "average": 500.0, "smallest": 500, "largest": 500}]
    ...    separator=${SPACE}
    Should Be Equal    ${totals}    ${{ eval($expected) }}

Aggregate A Page With Stages As Arguments
    [Documentation]    $sort, $skip, $limit and $project give one page of a resource.
    ${sort}    Evaluate    {"$sort": {"id": -1}}
    ${skip}    Evaluate    {"$skip": 1}
    ${limit}    Evaluate    {"$limit": 2}
    ${project}    Evaluate    {"$project": {"_id": 0, "order_number": 1}}
    ${page}    Aggregate Robostack Records    orders    ${sort}    ${skip}    ${limit}    ${project}
    ${expected}    Evaluate    [{"order_number": "PO-2024-0009"}, {"order_number": "PO-2024-0008"}]
    Lists Should Be Equal    ${page}    ${expected}

Aggregate A Count
    [Documentation]    $match then $count names the output field.
    ${match}    Evaluate    {"$match": {"status": "pending"}}
    ${count}    Evaluate    {"$count": "pending"}
    ${result}    Aggregate Robostack Records    orders    ${match}    ${count}
    Should Be Equal    ${result}    ${{ [{"pending": 5}] }}

Rate Limit Status
    [Documentation]    The default client-side throttle is 5/s with a burst of 10.
    Count Robostack Records    orders
    ${status}    Get Robostack Rate Limit Status
    Should Be Equal    ${status}[rate]    5/s burst 10
    Should Be True    ${status}[requests] >= 1


*** Keywords ***
Start Robostack Sandbox
    [Documentation]    One sandbox for the suite; the connection comes from its ROBOSTACK_* variables.
    Start Sandbox
    Connect To Robostack

Write Vault File
    [Documentation]    Built in Python from the environment: no credential passes through a
    ...    logged argument.
    VAR    ${write}
    ...    pathlib.Path($VAULT_FILE).write_text(json.dumps({
    ...    "robostack_granted": {"app_uuid": os.environ["ROBOSTACK_APP_UUID"],
    ...    "api_key": os.environ["ROBOSTACK_API_KEY"], "api_secret": os.environ["ROBOSTACK_API_SECRET"]},
    ...    "robostack_ungranted": {"app_uuid": os.environ["ROBOSTACK_APP_UUID"],
    ...    "api_key": os.environ["ROBOSTACK_UNGRANTED_API_KEY"],
    ...    "api_secret": os.environ["ROBOSTACK_UNGRANTED_API_SECRET"]}}))
    ...    separator=${SPACE}
    Evaluate    ${write}    modules=pathlib,json,os

Restore Default Connection
    [Documentation]    Forget the Vault file and connect from the environment again.
    Remove Environment Variable    RPA_SECRET_FILE
    Remove File    ${VAULT_FILE}
    Connect To Robostack
