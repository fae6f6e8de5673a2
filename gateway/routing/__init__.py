"""Where each invoice goes, and why.

``decision.decide`` is the waterfall (our participant by its reception
choice, a peer network under its agreement, or paper unless a mandate
forbids it); ``agreements`` checks an interconnection agreement's terms and
sums its fees. Pure: settings, facts and the date in, a decision with its
reasons out.
"""
