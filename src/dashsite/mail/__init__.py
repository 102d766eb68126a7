"""Mail: a dashboard as an email, with inline CSS and a plain-text part."""
