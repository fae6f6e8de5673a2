"""Run every benchmark: python -m benchmarks"""

from benchmarks import api_accept, as4_receive, as4_throughput, directory, routing, validation

api_accept.main(["--store", "sqlite"])
api_accept.main(["--store", "redis"])
as4_receive.main([])
as4_throughput.main([])
validation.main([])
directory.main([])
routing.main([])
