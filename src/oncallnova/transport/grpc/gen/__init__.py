"""Code generated from proto/oncallnova/v1 by `make proto` (scripts/gen_proto.py).

Import it by its full name, e.g.
`from oncallnova.transport.grpc.gen.oncallnova.v1 import incidents_pb2`. The generator
points the modules' imports of one another at this package, so no import-path shim is
needed; it explains why. Everything below this file is generated: never edit it, change
the .proto files and run `make proto` (a test fails when the two disagree).
"""
