"""The evidence vault: tus uploads, content-addressed write-once files, custody, export.

See docs/api/vault.md for the HTTP contract. Modules: ``blobs`` (files on disk and their
hashes), ``hashing`` (incremental SHA-256/512 across resumed uploads), ``probe`` (PyAV:
is it really a video, thumbnail, browser copy, snapshot frame), ``uploads`` (tus state),
``ingest`` (registering an item), ``access`` (verified reads, custody + audit),
``export`` (BagIt case packages) and ``bag_verify`` (``rtcc evidence verify``).
"""
