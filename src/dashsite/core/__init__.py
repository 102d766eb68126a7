"""Core: errors, status levels, names (slugs, version ids), configuration, the reporter.

Everything else imports these; they import nothing else of dashsite's.
"""
