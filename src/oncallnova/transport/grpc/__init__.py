"""gRPC transport: the services' contracts (proto/oncallnova/v1) served and called over
`grpc.aio`. Thin like the HTTP transport: authenticate, convert, one service call, map
errors."""
