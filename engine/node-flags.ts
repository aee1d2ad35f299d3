// Node's flags for an engine process (`npm run engine`, and every benchmark that starts one, so the
// figures are of what ships). package.json's `engine` script passes the same; a test holds them equal.
//
// --max-semi-space-size=32: V8's young generation, where nearly every object of a request is born
// and dies, at 2 x 32 MB instead of Node 20's 2 x 16 MB. Fewer scavenges, and fewer short-lived
// objects promoted to the old generation. Measured on row 12 (bench/README.md): at 4 engines on
// PostgreSQL, 694-714 µs of engine CPU per earn against 733-810, 1,467-1,472 earns/s against
// 1,285-1,439, in 3 alternating pairs. It costs up to 32 MB more memory per engine process.
export const ENGINE_NODE_FLAGS = ['--max-semi-space-size=32'] as const;
