import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFunctionProcess, type FunctionProcess } from '../../harness/function-process.ts';
import { MAX_BODY_BYTES } from '../../../shared/http/framework-errors.ts';
import { startTestStack, type TestStack } from '../stack.ts';

const MIB = 1024 * 1024;

let stack: TestStack;
let logDir: string;
let create: FunctionProcess;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'bodycap' });
  logDir = mkdtempSync(join(tmpdir(), 'allocator-bodycap-'));
  create = await startFunctionProcess({ name: 'create', env: stack.env, logFile: join(logDir, 'create.log') });
});
afterAll(async () => {
  await create?.stop();
  await stack?.stop();
  rmSync(logDir, { recursive: true, force: true });
});

/** The function's own Node process: the harness's pid is the watchdog shell that started it. */
function functionPid(fn: FunctionProcess): number {
  const shell = fn.process.pid;
  const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const node = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--target=${fn.name}`));
  if (node === undefined) throw new Error(`no process serving ${fn.name} under the watchdog ${shell}`);
  return node;
}

/** The resident set of a process, from Linux's /proc. */
function residentBytes(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

/**
 * POSTs `bytes` of JSON-looking text, without a token, in 64 KiB chunks with
 * `Transfer-Encoding: chunked` (no Content-Length), and stops sending once an
 * answer arrives: past the cap the function answers and closes mid-body, so
 * errors writing after the answer are expected.
 */
async function postChunked(url: string, bytes: number): Promise<{ status: number; body: unknown }> {
  const chunk = Buffer.alloc(64 * 1024, ' ');
  return await new Promise((resolve, reject) => {
    let answered = false;
    const req = request(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown }));
    });
    const failed = (error: unknown): void => {
      if (!answered) reject(error);
    };
    req.on('error', failed);
    void (async () => {
      const prefix = '{"padding":"';
      req.write(prefix);
      for (let left = bytes - prefix.length - 2; left > 0 && !answered; left -= chunk.length) {
        if (!req.write(chunk.subarray(0, left))) await once(req, 'drain');
        else await setImmediate(); // reads an early answer between chunks, as curl and fetch do
      }
      if (!answered) req.end('"}');
    })().catch(failed); // once(req, 'drain') rejects on the write error too
  });
}

const tooLarge = {
  error: { code: 413, status: 'PAYLOAD_TOO_LARGE', message: `request body is larger than ${MAX_BODY_BYTES} bytes` },
};

describe('the body cap on a real create process, for bodies without a Content-Length', () => {
  it('lets a chunked body just under the cap through to the token check', async () => {
    const response = await postChunked(create.url, MAX_BODY_BYTES - 100);
    expect(response.status).toBe(401);
  });

  it('answers 413 to a chunked body just over the cap', async () => {
    expect(await postChunked(create.url, MAX_BODY_BYTES + 100)).toEqual({ status: 413, body: tooLarge });
  });

  it('refuses a 20 MiB chunked body without holding it in memory', async () => {
    await postChunked(create.url, MAX_BODY_BYTES + 100); // warm-up: the refusal's code paths are loaded and run once
    await sleep(500);
    const pid = functionPid(create);
    const before = residentBytes(pid);
    expect(await postChunked(create.url, 20 * MIB)).toEqual({ status: 413, body: tooLarge });
    await sleep(500);
    const after = residentBytes(pid);
    console.log(`create's RSS: ${(before / MIB).toFixed(1)} MiB before a 20 MiB chunked body, ${(after / MIB).toFixed(1)} MiB after`);
    expect(after - before).toBeLessThan(5 * MIB);
  });
});
