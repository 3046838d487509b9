*** Settings ***
Documentation       A scheduled robot that reads Robaws with OAuth2: the token comes from CONNECTORS_TOKEN_STORE.

Library             Connectors.Robaws


*** Tasks ***
Read Clients With The Stored OAuth Token
    [Documentation]    Connects with the OAuth client of the environment and reads one page of clients.
    Connect To Robaws    client_id=%{ROBAWS_CLIENT_ID}    client_secret=%{ROBAWS_CLIENT_SECRET}
    ${clients}=    List Robaws Clients    limit=1
    Should Not Be Empty    ${clients}
