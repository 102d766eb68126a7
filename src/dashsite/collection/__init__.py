"""Collection: find the dashboards, run their collectors, decide what runs when."""
