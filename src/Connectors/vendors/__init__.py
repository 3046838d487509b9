"""One sub-package per vendor: ``client.py`` (the plain Python client) and ``keywords.py``
(Robot Framework keyword components over that client).

The folder is ``vendors/`` rather than ``Connectors/robaws/`` so that no package differs from the
Robot Framework library module (``Connectors/Robaws.py``) only by letter case, which breaks imports
on Windows and macOS file systems.
"""
