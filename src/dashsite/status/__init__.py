"""Status over time: from the store's log to states, days, uptime and incidents.

It flows one way: the store → the status model → the views the site draws.
"""
