// `npm run gcp-build`, which Cloud Run's Node.js buildpack runs after it has
// installed the dependencies, in the directory and as the user the function
// will run from: compiles the function and the packages it loads, and keeps
// V8's code for them in .compile-cache for start.js.
import { readFileSync } from 'node:fs';
import { constants, enableCompileCache, flushCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

const enabled = enableCompileCache(fileURLToPath(new URL('./.compile-cache/', import.meta.url)));
if (enabled.status === constants.compileCacheStatus.FAILED) {
  console.warn(`no compile cache: ${enabled.message}`);
  process.exit(0);
}
const { dependencies = {} } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
// Packages a function loads only on first use (the compute client's google-gax) are compiled here too.
for (const name of Object.keys(dependencies)) await import(name);
try {
  await import('./index.js');
} catch (error) {
  // The function is compiled before it runs, so the cache has it.
  console.log(
    `compiled the function; running it here stopped, as it needs settings a build does not have: ${error instanceof Error ? error.message : String(error)}`,
  );
}
flushCompileCache();
console.log(`compile cache written to ${enabled.directory}`);
process.exit(0);
