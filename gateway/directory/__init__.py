"""Who is where.

Partner files (``partner_files``), the SMP documents (``smp``), and the
lookup that asks our directory and then the peers' SMPs (``lookup``).
"""
