"""Built-in evidence adapters.

Each adapter is a small package ``evidence_adapters/<name>/`` with the adapter class and a
``README.md`` documenting the fields it reads, its config (the keys of a ``sources:`` entry
in ``aimscheck.yaml``) and its errors. They are found through the ``aimscheck.adapters``
entry-point group, exactly like third-party adapters:

- ``register`` — the AIMS register (AI systems, models, datasets, risks … and their owners)
  as YAML.
- ``hr_csv`` — an HR export (people, employment dates, leave) as CSV with a column mapping.
- ``lms_csv`` — training completions from an LMS report as CSV with a column mapping.
- ``jsonl`` — any normalised evidence record as JSON Lines.
- ``scim`` — people and groups from a SCIM 2.0 identity provider (live or saved pages).
- ``xapi`` — training from an xAPI 1.0.3 learning record store (live or saved pages).

Diagnostic codes used by these adapters (family E3xx, evidence and adapters):

- ``E300`` the source cannot be read (missing file, unreadable, wrong encoding).
- ``E317`` the export has no records (0 bytes, a header with no rows, no users) and the
  source does not say ``allow_empty: true`` — the one code of that class in every adapter.
- ``E301`` a configured column is missing from the CSV header, or appears twice.
- ``E303`` a date or timestamp cannot be parsed (or a period ends before it starts).
- ``E304`` a value is not in the configured value mapping (status, kind …).
- ``E305`` a required value is empty.
- ``E306`` a duplicate id.
- ``E307`` an unknown key.
- ``E308`` a value has the wrong type or shape (also a CSV row with the wrong cell count).
- ``E309`` a JSON Lines record does not fit the evidence model.
- ``E310`` a line is not valid JSON (or not a JSON object).
- ``E311`` a record's evidence kind is missing, unknown, or not declared for the source.
- ``E312`` a row refers to a person the source does not know.
- ``E340``–``E349`` SCIM/xAPI: credentials variable missing (E340), cannot connect or
  connection dropped (E341), 401/403 (E342), other HTTP status (E343), not a
  ListResponse/StatementResult (E344), inconsistent paging (E345), unmapped userType
  (E346), saved pages missing (E348), unusable statement (E349).
"""
