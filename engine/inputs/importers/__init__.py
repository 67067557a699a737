"""Broker exports read into a scenario: one module per format behind one interface (`Importer`).

`formats.FORMATS` names every importer; `assemble` merges what they read into a household and writes
the scenario. docs/imports.md describes each format, what is documented by the broker and what is not.
"""
