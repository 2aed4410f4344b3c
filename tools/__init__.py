"""Developer tools that are not part of the runtime package (`containai_rpc`).

- `generate_protocol.py`: writes protocol.schema.json, protocol.md's generated blocks and the
  extension's TypeScript types from `containai_rpc/protocol/`;
- `schema-ts/`: the pinned json-schema-to-typescript it runs with node.
"""
