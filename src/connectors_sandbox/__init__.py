"""An offline twin of the four vendor APIs, served on one port with one prefix per vendor.

It never imports the connector clients: it speaks the vendors' protocols as documented in
``api-notes/``, so third-party clients work against it unchanged.
"""
