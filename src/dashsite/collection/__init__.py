"""Layer 4, collect: find the dashboards, run their collectors, decide what runs when."""
