"""`make bench`: latency and SQL statement counts of the main pages on city-scale data."""
