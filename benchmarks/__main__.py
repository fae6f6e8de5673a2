"""Run every benchmark: python -m benchmarks"""

from benchmarks import api_accept

api_accept.main(["--store", "sqlite"])
api_accept.main(["--store", "redis"])
