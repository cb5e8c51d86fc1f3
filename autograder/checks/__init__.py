"""Hidden checks, one module per assignment (``autograder.checks.a3_cifar`` ...).

A hidden test cell in an assignment notebook is a single call into one of these modules.
"""
