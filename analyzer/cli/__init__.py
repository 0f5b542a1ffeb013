"""The command line: typer commands, their options, terminal views and exit codes.

Owns turning arguments into calls of the stages below, the one-line errors and exit codes,
the progress bar of a single analysis, and the terminal views of tasks, services and the
inventory.

Imports: plumbing, reading, parsing, detection, collectors, pipeline, outputs, batch.
"""
