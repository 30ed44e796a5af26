"""gRPC clients: each implements a domain's use-case Protocol over a channel to the role
that serves it, so a transport cannot tell it from the in-process service."""
