"""The pure core's decisions.

Routing, agreements, retries, circuit breakers, rate limits and duplicate
keys. Values in, values out: no I/O, no clock reads (time is passed in), no
logging.
"""
