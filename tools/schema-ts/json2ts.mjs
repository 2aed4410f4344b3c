// Reads a JSON Schema on stdin and writes its TypeScript declarations on stdout.
// Called by `python tools/generate_protocol.py`; the options live here, the version
// of json-schema-to-typescript in package-lock.json.
import { compile } from 'json-schema-to-typescript';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const schema = JSON.parse(Buffer.concat(chunks).toString('utf8'));

process.stdout.write(
  await compile(schema, schema.title, {
    bannerComment: '',
    // Receivers ignore unknown fields, but the types list only the documented ones.
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: true,
    unknownAny: true,
    style: { singleQuote: true, printWidth: 100 },
  }),
);
