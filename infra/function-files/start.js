// Each bundled function's entry (its package.json "main"). The framework is
// already loaded when this runs; what follows it is compiled from the V8 code
// cache that prime-compile-cache.js made at build time. Node skips an entry
// that is missing or stale (another Node, another user, another file) and
// compiles as it would have.
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

enableCompileCache(fileURLToPath(new URL('./.compile-cache/', import.meta.url)));
await import('./index.js');
