"""gRPC servicers: each RPC is one use-case call, acting as the call's user."""
