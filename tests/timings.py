"""What no seed can fix: wall-clock times, left out when results are compared."""


def without_timings(value):
    """`value` (a result's JSON) without any entry whose key names seconds or a moment."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if "seconds" not in k and k != "finished_at"}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value
