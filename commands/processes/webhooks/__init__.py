"""The webhook process manager: which events go to which endpoint, signed, in order, retried."""
