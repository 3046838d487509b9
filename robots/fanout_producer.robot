*** Settings ***
Documentation       Fan-out producer: turns a file of supplier invoices into one work item per invoice.
...
...                 The input work item carries the invoices: an attached CSV, Excel (.xlsx) or JSON file, or
...                 an ``invoices`` list in its payload (columns: see resources/fanout.resource). The robot
...                 checks the rows as a whole, creates one output work item per supplier invoice and
...                 releases its input; in Control Room the next step (robots/fanout_consumer.robot, with
...                 parallel executions) books them. A file that cannot be fanned out (a required column
...                 missing, two different rows for one invoice) fails the input work item as a business
...                 exception and creates no output at all.
...
...                 Running it again on the same input is safe: the consumers book each invoice with an
...                 idempotency key made of its business keys, so Robaws replays instead of creating twice.

Library             RPA.Robocorp.WorkItems    autoload=${False}
Resource            resources/fanout.resource
Resource            resources/summary.resource

Suite Setup         Use Local Producer Work Items


*** Tasks ***
Fan Out Supplier Invoices
    [Documentation]    One output work item per supplier invoice of each input work item.
    ${results}    For Each Input Work Item    Fan Out Invoices Of Work Item
    ${failures}    Evaluate    [result for result in $results if isinstance(result, str)]
    ${invoices}    Evaluate    sum(result for result in $results if not isinstance(result, str))
    VAR    ${line}    Fanned out ${invoices} supplier invoices from ${{ len($results) - len($failures) }} of
    ...    ${{ len($results) }} input work items (${{ len($failures) }} refused); no connector requests
    ...    (the work items travel through RPA.Robocorp.WorkItems)
    Report Summary    ${line}
    Fail Unless All Done    ${failures}    ${{ len($results) }}    input work items    fanned out


*** Keywords ***
Fan Out Invoices Of Work Item
    [Documentation]    The current input work item: one output per invoice and DONE (returns how many), or
    ...    FAILED with the reason (returns "work item <id>: <reason>").
    TRY
        ${payload}    Get Work Item Payload
        ${rows}    Read Invoice Rows    ${payload}
        ${invoices}    Invoice Work Items From Rows    ${rows}
    EXCEPT    No invoices*    *cannot be fanned out*    *is not a list of invoice rows.    type=GLOB    AS    ${error}
        Release Input Work Item    FAILED    exception_type=BUSINESS    code=INVALID_INVOICE_FILE    message=${error}
        ${item}    Get Current Work Item
        RETURN    work item ${item.id}: ${error}
    END
    FOR    ${invoice}    IN    @{invoices}
        Create Output Work Item    variables=${invoice}    save=${True}
    END
    Log    ${{ len($invoices) }} supplier invoice(s) fanned out from ${{ len($rows) }} row(s).
    Release Input Work Item    DONE
    RETURN    ${{ len($invoices) }}
