"""The tamper-evident log: the hash chain, its verification and the auditors' export."""
