"""Notifications: rows in an outbox, written in the transaction of the change that causes them
and delivered after the commit.

- ``outbox``: what a change records, one row per recipient and channel, unique by its dedupe key;
- ``dispatch``: hands the ids of new rows to whatever the process installed (arq, or nothing);
- ``delivery``: the states a row moves through, so that a delivery that runs twice sends once;
- ``inbox``: what a user reads (and marks read) of their in-app messages, and the failed ones.

Sending is the workers' business (``workers/delivery.py``, ``workers/channels/``).
"""
