"""Run every benchmark: python -m benchmarks"""

from benchmarks import (
    api_accept,
    as4_receive,
    as4_throughput,
    black_hole,
    directory,
    email_channel,
    healthz_under_load,
    inbox_listing,
    large_payload,
    portal_pages,
    routing,
    upload_flood,
    validation,
    validation_instructions,
)

api_accept.main(["--store", "sqlite"])
api_accept.main(["--store", "redis"])
validation.main([])
validation_instructions.main([])
as4_receive.main([])
as4_throughput.main([])
large_payload.main([])
upload_flood.main([])
healthz_under_load.main([])
directory.main([])
routing.main([])
black_hole.main([])
email_channel.main([])
inbox_listing.main(["--store", "sqlite"])
inbox_listing.main(["--store", "redis"])
portal_pages.main(["--store", "sqlite"])
portal_pages.main(["--store", "redis"])
